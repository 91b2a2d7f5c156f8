"""OData query options and server-driven paging through the official SDK."""

import json
from datetime import datetime, timezone

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph_beta.generated.device_management.remote_action_audits.count.count_request_builder import (
    CountRequestBuilder,
)
from msgraph_beta.generated.device_management.remote_action_audits.remote_action_audits_request_builder import (
    RemoteActionAuditsRequestBuilder,
)
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core.tasks.page_iterator import PageIterator

from conftest import SAMPLE_AUDITS

pytestmark = pytest.mark.asyncio(loop_scope="session")

ListParameters = RemoteActionAuditsRequestBuilder.RemoteActionAuditsRequestBuilderGetQueryParameters
CountParameters = CountRequestBuilder.CountRequestBuilderGetQueryParameters
SINCE = datetime(2026, 10, 1, tzinfo=timezone.utc)


def sample_audits():
    with open(SAMPLE_AUDITS, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def failed_since(audit):
    instant = datetime.fromisoformat(audit["requestDateTime"])
    return audit["actionState"] == "failed" and instant >= SINCE


async def test_filter_orderby_top_select_and_count(client, service):
    expected = sorted(
        (a for a in sample_audits() if failed_since(a)),
        key=lambda a: datetime.fromisoformat(a["requestDateTime"]),
        reverse=True,
    )
    parameters = ListParameters(
        filter="actionState eq 'failed' and requestDateTime ge 2026-10-01T00:00:00Z",
        orderby=["requestDateTime desc"],
        top=5,
        select=["id", "action", "requestDateTime"],
        count=True,
    )

    page = await client.device_management.remote_action_audits.get(
        RequestConfiguration(query_parameters=parameters)
    )

    assert page.odata_count == len(expected)
    assert [a.id for a in page.value] == [a["id"] for a in expected[:5]]
    assert all(a.action is not None and a.device_display_name is None for a in page.value)


async def test_count_segment_with_a_filter(client, service):
    expected = sum(1 for a in sample_audits() if a["action"] == "factoryReset")
    parameters = CountParameters(filter="action eq 'factoryReset'")

    count = await client.device_management.remote_action_audits.count.get(
        RequestConfiguration(query_parameters=parameters)
    )

    assert count == expected


async def test_page_iterator_walks_every_audit_once(client, service):
    audits = client.device_management.remote_action_audits
    configuration = RequestConfiguration(query_parameters=ListParameters(count=True))
    configuration.headers.add("Prefer", "odata.maxpagesize=100")
    first = await audits.get(configuration)
    assert len(first.value) == 100 and first.odata_next_link.startswith("http")

    seen = []
    iterator = PageIterator(first, client.request_adapter)
    # PageIterator.set_headers() of msgraph-core 1.5.2 passes the dict as
    # keyword arguments to a method that takes none; add to its headers.
    iterator.headers.add("Prefer", "odata.maxpagesize=100")
    await iterator.iterate(lambda audit: seen.append(audit.id) or True)

    expected = {a["id"] for a in sample_audits()}
    assert len(seen) == len(set(seen)), "no audit arrives twice"
    assert expected <= set(seen), "every sample audit arrives"
    assert first.odata_count == len(seen)


async def test_a_bad_filter_is_an_odata_error(client, service):
    with pytest.raises(ODataError) as raised:
        await client.device_management.remote_action_audits.get(
            RequestConfiguration(query_parameters=ListParameters(filter="action eq"))
        )

    assert raised.value.response_status_code == 400
    assert raised.value.error.code == "BadRequest"

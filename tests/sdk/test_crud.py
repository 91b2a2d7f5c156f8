"""The official msgraph-beta-sdk drives every Graph method, unchanged but
for its base URL."""

import json
from datetime import datetime, timezone

import pytest
from msgraph_beta.generated.models.action_state import ActionState
from msgraph_beta.generated.models.device_action_category import DeviceActionCategory
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.remote_action import RemoteAction
from msgraph_beta.generated.models.remote_action_audit import RemoteActionAudit

from conftest import SAMPLE_AUDITS

pytestmark = pytest.mark.asyncio(loop_scope="session")


def sample(index):
    with open(SAMPLE_AUDITS, encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number == index:
                return json.loads(line)
    raise IndexError(index)


async def test_create_get_update_delete(client):
    audits = client.device_management.remote_action_audits
    requested = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    created = await audits.post(
        RemoteActionAudit(
            action=RemoteAction.RemoteLock,
            action_state=ActionState.Pending,
            request_date_time=requested,
            device_display_name="Renée's iPhone 📱",
        )
    )
    fetched = await audits.by_remote_action_audit_id(created.id).get()

    assert created.id and fetched.id == created.id
    assert fetched.action == RemoteAction.RemoteLock
    assert fetched.action_state == ActionState.Pending
    assert fetched.request_date_time == requested
    assert fetched.device_display_name == "Renée's iPhone 📱"
    assert fetched.device_action_category == DeviceActionCategory.Single

    # The update of the Graph documentation, in its canonical form.
    patch = RemoteActionAudit(
        device_display_name="Device Display Name value",
        user_name="User Name value",
        initiated_by_user_principal_name="Initiated By User Principal Name value",
        action=RemoteAction.FactoryReset,
        request_date_time=datetime.fromisoformat("2016-12-31T23:57:57.248123-08:00"),
        device_owner_user_principal_name="Device Owner User Principal Name value",
        device_i_m_e_i="Device IMEI value",
        action_state=ActionState.Pending,
        managed_device_id="Managed Device Id value",
    )
    updated = await audits.by_remote_action_audit_id(created.id).patch(patch)

    assert updated.action == RemoteAction.FactoryReset
    assert updated.device_i_m_e_i == "Device IMEI value"
    assert updated.request_date_time == datetime(2017, 1, 1, 7, 57, 57, 248123, tzinfo=timezone.utc)
    again = await audits.by_remote_action_audit_id(created.id).get()
    assert again.managed_device_id == "Managed Device Id value"

    await audits.by_remote_action_audit_id(created.id).delete()

    with pytest.raises(ODataError) as raised:
        await audits.by_remote_action_audit_id(created.id).get()
    assert raised.value.response_status_code == 404
    assert raised.value.error.code == "ResourceNotFound"


async def test_imported_audits_read_back_through_the_sdk(client):
    audit = sample(17)

    fetched = await client.device_management.remote_action_audits.by_remote_action_audit_id(
        audit["id"]
    ).get()

    assert fetched.device_display_name == audit["deviceDisplayName"]
    assert fetched.initiated_by_user_principal_name == audit["initiatedByUserPrincipalName"]
    assert fetched.action.value == audit["action"]
    assert fetched.action_state.value == audit["actionState"]
    sent = datetime.fromisoformat(audit["requestDateTime"])
    assert fetched.request_date_time == sent


async def test_list_returns_audits(client):
    page = await client.device_management.remote_action_audits.get()

    assert len(page.value) > 0
    assert all(audit.id for audit in page.value)


async def test_ids_with_reserved_characters_round_trip(client):
    audits = client.device_management.remote_action_audits
    created = await audits.post(RemoteActionAudit(id="a/b c?d", action=RemoteAction.RebootNow))

    fetched = await audits.by_remote_action_audit_id("a/b c?d").get()

    assert created.id == fetched.id == "a/b c?d"
    await audits.by_remote_action_audit_id("a/b c?d").delete()


async def test_validation_errors_surface_as_odata_errors(client):
    audits = client.device_management.remote_action_audits
    duplicate = sample(3)

    with pytest.raises(ODataError) as raised:
        await audits.post(RemoteActionAudit(id=duplicate["id"], action=RemoteAction.RebootNow))

    assert raised.value.response_status_code == 409
    assert raised.value.error.code == "Conflict"

"""Bearer tokens and permissions as the official SDK sees them."""

import pytest
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.remote_action import RemoteAction
from msgraph_beta.generated.models.remote_action_audit import RemoteActionAudit

from conftest import graph_client

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_read_only_token_reads_but_cannot_write(service):
    token = service.run("token", "--scope", "DeviceManagementManagedDevices.Read.All").strip()
    client = graph_client(service.base_url, token)
    audits = client.device_management.remote_action_audits

    page = await audits.get()
    with pytest.raises(ODataError) as raised:
        await audits.post(RemoteActionAudit(action=RemoteAction.RebootNow))

    assert page.value
    assert raised.value.response_status_code == 403
    assert raised.value.error.code == "Forbidden"
    assert "DeviceManagementConfiguration.ReadWrite.All" in raised.value.error.message


async def test_an_application_token_works_like_a_delegated_one(service):
    token = service.run(
        "token", "--app", "--scope", "DeviceManagementManagedDevices.ReadWrite.All"
    ).strip()
    audits = graph_client(service.base_url, token).device_management.remote_action_audits

    created = await audits.post(RemoteActionAudit(action=RemoteAction.RebootNow))

    assert created.id
    await audits.by_remote_action_audit_id(created.id).delete()


async def test_no_token_is_an_invalid_authentication_token_error(service):
    audits = graph_client(service.base_url, None).device_management.remote_action_audits

    with pytest.raises(ODataError) as raised:
        await audits.get()

    assert raised.value.response_status_code == 401
    assert raised.value.error.code == "InvalidAuthenticationToken"

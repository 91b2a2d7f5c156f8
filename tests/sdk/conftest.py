"""Fixtures: the real service binary on a free loopback port, with the
sample audits imported, and an official Graph SDK client pointed at it."""

import os
import pathlib
import re
import subprocess
import tempfile

import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph_beta import GraphRequestAdapter, GraphServiceClient

REPO = pathlib.Path(__file__).resolve().parents[2]
SAMPLE_AUDITS = REPO.parent / "shared" / "data" / "audits-2k.jsonl"
BINARY = pathlib.Path(os.environ.get("RAA_BIN", REPO / "target" / "debug" / "remote-action-audits"))


class Service:
    """A running `remote-action-audits serve` process."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0", *extra_args],
            stderr=subprocess.PIPE,
            text=True,
        )
        self.base_url = self._wait_for_address()

    def _wait_for_address(self):
        for line in self.process.stderr:
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                return match.group(1)
        raise RuntimeError(f"the service exited with {self.process.wait()}")

    def run(self, *args):
        """Runs another subcommand on the same data directory."""
        return subprocess.run(
            [str(BINARY), *args, "--data-dir", self.data_dir],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class StaticToken(AccessTokenProvider):
    """Hands the SDK's bearer-token provider one token (`None` sends none)."""

    def __init__(self, token):
        self.token = token

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token or ""

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator(["127.0.0.1"])


def graph_client(base_url, token=None):
    """A GraphServiceClient whose only change is its base URL."""
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))
    adapter.base_url = base_url
    return GraphServiceClient(request_adapter=adapter)


@pytest.fixture(scope="session")
def service():
    with tempfile.TemporaryDirectory() as data_dir:
        subprocess.run(
            [str(BINARY), "import", "--data-dir", data_dir, str(SAMPLE_AUDITS)],
            check=True,
            capture_output=True,
        )
        running = Service(data_dir)
        yield running
        running.stop()


@pytest.fixture(scope="session")
def read_write_token(service):
    """A token from `remote-action-audits token`, as the README shows."""
    return service.run("token").strip()


@pytest.fixture
def client(service, read_write_token):
    return graph_client(service.base_url, read_write_token)

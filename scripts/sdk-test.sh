#!/usr/bin/env bash
# Drives the service with the official Microsoft Graph beta SDK for Python.
# Installs the SDK from PyPI into .venv on first use, builds the binary, and
# runs the pytest suite in tests/sdk against it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt

cargo build --quiet --bin remote-action-audits
cd tests/sdk
../../.venv/bin/python -m pytest -q "$@"

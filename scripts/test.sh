#!/usr/bin/env bash
# The whole test suite: the Rust unit and integration tests, then the
# official Graph SDK driving the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --all-targets
scripts/sdk-test.sh

#!/usr/bin/env bash
# The project's one test command.
#
# 1. every test against the embedded SQLite store;
# 2. the integration suite again against PostgreSQL (started when it is
#    not running), each test in a schema of its own;
# 3. the fault tests, one at a time, after the suites: they stop
#    PostgreSQL, kill the service and fill disks, which would disturb
#    tests running beside them;
# 4. the official Microsoft Graph SDK for Python driving the real binary.
#
# RAA_TEST_DATABASE_URL names the PostgreSQL database (default: this
# machine's test database).
set -euo pipefail
cd "$(dirname "$0")/.."

export RAA_TEST_DATABASE_URL="${RAA_TEST_DATABASE_URL:-postgres://root@127.0.0.1:5432/test}"

step() { printf '\n== %s\n' "$*"; }

start_postgres() {
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        return
    fi
    step "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && return
        sleep 1
    done
    echo "PostgreSQL did not start" >&2
    exit 1
}

# Drops the schemas that failed tests left behind in the test database.
drop_leftover_schemas() {
    psql -q "$RAA_TEST_DATABASE_URL" -Atc \
        "SELECT 'DROP SCHEMA ' || nspname || ' CASCADE;' FROM pg_namespace
         WHERE nspname LIKE 'raa\_test\_%' OR nspname LIKE 'raa\_fault\_%'" |
        psql -q "$RAA_TEST_DATABASE_URL" >/dev/null
}

step "all tests on SQLite"
RAA_TEST_DATABASE_URL= cargo test

step "integration suite on PostgreSQL"
start_postgres
cargo test --test api

step "fault tests (SQLite and PostgreSQL), one at a time"
cargo test --test faults -- --test-threads=1 --nocapture
start_postgres
drop_leftover_schemas

step "the official Graph SDK against the binary"
scripts/sdk-test.sh

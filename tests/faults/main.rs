//! Fault tests: the real binary while its database goes away or stops
//! answering, while it is killed mid-write, and while its disk fails. They stop the shared
//! PostgreSQL and mount file systems, so they run apart from the other
//! suites and one at a time (`scripts/test.sh` runs them with
//! `--test-threads=1`).

mod kill;
mod outage;
mod sqlite_files;
mod stall;
mod support;

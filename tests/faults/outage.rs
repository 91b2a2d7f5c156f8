//! PostgreSQL stops while the service is under load, then comes back.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::{Server, Store, assert_graph_error, assert_recovered, client};

/// Runs `pg_ctlcluster` on this machine's cluster; returns whether it
/// succeeded.
fn cluster(action: &str) -> bool {
    let command =
        format!("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main {action}");
    Command::new("sh")
        .args(["-c", &command])
        .status()
        .is_ok_and(|status| status.success())
}

/// Starts PostgreSQL again however the test ends.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        let running = Command::new("pg_isready")
            .args(["-q", "-h", "127.0.0.1"])
            .status()
            .is_ok_and(|status| status.success());
        if !running {
            cluster("start");
        }
    }
}

/// Writers and readers that run until told to stop, keeping every status.
fn start_load(
    server: &Arc<Server>,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<u16>>> {
    (0..4)
        .map(|task| {
            let (server, stop, client) = (server.clone(), stop.clone(), client());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let write = server.create(&client, &format!("load-{task}-{n}")).await;
                    statuses.push(write.expect("an answer, never a hang").status().as_u16());
                    let read = client
                        .get(server.audit_url(&format!("load-{task}-1")))
                        .send()
                        .await;
                    statuses.push(read.expect("an answer, never a hang").status().as_u16());
                }
                statuses
            })
        })
        .collect()
}

/// The status, `Retry-After` and Graph error of a request made while the
/// database is down.
async fn expect_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), 503, "{}", response.url());
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_graph_error(&body, "ServiceUnavailable");
}

#[tokio::test]
async fn an_outage_is_a_prompt_503_and_the_service_recovers_without_a_restart() {
    let _restart = Restart;
    let store = Store::fresh_postgres().await;
    let server = Arc::new(Server::start(&store, &["--database-timeout", "2s"]));
    let (client, stop) = (client(), Arc::new(AtomicBool::new(false)));
    let load = start_load(&server, &stop);
    assert_eq!(
        server.create(&client, "before").await.unwrap().status(),
        201
    );

    // While the database is down every request still gets an answer.
    assert!(cluster("stop"), "PostgreSQL stops");
    for url in [server.root_url("/readyz"), server.audit_url("before")] {
        expect_unavailable(client.get(url).send().await.expect("an answer")).await;
    }
    expect_unavailable(server.create(&client, "during").await.expect("an answer")).await;

    // Back again: the same process serves reads and writes.
    assert!(cluster("start"), "PostgreSQL starts");
    assert_recovered(&client, &server).await;

    stop.store(true, Ordering::Relaxed);
    for task in load {
        let statuses = task.await.expect("the load ran");
        let unexpected: Vec<_> = statuses
            .iter()
            .filter(|s| ![200, 201, 503].contains(*s))
            .collect();
        assert!(unexpected.is_empty(), "statuses under load: {unexpected:?}");
    }
    store.remove().await;
}

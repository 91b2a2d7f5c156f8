//! The service killed with SIGKILL while clients write: every write that
//! was acknowledged with a 2xx is there after a restart.

use std::sync::Arc;

use tokio::sync::Mutex;

use crate::support::{Endpoint, Server, Store, client};

/// Writes the service acknowledged: created ids, and the user name each
/// acknowledged update set.
#[derive(Default)]
struct Acknowledged {
    created: Vec<String>,
    renamed: Vec<(String, String)>,
}

impl Acknowledged {
    fn count(&self) -> usize {
        self.created.len() + self.renamed.len()
    }
}

/// Writers that create an audit, then rename it, until the service dies.
fn start_writers(
    endpoint: &Endpoint,
    acks: &Arc<Mutex<Acknowledged>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..6)
        .map(|task| {
            let (endpoint, acks, client) = (endpoint.clone(), acks.clone(), client());
            tokio::spawn(async move {
                for n in 0.. {
                    let id = format!("kill-{task}-{n}");
                    match endpoint.create(&client, &id).await {
                        Ok(r) if r.status().is_success() => {
                            acks.lock().await.created.push(id.clone());
                        }
                        _ => return,
                    }

                    let name = format!("renamed-{n}");
                    match endpoint.rename(&client, &id, &name).await {
                        Ok(r) if r.status().is_success() => {
                            acks.lock().await.renamed.push((id, name));
                        }
                        _ => return,
                    }
                }
            })
        })
        .collect()
}

/// Waits until at least `count` writes were acknowledged, for a minute at
/// most.
async fn wait_for_acks(acks: &Mutex<Acknowledged>, count: usize) {
    for _ in 0..3000 {
        if acks.lock().await.count() >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("fewer than {count} writes were acknowledged within a minute");
}

/// Checks every acknowledged write against a fresh process on `store`.
async fn check_survivors(store: &Store, acks: &Acknowledged) {
    let restarted = Server::start(store, &[]);
    let client = client();
    for id in &acks.created {
        let response = client.get(restarted.audit_url(id)).send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "the acknowledged create of {id} was lost"
        );
    }
    for (id, name) in &acks.renamed {
        let response = client.get(restarted.audit_url(id)).send().await.unwrap();
        let audit: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            audit["userName"],
            name.as_str(),
            "the acknowledged update of {id} was lost"
        );
    }
    eprintln!(
        "{} creates and {} updates acknowledged before SIGKILL, all present after restart",
        acks.created.len(),
        acks.renamed.len()
    );
}

async fn every_acknowledged_write_survives_a_kill(store: &Store) {
    let server = Server::start(store, &[]);
    let acks = Arc::new(Mutex::new(Acknowledged::default()));
    let writers = start_writers(&server, &acks);

    wait_for_acks(&acks, 400).await;
    server.kill();
    for writer in writers {
        writer.await.expect("a writer ran");
    }

    check_survivors(store, &*acks.lock().await).await;
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::Sqlite(dir.path().join("data"));

    every_acknowledged_write_survives_a_kill(&store).await;
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    let store = Store::fresh_postgres().await;

    every_acknowledged_write_survives_a_kill(&store).await;
    store.remove().await;
}

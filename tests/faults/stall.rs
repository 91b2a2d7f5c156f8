//! PostgreSQL stops answering without closing its connections (a hung
//! server, a network partition): requests still end, as 503s, within the
//! database timeout, and the service recovers when answers flow again.
//!
//! The stall is made by a loopback proxy between the service and the
//! database that stops forwarding when told to.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{Server, Store, assert_graph_error, assert_recovered, client};

/// Forwards bytes from `from` to `to`, holding them while `frozen`.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buffer = vec![0; 16 * 1024];
    while let Ok(read) = from.read(&mut buffer).await {
        if read == 0 {
            return;
        }
        while frozen.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// A proxy to `upstream` on a free loopback port; returns the port.
async fn start_proxy(upstream: String, frozen: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(forward(client_read, server_write, frozen.clone()));
            tokio::spawn(forward(server_read, client_write, frozen.clone()));
        }
    });
    port
}

// Two workers: starting the service blocks one while the proxy, on the
// other, already forwards its first connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_database_is_a_503_within_the_timeout_then_recovers() {
    let store = Store::fresh_postgres().await;
    let frozen = Arc::new(AtomicBool::new(false));
    let port = start_proxy(store.host_and_port(), frozen.clone()).await;
    let server = Server::start(&store.through_port(port), &["--database-timeout", "1s"]);
    let client = client();
    assert_eq!(
        server.create(&client, "before").await.unwrap().status(),
        201
    );

    // Nothing comes back from the database; the client still gets answers.
    frozen.store(true, Ordering::Relaxed);
    for url in [server.root_url("/readyz"), server.audit_url("before")] {
        let response = client
            .get(url)
            .send()
            .await
            .expect("an answer, never a hang");
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_graph_error(&body, "ServiceUnavailable");
    }
    let write = server.create(&client, "during").await.expect("an answer");
    assert_eq!(write.status(), 503);

    frozen.store(false, Ordering::Relaxed);
    assert_recovered(&client, &server).await;

    server.kill();
    store.remove().await;
}

//! The SQLite file cannot be written: it is read-only, or its disk is full.
//! Writes fail with a clear Graph error, reads go on, and nothing is
//! corrupted. The faults are made with mounts (a read-only bind mount, a
//! small tmpfs), which need root or CAP_SYS_ADMIN.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Server, Store, assert_graph_error, client};

/// A tmpfs of `size` mounted on a temporary directory; unmounted on drop.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    fn new(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        mount(
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"],
            dir.path(),
        );
        Mount { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// `source` again, read-only, on a directory of its own.
    fn read_only_view(source: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        mount(&["--bind", &source.display().to_string()], dir.path());
        mount(&["-o", "remount,bind,ro"], dir.path());
        Mount { dir }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn mount(options: &[&str], target: &Path) {
    let status = Command::new("mount")
        .args(options)
        .arg(target)
        .status()
        .expect("mount runs");
    assert!(
        status.success(),
        "mounting needs root: mount {options:?} failed"
    );
}

/// Checks that the SQLite file is sound.
fn integrity(data_dir: &Path) -> String {
    let conn = rusqlite::Connection::open(data_dir.join("audits.sqlite3")).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_read_only_database_refuses_writes_and_serves_reads() {
    let written = tempfile::tempdir().unwrap();
    let store = Store::Sqlite(written.path().to_path_buf());
    let server = Server::start(&store, &[]);
    let client = client();
    assert_eq!(
        server.create(&client, "written").await.unwrap().status(),
        201
    );
    server.kill();

    // The same files, seen through a read-only bind mount.
    let view = Mount::read_only_view(written.path());
    let server = Server::start(&Store::Sqlite(view.path()), &[]);
    let write = server.create(&client, "refused").await.unwrap();
    let (status, retry_after) = (write.status(), write.headers().contains_key("retry-after"));
    let body: serde_json::Value = write.json().await.unwrap();
    let read = client
        .get(server.audit_url("written"))
        .send()
        .await
        .unwrap();

    assert_eq!(status, 503, "{body}");
    assert!(retry_after);
    assert_graph_error(&body, "ServiceUnavailable");
    assert_eq!(read.status(), 200);
    server.kill();
    assert_eq!(integrity(written.path()), "ok");
}

/// Fills the file system of `dir` with one file, until the disk is full.
fn fill(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", filler.display()))
        .stderr(std::process::Stdio::null())
        .status();
    filler
}

#[tokio::test]
async fn a_full_disk_refuses_writes_and_serves_reads() {
    let disk = Mount::new("16m");
    let store = Store::Sqlite(disk.path().join("data"));
    let server = Server::start(&store, &[]);
    let client = client();
    assert_eq!(
        server.create(&client, "written").await.unwrap().status(),
        201
    );

    let filler = fill(&disk.path());
    let mut refused = None;
    for n in 0..200 {
        let response = server.create(&client, &format!("more-{n}")).await.unwrap();
        if response.status() != 201 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("a write is refused once the disk is full");
    assert_eq!(refused.status(), 507);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_graph_error(&body, "InsufficientStorage");
    let read = client
        .get(server.audit_url("written"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);

    std::fs::remove_file(filler).unwrap();
    assert_eq!(server.create(&client, "later").await.unwrap().status(), 201);
    server.kill();
    assert_eq!(integrity(&disk.path().join("data")), "ok");
}

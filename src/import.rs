//! `import`: loading audits from JSON Lines.
//!
//! Each line is checked by the same rules as a `POST` body (members after
//! `unknownFutureValue` are accepted, as an import speaks for the service
//! itself) and must carry an `id`, which makes a second import of the same
//! file add nothing. A bad line is reported with its number and reason and
//! the rest go on; good lines are written in batches, one transaction each.

use std::fmt;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::domain::{AuditInput, BodyKind, RemoteActionAudit};
use crate::storage::AuditStore;

const BATCH_SIZE: usize = 2000;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: u64,
    pub already_present: u64,
    pub rejected: u64,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {}, already present {}, rejected {}",
            self.imported, self.already_present, self.rejected
        )
    }
}

/// Imports `path` ("-" for stdin), reporting bad lines on stderr.
pub async fn import_file(store: &dyn AuditStore, path: &Path) -> anyhow::Result<ImportSummary> {
    let (reader, length): (Box<dyn Read + Send>, Option<u64>) = if path == Path::new("-") {
        (Box::new(std::io::stdin()), None)
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let length = file.metadata().ok().map(|m| m.len());
        (Box::new(file), length)
    };

    let progress = progress_bar(length);
    let mut reader = BufReader::new(progress.wrap_read(reader));
    let summary = import_lines(store, &mut reader, |line, reason| {
        progress.suspend(|| eprintln!("line {line}: {reason}"));
    })
    .await;
    progress.finish_and_clear();
    summary
}

/// Imports every line of `reader`; `report(line_number, reason)` hears of
/// each rejected line.
pub async fn import_lines(
    store: &dyn AuditStore,
    reader: &mut dyn BufRead,
    mut report: impl FnMut(u64, &str),
) -> anyhow::Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    let mut line = Vec::new();
    let mut number = 0u64;

    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .context("cannot read the input")?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }

        match parse_line(&line) {
            Ok(audit) => batch.push(audit),
            Err(reason) => {
                summary.rejected += 1;
                report(number, &reason);
            }
        }
        if batch.len() >= BATCH_SIZE {
            write_batch(store, &mut batch, &mut summary).await?;
        }
    }

    write_batch(store, &mut batch, &mut summary).await?;
    Ok(summary)
}

fn parse_line(line: &[u8]) -> Result<RemoteActionAudit, String> {
    let input = AuditInput::parse(line, BodyKind::Create, true).map_err(|e| e.message)?;
    if input.id.is_none() {
        return Err(
            "an imported audit needs an 'id', so that importing twice adds nothing.".to_owned(),
        );
    }
    input.into_new_audit().map_err(|e| e.message)
}

async fn write_batch(
    store: &dyn AuditStore,
    batch: &mut Vec<RemoteActionAudit>,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }

    // The same id twice in one batch would be refused by the store as a
    // whole; keep the first, as a second import would.
    let mut seen = std::collections::HashSet::new();
    let before = batch.len();
    batch.retain(|audit| seen.insert(audit.id.clone()));
    summary.already_present += (before - batch.len()) as u64;

    let outcome = store
        .import(batch)
        .await
        .context("cannot write a batch of audits")?;
    summary.imported += outcome.inserted;
    summary.already_present += outcome.already_present;
    batch.clear();
    Ok(())
}

fn progress_bar(length: Option<u64>) -> ProgressBar {
    let bar = match length {
        Some(length) => ProgressBar::new(length),
        None => ProgressBar::new_spinner(),
    };
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {elapsed} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

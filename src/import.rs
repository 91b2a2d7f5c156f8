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

const BATCH_SIZE: usize = 20_000;
/// The longest line accepted, as the API's default body limit.
const MAX_LINE_BYTES: usize = 1024 * 1024;
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

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
        progress.suspend(|| eprintln!("line {line}: {}", printable(reason)));
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
        let read = read_line(reader, &mut line).context("cannot read the input")?;
        let Some(complete) = read else { break };
        number += 1;
        if number == 1 && line.starts_with(BYTE_ORDER_MARK) {
            line.drain(..BYTE_ORDER_MARK.len());
        }
        if complete && line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }

        let parsed = if complete {
            parse_line(&line)
        } else {
            Err(format!("the line is longer than {MAX_LINE_BYTES} bytes."))
        };
        match parsed {
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

/// Reads one line into `line`, keeping at most [`MAX_LINE_BYTES`] of it.
/// `None` at the end of input; `Some(false)` for a line that was too long
/// (the rest of it is skipped).
fn read_line(reader: &mut dyn BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    let mut read_any = false;
    let mut complete = true;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(read_any.then_some(complete));
        }
        read_any = true;

        let (chunk, found_end) = match buffer.iter().position(|b| *b == b'\n') {
            Some(end) => (&buffer[..=end], true),
            None => (buffer, false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        complete &= chunk.len() <= room || (found_end && chunk.len() == room + 1);
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let consumed = chunk.len();
        reader.consume(consumed);
        if found_end {
            return Ok(Some(complete));
        }
    }
}

/// A reason with control characters escaped, safe to print on a terminal.
fn printable(reason: &str) -> String {
    reason
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn parse_line(line: &[u8]) -> Result<RemoteActionAudit, String> {
    let input = AuditInput::parse(line, BodyKind::Create, true).map_err(|e| {
        e.message.replacen(
            "The request body is not valid",
            "The line is not valid JSON",
            1,
        )
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<(Vec<u8>, bool)> {
        let mut reader = std::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        let mut line = Vec::new();
        while let Some(complete) = read_line(&mut reader, &mut line).unwrap() {
            out.push((std::mem::take(&mut line), complete));
        }
        out
    }

    #[test]
    fn reads_lines_across_buffer_boundaries() {
        let read = lines(b"first line\nsecond\n\nlast");
        let texts: Vec<&[u8]> = read.iter().map(|(l, _)| l.as_slice()).collect();
        assert_eq!(texts, [&b"first line\n"[..], b"second\n", b"\n", b"last"]);
        assert!(read.iter().all(|(_, complete)| *complete));
    }

    #[test]
    fn cuts_overlong_lines_and_goes_on() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nnext\n");
        let read = lines(&input);
        assert_eq!(read.len(), 2);
        assert!(!read[0].1);
        assert_eq!(read[0].0.len(), MAX_LINE_BYTES);
        assert_eq!(read[1], (b"next\n".to_vec(), true));
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_complete() {
        let mut input = vec![b'x'; MAX_LINE_BYTES];
        input.push(b'\n');
        assert!(lines(&input)[0].1);
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\u{1b}[31mb\u{7}"), "a\\u{1b}[31mb\\u{7}");
    }
}

//! `dlq export FILE [--delete]`: every message's original event, one JSON line each, in a new
//! file.
//!
//! The file is written directly (a rename at the end would leave, after a kill, lines of
//! deleted messages only in a temporary file): each batch's lines are appended with one write
//! and flushed to disk (`fsync`) before any of its messages is deleted. A killed export thus
//! leaves a file whose every complete line is an event, and no deleted message without its
//! line; at worst a last line without its newline, of messages still in the queue. An existing
//! file is refused, so that a second export never overwrites the lines of messages the first
//! one deleted.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::event::{DeadLetter, jsonl_line};
use super::read::{Depth, Reader, depth};
use super::{Dlq, DlqError};
use crate::aws::AwsClients;
use crate::engine::StepError;

/// How long an export hides what it reads: until its line is on disk and, with `delete`, the
/// message is deleted (messages not deleted are made visible again at the end).
const EXPORT_HIDE_SECONDS: i32 = 60;

#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub path: PathBuf,
    /// Delete each message once its line is on disk.
    pub delete: bool,
}

/// What an export did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Exported {
    pub file: PathBuf,
    /// Lines written (one per message).
    pub written: usize,
    /// Of those, messages whose body was not JSON (written as a JSON string).
    pub not_json: usize,
    pub deleted: usize,
    /// Messages written but not deleted (with `delete`): message id and why.
    pub delete_failed: Vec<(String, String)>,
    /// What the queue holds after the export.
    pub left: Depth,
    /// Why the export stopped before the queue was read to the end.
    pub stopped: Option<String>,
    pub warnings: Vec<String>,
}

impl Exported {
    /// Whether something failed (exit 1): a delete, or the export itself.
    pub fn failed(&self) -> bool {
        !self.delete_failed.is_empty() || self.stopped.is_some()
    }
}

/// Creates `path`, refusing an existing file, and makes its directory entry durable.
pub fn create(path: &Path) -> Result<File, DlqError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
                "it exists (an export never overwrites one: name a new file)".to_string()
            } else {
                e.to_string()
            };
            DlqError::BadInput(format!("cannot create {}: {why}", path.display()))
        })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(file)
}

/// Reads the queue to the end, appending each batch's lines to `file` and flushing them to
/// disk, then (with `delete`) deleting those messages.
pub async fn run(
    aws: &AwsClients,
    dlq: &Dlq,
    mut file: File,
    request: &ExportRequest,
) -> Result<Exported, DlqError> {
    let mut done = Exported {
        file: request.path.clone(),
        ..Exported::default()
    };
    let start = depth(aws, &dlq.url).await?;
    let wait = Duration::from_secs(EXPORT_HIDE_SECONDS as u64 + 5);
    let mut reader = Reader::new(aws, &dlq.url, EXPORT_HIDE_SECONDS)
        .waiting_for_in_flight(start.in_flight, wait);
    if start.total() > 0
        && let Err(e) = export_all(&mut reader, &mut file, request, &mut done).await
    {
        done.stopped = Some(e.to_string());
    }
    done.warnings.extend(reader.release().await);
    if done.stopped.is_none() && (done.written as u64) < start.total() {
        done.warnings.push(format!(
            "the queue held about {} messages when the export started and {} were exported: \
             the others were taken meanwhile, or held by a consumer beyond the wait",
            start.total(),
            done.written
        ));
    }
    done.left = depth(aws, &dlq.url).await?;
    Ok(done)
}

async fn export_all(
    reader: &mut Reader<'_>,
    file: &mut File,
    request: &ExportRequest,
    done: &mut Exported,
) -> Result<(), StepError> {
    loop {
        let batch = reader.next(10).await?;
        if batch.is_empty() {
            return Ok(());
        }
        write_lines(file, &batch, done).map_err(|e| {
            StepError::permanent(format!("writing {}: {e}", request.path.display()))
        })?;
        if request.delete {
            let letters: Vec<&DeadLetter> = batch.iter().collect();
            let (deleted, failed) = reader.delete(&letters).await?;
            done.deleted += deleted.len();
            done.delete_failed.extend(failed);
        }
    }
}

/// Appends the batch's lines with one write and flushes them to disk.
fn write_lines(file: &mut File, batch: &[DeadLetter], done: &mut Exported) -> std::io::Result<()> {
    let mut text = String::new();
    let mut not_json = 0;
    for d in batch {
        let (line, json) = jsonl_line(&d.body);
        not_json += usize::from(!json);
        text.push_str(&line);
        text.push('\n');
    }
    file.write_all(text.as_bytes())?;
    file.sync_data()?;
    done.written += batch.len();
    done.not_json += not_json;
    Ok(())
}

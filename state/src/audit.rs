//! `checkpoints.log`: an append-only record of every transition, one JSON object a line.
//!
//! Each line carries the whole step record after the transition, so the source of truth can be
//! rebuilt from this log alone if `state.json` is ever lost or corrupt.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::fsutil;
use crate::status::{LedgerState, Resource, StepRecord, StepStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum AuditEvent {
    Transition {
        step: String,
        from: StepStatus,
        to: StepStatus,
        record: StepRecord,
    },
    ResourceRecorded {
        resource: Resource,
    },
    ResourceForgotten {
        kind: String,
        name: String,
    },
    /// `deploy reset` of one step, or of everything (`step: None`).
    Reset {
        step: Option<String>,
    },
    Destroyed,
    LockTakenOver {
        previous_pid: u32,
        previous_command: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub pid: u32,
    #[serde(flatten)]
    pub event: AuditEvent,
}

pub fn append(path: &Path, event: AuditEvent) -> io::Result<()> {
    let entry = AuditEntry {
        at: Timestamp::now(),
        pid: std::process::id(),
        event,
    };
    let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut f = fsutil::append(path)?;
    f.write_all(&line)?;
    f.sync_data()
}

/// Reads every complete entry. A line that does not parse (a write torn by a crash, which can
/// only be the last one) is skipped and counted.
pub fn read(path: &Path) -> io::Result<(Vec<AuditEntry>, usize)> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    let mut skipped = 0;
    for line in BufReader::new(f).split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<AuditEntry>(&line) {
            Ok(e) => entries.push(e),
            Err(_) => skipped += 1,
        }
    }
    Ok((entries, skipped))
}

/// Replays the audit log into a ledger state.
pub fn replay(entries: &[AuditEntry]) -> LedgerState {
    let mut state = LedgerState::default();
    for e in entries {
        match &e.event {
            AuditEvent::Transition { step, record, .. } => {
                state.steps.insert(step.clone(), record.clone());
            }
            AuditEvent::ResourceRecorded { resource } => {
                state.retired.retain(|r| !r.same_identity(resource));
                state.destroyed_at = None;
                state.record_resource(resource.clone());
            }
            AuditEvent::ResourceForgotten { kind, name } => {
                let gone: Vec<Resource> = state
                    .inventory
                    .iter()
                    .filter(|r| &r.kind == kind && &r.name == name)
                    .cloned()
                    .collect();
                state.retired.extend(gone);
                state.forget_resource(kind, name);
            }
            AuditEvent::Reset { step: Some(s) } => {
                state.steps.remove(s);
            }
            AuditEvent::Reset { step: None } => state = LedgerState::default(),
            AuditEvent::Destroyed => {
                state.destroyed_at = Some(e.at);
                let gone = std::mem::take(&mut state.inventory);
                state.retired.extend(gone);
                state.steps.clear();
            }
            AuditEvent::LockTakenOver { .. } => {}
        }
        state.updated_at = Some(e.at);
    }
    state
}

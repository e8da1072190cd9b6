//! The ledger directory as a whole: load, lock, transition, record.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use crate::audit::{self, AuditEvent};
use crate::error::LedgerError;
use crate::fsutil;
use crate::journal::{self, Level};
use crate::lock::{self, LedgerLock, LockHolder};
use crate::status::{
    EmulatorRecord, LedgerState, Resource, SCHEMA_VERSION, StepRecord, StepStatus,
};

pub const STATE_FILE: &str = "state.json";
pub const AUDIT_FILE: &str = "checkpoints.log";
pub const LOCK_FILE: &str = "deploy.lock";

/// What opening the ledger for writing found and repaired.
#[derive(Debug, Default)]
pub struct Recovery {
    /// A previous holder that never released the lock (its process died).
    pub previous_holder: Option<LockHolder>,
    /// Steps that were `in_progress` and are now `interrupted`.
    pub interrupted: Vec<String>,
}

#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    state: LedgerState,
    lock: Option<LedgerLock>,
}

impl Ledger {
    /// Reads the ledger without locking it (for `status`, `plan`, `logs`). A missing directory
    /// is an empty ledger.
    pub fn open_read(dir: &Path) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            dir: dir.to_path_buf(),
            state: load(dir)?,
            lock: None,
        })
    }

    /// Creates the directory if needed, takes the lock, and turns steps a dead run left
    /// `in_progress` into `interrupted`.
    pub fn open_locked(
        dir: &Path,
        holder: &LockHolder,
        wait: Option<Duration>,
    ) -> Result<(Ledger, Recovery), LedgerError> {
        fsutil::private_dir(dir).map_err(|source| LedgerError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let (lock, previous_holder) = lock::acquire(&dir.join(LOCK_FILE), holder, wait)?;
        fsutil::remove_stale_temps(dir);
        let state = load(dir)?;
        let mut ledger = Ledger {
            dir: dir.to_path_buf(),
            state,
            lock: Some(lock),
        };
        let mut recovery = Recovery {
            previous_holder,
            interrupted: Vec::new(),
        };
        if let Some(prev) = &recovery.previous_holder {
            ledger.audit(AuditEvent::LockTakenOver {
                previous_pid: prev.pid,
                previous_command: prev.command.clone(),
            })?;
        }
        let stuck: Vec<String> = ledger
            .state
            .steps
            .iter()
            .filter(|(_, r)| r.status == StepStatus::InProgress)
            .map(|(n, _)| n.clone())
            .collect();
        for step in stuck {
            let who = recovery
                .previous_holder
                .as_ref()
                .map(|h| format!("pid {} ({})", h.pid, h.command))
                .unwrap_or_else(|| "a previous run".into());
            let message = format!("{who} ended while this step was running");
            ledger.transition(&step, StepStatus::Interrupted, |r| {
                r.last_error = Some(message.clone());
            })?;
            ledger.log(Level::Warn, Some(&step), &message);
            recovery.interrupted.push(step);
        }
        Ok((ledger, recovery))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    pub fn step(&self, name: &str) -> StepRecord {
        self.state.step(name)
    }

    /// Moves `step` to `to`, letting `update` change the rest of its record, then writes the
    /// state atomically and appends the transition to the audit log.
    pub fn transition(
        &mut self,
        step: &str,
        to: StepStatus,
        update: impl FnOnce(&mut StepRecord),
    ) -> Result<(), LedgerError> {
        let record = self.state.steps.entry(step.to_string()).or_default();
        let from = record.status;
        record.status = to;
        update(record);
        let record = record.clone();
        self.save()?;
        self.audit(AuditEvent::Transition {
            step: step.to_string(),
            from,
            to,
            record,
        })
    }

    pub fn record_resource(&mut self, resource: Resource) -> Result<(), LedgerError> {
        self.state.record_resource(resource.clone());
        self.state.retired.retain(|r| !r.same_identity(&resource));
        self.state.destroyed_at = None;
        self.save()?;
        self.audit(AuditEvent::ResourceRecorded { resource })
    }

    /// Drops a resource from the inventory because it was deleted; it is remembered as retired.
    pub fn forget_resource(&mut self, kind: &str, name: &str) -> Result<(), LedgerError> {
        let gone: Vec<Resource> = self
            .state
            .inventory
            .iter()
            .filter(|r| r.kind == kind && r.name == name)
            .cloned()
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        self.state.retired.extend(gone);
        self.state.forget_resource(kind, name);
        self.save()?;
        self.audit(AuditEvent::ResourceForgotten {
            kind: kind.to_string(),
            name: name.to_string(),
        })
    }

    pub fn set_emulator(&mut self, emulator: Option<EmulatorRecord>) -> Result<(), LedgerError> {
        self.state.emulator = emulator;
        self.save()
    }

    /// After a completed teardown: the inventory is empty and every step is back to
    /// `not_started`; the audit log keeps the history.
    pub fn mark_destroyed(&mut self) -> Result<(), LedgerError> {
        let gone = std::mem::take(&mut self.state.inventory);
        self.state.retired.extend(gone);
        self.state.steps.clear();
        self.state.destroyed_at = Some(Timestamp::now());
        self.save()?;
        self.audit(AuditEvent::Destroyed)
    }

    /// Forgets one step's record, or (`None`) the whole state. Logs and the audit log stay.
    pub fn reset(&mut self, step: Option<&str>) -> Result<(), LedgerError> {
        match step {
            Some(s) => {
                self.state.steps.remove(s);
            }
            None => self.state = LedgerState::default(),
        }
        self.save()?;
        self.audit(AuditEvent::Reset {
            step: step.map(str::to_string),
        })
    }

    /// Replaces the state with what the audit log says. Returns how many torn lines were
    /// skipped.
    pub fn rebuild_from_audit(&mut self) -> Result<usize, LedgerError> {
        let path = self.dir.join(AUDIT_FILE);
        let (entries, skipped) = audit::read(&path).map_err(|source| LedgerError::Io {
            path: path.clone(),
            source,
        })?;
        self.state = audit::replay(&entries);
        self.save()?;
        Ok(skipped)
    }

    /// Appends to the human-readable logs. Never fails the caller: a log line is not worth
    /// aborting a deployment for.
    pub fn log(&self, level: Level, step: Option<&str>, message: &str) {
        let _ = journal::write(&self.dir, level, step, message);
    }

    pub fn error_count(&self) -> usize {
        journal::count_lines(&self.dir.join("errors.log"))
    }

    pub fn warning_count(&self) -> usize {
        journal::count_lines(&self.dir.join("warnings.log"))
    }

    fn save(&mut self) -> Result<(), LedgerError> {
        assert!(
            self.lock.is_some(),
            "the ledger is written only under its lock"
        );
        self.state.updated_at = Some(Timestamp::now());
        let path = self.dir.join(STATE_FILE);
        let bytes = serde_json::to_vec_pretty(&self.state).expect("ledger state serializes");
        fsutil::write_atomic(&path, &bytes).map_err(|source| LedgerError::Io { path, source })
    }

    fn audit(&self, event: AuditEvent) -> Result<(), LedgerError> {
        let path = self.dir.join(AUDIT_FILE);
        audit::append(&path, event).map_err(|source| LedgerError::Io { path, source })
    }
}

/// Reads `state.json`; absent means empty. Never overwrites a file it cannot read.
pub fn load(dir: &Path) -> Result<LedgerState, LedgerError> {
    let path = dir.join(STATE_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LedgerState::default()),
        Err(source) => return Err(LedgerError::Io { path, source }),
    };
    let corrupt = |reason: String| LedgerError::Corrupt {
        path: path.clone(),
        audit: dir.join(AUDIT_FILE),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    let found = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no schema_version".into()))? as u32;
    if found != SCHEMA_VERSION {
        return Err(LedgerError::SchemaVersion {
            path,
            found,
            expected: SCHEMA_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
}

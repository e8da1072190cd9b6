//! The ledger of one deployment, over whichever [`Backend`] holds it: load, lock, transition,
//! record. Every write is a compare-and-swap on what was read.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::audit::{self, AuditEvent};
use crate::backend::{Backend, LockGuard, Precondition, TERRAFORM_STATE, Version};
use crate::deployment::DeploymentId;
use crate::error::LedgerError;
use crate::journal::{self, Level};
use crate::lock::LockHolder;
use crate::status::{Contracts, LedgerState, Resource, SCHEMA_VERSION, StepRecord, StepStatus};

pub const STATE_FILE: &str = "state.json";
pub const AUDIT_FILE: &str = "checkpoints.log";
pub const RESULTS_FILE: &str = "test-results.json";

/// What opening the ledger for writing found and repaired.
#[derive(Debug, Default)]
pub struct Recovery {
    /// A previous holder that never released the lock (its process died).
    pub previous_holder: Option<LockHolder>,
    /// Steps that were `in_progress` and are now `interrupted`.
    pub interrupted: Vec<String>,
    /// Where an unreadable `state.json` was set aside (on request only).
    pub set_aside: Option<String>,
}

/// How to treat an unreadable `state.json` when opening for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCorrupt {
    /// Refuse, and say how to recover (the default: it is never overwritten silently).
    Refuse,
    /// Keep it under another name and start from an empty state (`deploy reset`, `deploy reset
    /// --rebuild`).
    SetAside,
}

pub struct Ledger {
    backend: Arc<dyn Backend>,
    state: LedgerState,
    /// The version of `state.json` this ledger last read or wrote; `None` when there is none.
    version: Option<Version>,
    lock: Option<Box<dyn LockGuard>>,
    holder: Option<LockHolder>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("location", &self.backend.location())
            .field("serial", &self.state.serial)
            .field("locked", &self.lock.is_some())
            .finish()
    }
}

impl Ledger {
    /// Reads the ledger without locking it (for `status`, `plan`, `logs`). Nothing stored is
    /// an empty ledger.
    pub fn open_read(backend: Arc<dyn Backend>) -> Result<Ledger, LedgerError> {
        let (state, version) = load(backend.as_ref())?;
        Ok(Ledger {
            backend,
            state,
            version,
            lock: None,
            holder: None,
        })
    }

    /// Takes the lock, checks that the ledger belongs to `identity`, and turns steps a dead run
    /// left `in_progress` into `interrupted`.
    pub fn open_locked(
        backend: Arc<dyn Backend>,
        holder: &LockHolder,
        wait: Option<Duration>,
        identity: &DeploymentId,
        on_corrupt: OnCorrupt,
    ) -> Result<(Ledger, Recovery), LedgerError> {
        let (lock, previous_holder) = backend.lock(holder, wait)?;
        let mut recovery = Recovery {
            previous_holder,
            ..Recovery::default()
        };
        let (state, version) = match (load(backend.as_ref()), on_corrupt) {
            (Ok(loaded), _) => loaded,
            (Err(LedgerError::Corrupt { .. }), OnCorrupt::SetAside) => {
                recovery.set_aside = Some(set_aside(backend.as_ref())?);
                (LedgerState::default(), None)
            }
            (Err(e), _) => return Err(e),
        };
        if let Some(recorded) = &state.identity
            && !recorded.same_deployment(identity)
        {
            return Err(LedgerError::IdentityMismatch {
                location: backend.location(),
                recorded: Box::new(recorded.clone()),
                current: Box::new(identity.clone()),
            });
        }
        let mut ledger = Ledger {
            backend,
            state,
            version,
            lock: Some(lock),
            holder: Some(holder.clone()),
        };
        if ledger.state.identity.is_none() {
            ledger.state.identity = Some(identity.clone());
        }
        if let Some(prev) = &recovery.previous_holder {
            ledger.audit(AuditEvent::LockTakenOver {
                previous_pid: prev.pid,
                previous_command: prev.command.clone(),
                previous_host: Some(prev.host.clone()),
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
                .map(|h| format!("pid {} ({}) on {}", h.pid, h.command, h.host))
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

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Where the state lives, for people.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// This machine's directory for the deployment (Terraform's working directory, step logs).
    pub fn local_dir(&self) -> &std::path::Path {
        self.backend.local_dir()
    }

    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    /// Whether nothing was ever stored for this deployment here: no ledger, no audit log. A
    /// fresh checkout is not proof that nothing is deployed.
    pub fn is_empty(&self) -> bool {
        self.version.is_none() && self.backend.audit_is_empty().unwrap_or(false)
    }

    pub fn step(&self, name: &str) -> StepRecord {
        self.state.step(name)
    }

    /// Checks the caller's account against the one recorded, and records it (with the next
    /// write: a command that writes nothing leaves no ledger behind) the first time.
    pub fn bind_account(&mut self, account: &str) -> Result<(), LedgerError> {
        check_account(&self.state, account, &self.backend.location())?;
        let id = self
            .state
            .identity
            .as_mut()
            .expect("a locked ledger has an identity");
        if id.account.is_none() {
            id.account = Some(account.to_string());
        }
        Ok(())
    }

    /// Moves `step` to `to`, letting `update` change the rest of its record, then writes the
    /// state and appends the transition to the audit log.
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
        self.state.destroyed_by = None;
        self.save()?;
        self.audit(AuditEvent::ResourceRecorded { resource })
    }

    /// Records contract versions a deploy shipped (nothing is written when all were known).
    pub fn ship_contracts(&mut self, versions: &Contracts) -> Result<(), LedgerError> {
        let before = self.state.contracts.clone();
        self.state.ship_contracts(versions);
        if self.state.contracts == before {
            return Ok(());
        }
        self.save()?;
        self.audit(AuditEvent::ContractsShipped {
            versions: versions.clone(),
        })
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

    /// After a completed teardown: the inventory is empty and every step is back to
    /// `not_started`; the audit log keeps the history.
    pub fn mark_destroyed(&mut self) -> Result<(), LedgerError> {
        let gone = std::mem::take(&mut self.state.inventory);
        self.state.retired.extend(gone);
        self.state.steps.clear();
        self.state.destroyed_at = Some(Timestamp::now());
        let by = self
            .holder
            .as_ref()
            .map(|h| format!("{} on {}", h.command, h.host));
        self.state.destroyed_by = by.clone();
        self.save()?;
        self.audit(AuditEvent::Destroyed { by })
    }

    /// Forgets one step's record, or (`None`) the whole state. Logs and the audit log stay.
    pub fn reset(&mut self, step: Option<&str>) -> Result<(), LedgerError> {
        match step {
            Some(s) => {
                self.state.steps.remove(s);
            }
            None => {
                let keep = self.state.identity.clone();
                self.state = LedgerState {
                    identity: keep,
                    lineage: self.state.lineage.clone(),
                    serial: self.state.serial,
                    ..LedgerState::default()
                };
            }
        }
        self.save()?;
        self.audit(AuditEvent::Reset {
            step: step.map(str::to_string),
        })
    }

    /// Replaces the state with what the audit log says. Returns how many torn entries were
    /// skipped.
    pub fn rebuild_from_audit(&mut self) -> Result<usize, LedgerError> {
        let lines = self.backend.read_audit()?;
        let (entries, skipped) = audit::parse(&lines);
        let mut state = audit::replay(&entries);
        state.identity = self.state.identity.clone();
        state.lineage = self.state.lineage.clone();
        state.serial = state.serial.max(self.state.serial);
        self.state = state;
        self.save()?;
        Ok(skipped)
    }

    /// Records that the ledger was moved here from `from`.
    pub fn note_migrated(&mut self, from: &str) -> Result<(), LedgerError> {
        self.save()?;
        self.audit(AuditEvent::Migrated {
            from: from.to_string(),
        })
    }

    /// Appends to the human-readable logs. Never fails the caller: a log line is not worth
    /// aborting a deployment for. The counts are saved with the next write.
    pub fn log(&mut self, level: Level, step: Option<&str>, message: &str) {
        match level {
            Level::Info => {}
            Level::Warn => self.state.log_counts.warnings += 1,
            Level::Error => self.state.log_counts.errors += 1,
        }
        self.backend
            .journal(level, &journal::format_line(level, step, message));
    }

    pub fn error_count(&self) -> u64 {
        self.state.log_counts.errors
    }

    pub fn warning_count(&self) -> u64 {
        self.state.log_counts.warnings
    }

    /// Makes a step log (a path relative to [`Ledger::local_dir`]) part of the state.
    pub fn publish_log(&self, name: &str) -> Result<(), LedgerError> {
        self.backend.publish_log(name)
    }

    /// The latest log of `step`: its location and content.
    pub fn step_log(&self, step: &str) -> Result<Option<(String, Vec<u8>)>, LedgerError> {
        let Some(name) = self.step(step).log else {
            return Ok(None);
        };
        Ok(self
            .backend
            .read(&name)?
            .map(|o| (self.backend.locate(&name), o.bytes)))
    }

    /// Stores a result document of a step (e.g. `test-results.json`) with the state.
    pub fn put_document(&self, name: &str, bytes: &[u8]) -> Result<String, LedgerError> {
        self.backend.write(name, bytes, Precondition::None)?;
        Ok(self.backend.locate(name))
    }

    pub fn document(&self, name: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.backend.read(name)?.map(|o| o.bytes))
    }

    /// How many resources Terraform's state for this deployment holds (0 when there is none).
    pub fn terraform_resource_count(&self) -> Result<usize, LedgerError> {
        let Some(obj) = self.backend.read(TERRAFORM_STATE)? else {
            return Ok(0);
        };
        let value: serde_json::Value = serde_json::from_slice(&obj.bytes).map_err(|e| {
            LedgerError::storage(self.backend.locate(TERRAFORM_STATE), e.to_string())
        })?;
        Ok(value["resources"].as_array().map_or(0, Vec::len))
    }

    fn save(&mut self) -> Result<(), LedgerError> {
        let lock = self
            .lock
            .as_ref()
            .expect("the ledger is written only under its lock");
        lock.check()?;
        self.state.updated_at = Some(Timestamp::now());
        self.state.updated_by = self.holder.as_ref().map(|h| h.command.clone());
        if self.state.lineage.is_none() {
            self.state.lineage = Some(new_lineage());
        }
        self.state.serial += 1;
        let bytes = serde_json::to_vec_pretty(&self.state).expect("ledger state serializes");
        let pre = match &self.version {
            Some(v) => Precondition::Matches(v.clone()),
            None => Precondition::Absent,
        };
        match self.backend.write(STATE_FILE, &bytes, pre) {
            Ok(v) => {
                self.version = Some(v);
                Ok(())
            }
            Err(e) => {
                self.state.serial -= 1;
                Err(e)
            }
        }
    }

    fn audit(&self, event: AuditEvent) -> Result<(), LedgerError> {
        self.backend
            .append_audit(self.state.serial, &audit::entry(event))
    }
}

/// Refuses credentials of another account than the one `state` records.
pub fn check_account(
    state: &LedgerState,
    account: &str,
    location: &str,
) -> Result<(), LedgerError> {
    match state.identity.as_ref() {
        Some(id) if id.account.as_deref().is_some_and(|a| a != account) => {
            Err(LedgerError::AccountMismatch {
                location: location.to_string(),
                recorded: Box::new(id.clone()),
                recorded_account: id.account.clone().unwrap_or_default(),
                caller: account.to_string(),
            })
        }
        _ => Ok(()),
    }
}

fn new_lineage() -> String {
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        Timestamp::now().as_nanosecond(),
        std::thread::current().id()
    );
    crate::fingerprint::sha256_hex(seed.as_bytes())[..32].to_string()
}

/// Reads `state.json`; absent means empty. Never overwrites what it cannot read.
pub fn load(backend: &dyn Backend) -> Result<(LedgerState, Option<Version>), LedgerError> {
    let Some(obj) = backend.read(STATE_FILE)? else {
        return Ok((LedgerState::default(), None));
    };
    let state = parse_with(
        &backend.locate(STATE_FILE),
        &backend.locate(AUDIT_FILE),
        &obj.bytes,
    )?;
    Ok((state, Some(obj.version)))
}

/// Parses a ledger read from `location` (e.g. another deployment's, listed).
pub fn parse_state(location: &str, bytes: &[u8]) -> Result<LedgerState, LedgerError> {
    parse_with(location, "its audit log", bytes)
}

fn parse_with(location: &str, audit: &str, bytes: &[u8]) -> Result<LedgerState, LedgerError> {
    let location = location.to_string();
    let corrupt = |reason: String| LedgerError::Corrupt {
        location: location.clone(),
        audit: audit.to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    let found = value
        .get("schema_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| corrupt("no schema_version".into()))? as u32;
    if found != SCHEMA_VERSION {
        return Err(LedgerError::SchemaVersion {
            location: location.clone(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
}

/// Keeps an unreadable `state.json` as `state.json.corrupt-<time>` and removes it.
fn set_aside(backend: &dyn Backend) -> Result<String, LedgerError> {
    let obj = backend
        .read(STATE_FILE)?
        .expect("only a stored state can be corrupt");
    let name = format!("{STATE_FILE}.corrupt-{}", Timestamp::now().as_second());
    backend.write(&name, &obj.bytes, Precondition::None)?;
    backend.delete(STATE_FILE)?;
    Ok(backend.locate(&name))
}

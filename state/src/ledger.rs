//! The ledger of one deployment, over whichever backend holds it: load, lock, transition,
//! record. Every write is a compare-and-swap on what was read.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::audit::{self, AuditEvent};
use crate::backend::{Full, LockGuard, Objects, Precondition, TERRAFORM_STATE, Version};
use crate::deployment::DeploymentId;
use crate::error::LedgerError;
use crate::journal::{self, Level};
use crate::lock::LockHolder;
use crate::status::{Contracts, LedgerState, Resource, SCHEMA_VERSION, StepRecord, StepStatus};

pub const STATE_FILE: &str = "state.json";
pub const AUDIT_FILE: &str = "checkpoints.log";
pub const RESULTS_FILE: &str = "test-results.json";

pub struct Ledger {
    backend: Arc<dyn Full>,
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
    pub fn backend(&self) -> &Arc<dyn Full> {
        &self.backend
    }

    /// Where the state lives, for people.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// This machine's directory for the deployment (Terraform's working directory, step logs).
    pub fn local_dir(&self) -> &Path {
        self.backend.local_dir()
    }

    pub fn state(&self) -> &LedgerState {
        &self.state
    }

    pub fn step(&self, name: &str) -> StepRecord {
        self.state.step(name)
    }

    /// Whether nothing was ever stored for this deployment here: no ledger, no audit log. A
    /// fresh checkout is not proof that nothing is deployed.
    pub async fn is_empty(&self) -> bool {
        self.version.is_none() && self.backend.audit_is_empty().await.unwrap_or(false)
    }

    pub fn error_count(&self) -> u64 {
        self.state.log_counts.errors
    }

    pub fn warning_count(&self) -> u64 {
        self.state.log_counts.warnings
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

    /// Gives the lock up (a ledger opened to read holds none). Dropping the ledger does it too,
    /// as soon as the runtime lets it; this waits for it.
    pub async fn close(mut self) -> Result<(), LedgerError> {
        match self.lock.take() {
            Some(lock) => lock.release().await,
            None => Ok(()),
        }
    }

    /// Writes the state as a compare-and-swap on the version last read or written, after
    /// checking the lock is still ours.
    async fn save(&mut self) -> Result<(), LedgerError> {
        let lock = self
            .lock
            .as_ref()
            .expect("the ledger is written only under its lock");
        lock.check().await?;
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
        match self.backend.write(STATE_FILE, &bytes, pre).await {
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

    async fn audit(&self, event: AuditEvent) -> Result<(), LedgerError> {
        self.backend
            .append_audit(self.state.serial, &audit::entry(event))
            .await
    }
}

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

impl Ledger {
    /// Reads the ledger without locking it (for `status`, `plan`, `logs`). Nothing stored is
    /// an empty ledger.
    pub async fn open_read(backend: Arc<dyn Full>) -> Result<Ledger, LedgerError> {
        let (state, version) = load(backend.as_ref()).await?;
        Ok(Ledger {
            backend,
            state,
            version,
            lock: None,
            holder: None,
        })
    }

    /// Takes the lock, checks that the ledger belongs to `identity`, and turns steps a dead run
    /// left `in_progress` into `interrupted`. When it refuses, the lock is given up again.
    pub async fn open_locked(
        backend: Arc<dyn Full>,
        holder: &LockHolder,
        wait: Option<Duration>,
        identity: &DeploymentId,
        on_corrupt: OnCorrupt,
    ) -> Result<(Ledger, Recovery), LedgerError> {
        let (lock, previous_holder) = backend.lock(holder, wait).await?;
        let mut recovery = Recovery {
            previous_holder,
            ..Recovery::default()
        };
        let loaded = read_for(backend.as_ref(), identity, on_corrupt, &mut recovery).await;
        let (state, version) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                // The error is what matters: a lock that cannot be given up runs out.
                let _ = lock.release().await;
                return Err(e);
            }
        };
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
        ledger.recover(&mut recovery).await?;
        Ok((ledger, recovery))
    }

    /// Records a takeover from a dead holder, and marks the steps it left running.
    async fn recover(&mut self, recovery: &mut Recovery) -> Result<(), LedgerError> {
        if let Some(prev) = &recovery.previous_holder {
            self.audit(AuditEvent::LockTakenOver {
                previous_pid: prev.pid,
                previous_command: prev.command.clone(),
                previous_host: Some(prev.host.clone()),
            })
            .await?;
        }
        let who = recovery
            .previous_holder
            .as_ref()
            .map(|h| format!("pid {} ({}) on {}", h.pid, h.command, h.host))
            .unwrap_or_else(|| "a previous run".into());
        let message = format!("{who} ended while this step was running");
        for step in stuck_steps(&self.state) {
            self.transition(&step, StepStatus::Interrupted, |r| {
                r.last_error = Some(message.clone());
            })
            .await?;
            self.log(Level::Warn, Some(&step), &message).await;
            recovery.interrupted.push(step);
        }
        Ok(())
    }
}

/// The stored ledger, for a run of `identity` (another deployment's is refused); an unreadable
/// one is set aside when asked.
async fn read_for(
    backend: &dyn Full,
    identity: &DeploymentId,
    on_corrupt: OnCorrupt,
    recovery: &mut Recovery,
) -> Result<(LedgerState, Option<Version>), LedgerError> {
    let (state, version) = match (load(backend).await, on_corrupt) {
        (Ok(loaded), _) => loaded,
        (Err(LedgerError::Corrupt { .. }), OnCorrupt::SetAside) => {
            recovery.set_aside = Some(set_aside(backend).await?);
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
    Ok((state, version))
}

/// The steps a run left `in_progress`.
fn stuck_steps(state: &LedgerState) -> Vec<String> {
    state
        .steps
        .iter()
        .filter(|(_, r)| r.status == StepStatus::InProgress)
        .map(|(n, _)| n.clone())
        .collect()
}

impl Ledger {
    /// Moves `step` to `to`, letting `update` change the rest of its record, then writes the
    /// state and appends the transition to the audit log.
    pub async fn transition(
        &mut self,
        step: &str,
        to: StepStatus,
        update: impl FnOnce(&mut StepRecord) + Send,
    ) -> Result<(), LedgerError> {
        let record = self.state.steps.entry(step.to_string()).or_default();
        let from = record.status;
        record.status = to;
        update(record);
        let record = record.clone();
        self.save().await?;
        self.audit(AuditEvent::Transition {
            step: step.to_string(),
            from,
            to,
            record,
        })
        .await
    }

    pub async fn record_resource(&mut self, resource: Resource) -> Result<(), LedgerError> {
        self.state.record_resource(resource.clone());
        self.state.retired.retain(|r| !r.same_identity(&resource));
        self.state.destroyed_at = None;
        self.state.destroyed_by = None;
        self.save().await?;
        self.audit(AuditEvent::ResourceRecorded { resource }).await
    }

    /// Records contract versions a deploy shipped (nothing is written when all were known).
    pub async fn ship_contracts(&mut self, versions: &Contracts) -> Result<(), LedgerError> {
        let before = self.state.contracts.clone();
        self.state.ship_contracts(versions);
        if self.state.contracts == before {
            return Ok(());
        }
        self.save().await?;
        self.audit(AuditEvent::ContractsShipped {
            versions: versions.clone(),
        })
        .await
    }

    /// Drops a resource from the inventory because it was deleted; it is remembered as retired.
    pub async fn forget_resource(&mut self, kind: &str, name: &str) -> Result<(), LedgerError> {
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
        self.save().await?;
        self.audit(AuditEvent::ResourceForgotten {
            kind: kind.to_string(),
            name: name.to_string(),
        })
        .await
    }

    /// After a completed teardown: the inventory is empty and every step is back to
    /// `not_started`; the audit log keeps the history.
    pub async fn mark_destroyed(&mut self) -> Result<(), LedgerError> {
        let gone = std::mem::take(&mut self.state.inventory);
        self.state.retired.extend(gone);
        self.state.steps.clear();
        self.state.destroyed_at = Some(Timestamp::now());
        let by = self
            .holder
            .as_ref()
            .map(|h| format!("{} on {}", h.command, h.host));
        self.state.destroyed_by = by.clone();
        self.save().await?;
        self.audit(AuditEvent::Destroyed { by }).await
    }

    /// Forgets one step's record, or (`None`) the whole state. Logs and the audit log stay.
    pub async fn reset(&mut self, step: Option<&str>) -> Result<(), LedgerError> {
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
        self.save().await?;
        self.audit(AuditEvent::Reset {
            step: step.map(str::to_string),
        })
        .await
    }

    /// Replaces the state with what the audit log says. Returns how many torn entries were
    /// skipped.
    pub async fn rebuild_from_audit(&mut self) -> Result<usize, LedgerError> {
        let lines = self.backend.read_audit().await?;
        let (entries, skipped) = audit::parse(&lines);
        let mut state = audit::replay(&entries);
        state.identity = self.state.identity.clone();
        state.lineage = self.state.lineage.clone();
        state.serial = state.serial.max(self.state.serial);
        self.state = state;
        self.save().await?;
        Ok(skipped)
    }

    /// Records that the ledger was moved here from `from`.
    pub async fn note_migrated(&mut self, from: &str) -> Result<(), LedgerError> {
        self.save().await?;
        self.audit(AuditEvent::Migrated {
            from: from.to_string(),
        })
        .await
    }
}

impl Ledger {
    /// Appends to the human-readable logs. Never fails the caller: a log line is not worth
    /// aborting a deployment for. The counts are saved with the next write.
    pub async fn log(&mut self, level: Level, step: Option<&str>, message: &str) {
        match level {
            Level::Info => {}
            Level::Warn => self.state.log_counts.warnings += 1,
            Level::Error => self.state.log_counts.errors += 1,
        }
        self.backend
            .journal(level, &journal::format_line(level, step, message))
            .await;
    }

    /// Makes a step log (a path relative to [`Ledger::local_dir`]) part of the state.
    pub async fn publish_log(&self, name: &str) -> Result<(), LedgerError> {
        self.backend.publish_log(name).await
    }

    /// The latest log of `step`: its location and content.
    pub async fn step_log(&self, step: &str) -> Result<Option<(String, Vec<u8>)>, LedgerError> {
        let Some(name) = self.step(step).log else {
            return Ok(None);
        };
        Ok(self
            .backend
            .read(&name)
            .await?
            .map(|o| (self.backend.locate(&name), o.bytes)))
    }

    /// Stores a result document of a step (e.g. `test-results.json`) with the state.
    pub async fn put_document(&self, name: &str, bytes: &[u8]) -> Result<String, LedgerError> {
        self.backend.write(name, bytes, Precondition::None).await?;
        Ok(self.backend.locate(name))
    }

    pub async fn document(&self, name: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.backend.read(name).await?.map(|o| o.bytes))
    }

    /// How many resources Terraform's state for this deployment holds (0 when there is none).
    pub async fn terraform_resource_count(&self) -> Result<usize, LedgerError> {
        let Some(obj) = self.backend.read(TERRAFORM_STATE).await? else {
            return Ok(0);
        };
        let value: serde_json::Value = serde_json::from_slice(&obj.bytes).map_err(|e| {
            LedgerError::storage(self.backend.locate(TERRAFORM_STATE), e.to_string())
        })?;
        Ok(value["resources"].as_array().map_or(0, Vec::len))
    }
}

/// Reads `state.json`; absent means empty. Never overwrites what it cannot read.
pub async fn load<B: Objects + ?Sized>(
    backend: &B,
) -> Result<(LedgerState, Option<Version>), LedgerError> {
    let Some(obj) = backend.read(STATE_FILE).await? else {
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
async fn set_aside<B: Objects + ?Sized>(backend: &B) -> Result<String, LedgerError> {
    let obj = backend
        .read(STATE_FILE)
        .await?
        .expect("only a stored state can be corrupt");
    let name = format!("{STATE_FILE}.corrupt-{}", Timestamp::now().as_second());
    backend.write(&name, &obj.bytes, Precondition::None).await?;
    backend.delete(STATE_FILE).await?;
    Ok(backend.locate(&name))
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

/// A new lineage: minted once, when a ledger is first written.
fn new_lineage() -> String {
    let seed = format!(
        "{}-{}-{:?}",
        std::process::id(),
        Timestamp::now().as_nanosecond(),
        std::thread::current().id()
    );
    crate::fingerprint::sha256_hex(seed.as_bytes())[..32].to_string()
}

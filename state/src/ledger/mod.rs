//! The ledger of one deployment, over whichever backend holds it: load, lock, transition,
//! record. Every write is a compare-and-swap on what was read.
//!
//! - [`open`]: opening it to read, or locked to write (and what a dead run left behind);
//! - [`record`]: the transitions, each saved and appended to the audit log;
//! - [`stored`]: what is kept beside the ledger (logs, documents, Terraform's state);
//! - [`load`]: reading and checking a stored ledger.

mod load;
mod open;
mod record;
mod stored;

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;

pub use load::{check_account, load, parse_state};
pub use open::{OnCorrupt, Recovery};

use crate::audit::{self, AuditEvent};
use crate::backend::{Full, LockGuard, Precondition, Version};
use crate::error::LedgerError;
use crate::lock::LockHolder;
use crate::status::{LedgerState, StepRecord};

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

    /// The version of `state.json` last read or written (an ETag on S3, a digest locally).
    pub fn stored_version(&self) -> Option<&str> {
        self.version.as_deref()
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
            self.state.lineage = Some(load::new_lineage());
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

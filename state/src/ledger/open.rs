//! Opening a ledger: to read it, or locked to write it, repairing what a dead run left behind.

use std::sync::Arc;
use std::time::Duration;

use super::load::{load, set_aside};
use super::{Ledger, Version};
use crate::audit::AuditEvent;
use crate::backend::Full;
use crate::deployment::DeploymentId;
use crate::error::LedgerError;
use crate::journal::Level;
use crate::lock::LockHolder;
use crate::status::{LedgerState, StepStatus};

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

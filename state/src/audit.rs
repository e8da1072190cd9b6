//! The audit log: an append-only record of every transition, one JSON object an entry
//! (`checkpoints.log` locally, one object per entry on S3).
//!
//! Each entry carries the whole step record after the transition, so the source of truth can be
//! rebuilt from this log alone if `state.json` is ever lost or corrupt.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::status::{Contracts, LedgerState, Resource, ResourceKind, StepRecord, StepStatus};

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
        kind: ResourceKind,
        name: String,
        /// The rule of a target (absent: every resource of that kind and name).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
    },
    /// `deploy reset` of one step, or of everything (`step: None`).
    Reset {
        step: Option<String>,
    },
    Destroyed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    LockTakenOver {
        previous_pid: u32,
        previous_command: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_host: Option<String>,
    },
    /// Contract versions shipped by a deploy (added to those shipped before).
    ContractsShipped {
        versions: Contracts,
    },
    /// The ledger was moved (from the flat layout of an older release, or between backends).
    Migrated {
        from: String,
    },
    /// A plan artifact was applied.
    PlanApplied {
        id: String,
    },
    /// A run of the deploy pipeline ended (it may have changed nothing: the state's serial still
    /// moves, so a plan made before it is stale).
    RunEnded {
        command: String,
    },
    /// A queue was deleted with the operator's consent while it held messages.
    MessagesDiscarded {
        queue: String,
        messages: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub pid: u32,
    #[serde(flatten)]
    pub event: AuditEvent,
}

/// One entry, serialized: the bytes of one audit line or object.
pub fn entry(event: AuditEvent) -> Vec<u8> {
    let entry = AuditEntry {
        at: Timestamp::now(),
        pid: std::process::id(),
        event,
    };
    serde_json::to_vec(&entry).expect("audit entries serialize")
}

/// Parses every complete entry. One that does not parse (a write torn by a crash) is skipped
/// and counted.
pub fn parse(lines: &[Vec<u8>]) -> (Vec<AuditEntry>, usize) {
    let mut entries = Vec::new();
    let mut skipped = 0;
    for line in lines {
        match serde_json::from_slice::<AuditEntry>(line) {
            Ok(e) => entries.push(e),
            Err(_) => skipped += 1,
        }
    }
    (entries, skipped)
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
            AuditEvent::ResourceForgotten { kind, name, rule } => {
                state.forget_on(*kind, name, rule.as_deref());
            }
            AuditEvent::Reset { step: Some(s) } => {
                state.steps.remove(s);
            }
            AuditEvent::Reset { step: None } => state = LedgerState::default(),
            AuditEvent::Destroyed { by } => {
                state.destroyed_at = Some(e.at);
                state.destroyed_by = by.clone();
                let gone = std::mem::take(&mut state.inventory);
                state.retired.extend(gone);
                state.steps.clear();
            }
            AuditEvent::ContractsShipped { versions } => state.ship_contracts(versions),
            AuditEvent::PlanApplied { id } => state.applied_plans.push(id.clone()),
            AuditEvent::LockTakenOver { .. }
            | AuditEvent::Migrated { .. }
            | AuditEvent::RunEnded { .. }
            | AuditEvent::MessagesDiscarded { .. } => {}
        }
        state.updated_at = Some(e.at);
    }
    state.serial = entries.len() as u64;
    state
}

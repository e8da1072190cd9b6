//! The ledger's transitions: each one saved (a compare-and-swap) and then appended to the audit
//! log, so the state can be rebuilt from the log alone.

use jiff::Timestamp;

use super::Ledger;
use crate::audit::{self, AuditEvent};
use crate::error::LedgerError;
use crate::status::{Contracts, LedgerState, Resource, ResourceKind, StepRecord, StepStatus};

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

    /// Records several resources with one write of the state (an audit entry each): a stack of
    /// hundreds of resources is not written hundreds of times.
    pub async fn record_resources(&mut self, resources: Vec<Resource>) -> Result<(), LedgerError> {
        if resources.is_empty() {
            return Ok(());
        }
        for r in &resources {
            self.state.record_resource(r.clone());
            self.state.retired.retain(|x| !x.same_identity(r));
        }
        self.state.destroyed_at = None;
        self.state.destroyed_by = None;
        self.save().await?;
        for resource in resources {
            self.audit(AuditEvent::ResourceRecorded { resource })
                .await?;
        }
        Ok(())
    }

    /// Forgets each of `resources` exactly (as [`Ledger::forget`]) with one write of the state
    /// (an audit entry each); nothing is written when none was in the inventory.
    pub async fn forget_all(&mut self, resources: &[Resource]) -> Result<(), LedgerError> {
        let mut events = Vec::new();
        for r in resources {
            let rule = match r.kind {
                ResourceKind::Target => r.attributes.rule.as_deref(),
                _ => None,
            };
            if self.state.forget_on(r.kind, &r.name, rule) {
                events.push(AuditEvent::ResourceForgotten {
                    kind: r.kind,
                    name: r.name.clone(),
                    rule: rule.map(str::to_string),
                });
            }
        }
        if events.is_empty() {
            return Ok(());
        }
        self.save().await?;
        for event in events {
            self.audit(event).await?;
        }
        Ok(())
    }

    /// Drops a resource from the inventory because it was deleted; it is remembered as retired.
    pub async fn forget_resource(
        &mut self,
        kind: ResourceKind,
        name: &str,
    ) -> Result<(), LedgerError> {
        self.forget_on(kind, name, None).await
    }

    /// Forgets exactly `r` (a target on its rule, not the targets of that id on other rules).
    pub async fn forget(&mut self, r: &Resource) -> Result<(), LedgerError> {
        let rule = match r.kind {
            ResourceKind::Target => r.attributes.rule.as_deref(),
            _ => None,
        };
        self.forget_on(r.kind, &r.name, rule).await
    }

    async fn forget_on(
        &mut self,
        kind: ResourceKind,
        name: &str,
        rule: Option<&str>,
    ) -> Result<(), LedgerError> {
        if !self.state.forget_on(kind, name, rule) {
            return Ok(());
        }
        self.save().await?;
        self.audit(AuditEvent::ResourceForgotten {
            kind,
            name: name.to_string(),
            rule: rule.map(str::to_string),
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

    /// Records that the plan artifact `id` was applied: it is refused if applied again.
    pub async fn note_plan_applied(&mut self, id: &str) -> Result<(), LedgerError> {
        self.state.applied_plans.push(id.to_string());
        self.save().await?;
        self.audit(AuditEvent::PlanApplied { id: id.to_string() })
            .await
    }

    /// Records that a run of `command` ended (a run that changed nothing moves the serial too).
    pub async fn note_run(&mut self, command: &str) -> Result<(), LedgerError> {
        self.save().await?;
        self.audit(AuditEvent::RunEnded {
            command: command.to_string(),
        })
        .await
    }

    /// Records that `queue` is deleted, with consent, while it holds `messages` messages.
    pub async fn note_discarded(&mut self, queue: &str, messages: u64) -> Result<(), LedgerError> {
        self.save().await?;
        self.audit(AuditEvent::MessagesDiscarded {
            queue: queue.to_string(),
            messages,
        })
        .await
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

//! The `rollback` step: returns the deployment to the last good one that a pending rollback
//! names ([`Pending`]), verifies it with the live checks, marks the deploy steps to run again
//! (the configuration still asks for the change), and records what it did ([`Done`]). Its own
//! pipeline, run by `deploy all` after a failed verification and by `deploy rollback`; a run
//! killed in it leaves the pending document, and the next one finishes it.

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState, StepStatus};

use super::pending::{Done, Pending};
use super::restore;
use crate::engine::{Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;
use crate::live::{self, Health};
use crate::terraform::wait_for_stopped;

pub struct Rollback;

pub const STEP: &str = "rollback";

#[async_trait]
impl Step for Rollback {
    fn name(&self) -> &'static str {
        STEP
    }

    fn number(&self) -> &'static str {
        "070"
    }

    fn description(&self) -> &'static str {
        "return to the last good deployment"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let pending = match &ctx.env.state {
            Some(objects) => Pending::load(objects.as_ref()).await,
            None => None,
        };
        let Some(pending) = pending else {
            ctx.summary("no rollback pending");
            return Ok(());
        };
        let target = &pending.target;
        ctx.info(&format!(
            "returning to the last good deployment {} ({})",
            target.describe(),
            pending.why.describe()
        ));
        let aws = ctx.env.aws().await?.clone();
        restore::aliases(ctx, &aws, target).await?;
        let mut removed = restore::unwire_added(ctx, &aws, target).await?;
        let applied = restore::terraform(ctx, target).await?;
        removed.extend(applied.deleted);
        restore::rewire(ctx, &aws, target).await?;
        verify(ctx).await?;
        mark_to_run_again(ctx, target).await?;
        let done = Done {
            finished_at: jiff::Timestamp::now(),
            why: pending.why.clone(),
            returned_to: target.recorded_at,
            aliases: pending.moved_aliases(),
            removed,
            terraform: applied.summary,
        };
        done.finish(ctx.ledger).await?;
        ctx.output(
            "rolled_back",
            serde_json::to_string(&done).unwrap_or_default(),
        );
        ctx.summary(format!("rolled back: {}", done.describe()));
        Ok(())
    }

    async fn cleanup_after_interrupt(&self, ctx: &mut StepContext<'_>) {
        ctx.detail("waiting for terraform to stop gracefully (it writes its state)");
        wait_for_stopped().await;
    }
}

/// The restored deployment, checked as `status --live` checks it: everything it owns present
/// and as deployed. (A dead-letter queue holding messages is degraded, not a failed rollback:
/// it holds what the failed change could not deliver.)
async fn verify(ctx: &mut StepContext<'_>) -> Result<(), StepError> {
    let aws = ctx.env.aws().await?.clone();
    let served: Vec<_> = live::served(ctx.state()).cloned().collect();
    let checked = live::check_all(&aws, &served, &ctx.env.applied().await).await;
    let wrong: Vec<String> = checked
        .iter()
        .filter(|h| h.exists == Some(false) || !h.drift.is_empty())
        .map(|h| format!("{}: {}", h.label(), h.detail))
        .collect();
    let unknown = checked.iter().filter(|h| h.exists.is_none()).count();
    if !wrong.is_empty() {
        return Err(StepError::permanent(format!(
            "the restored deployment is not as the last good one: {}",
            wrong.join("; ")
        ))
        .with_hint("`deploy status --live` shows it; `deploy rollback` tries again"));
    }
    let healthy = checked.iter().filter(|h| h.healthy).count();
    ctx.info(&format!(
        "verified: {healthy} of {} resources healthy{}",
        checked.len(),
        if unknown > 0 {
            format!(", {unknown} could not be checked")
        } else {
            String::new()
        }
    ));
    let degraded: Vec<String> = checked
        .iter()
        .filter(|h| h.exists == Some(true) && !h.healthy)
        .map(Health::label)
        .collect();
    if !degraded.is_empty() {
        ctx.warn(&format!("degraded: {}", degraded.join(", ")))
            .await;
    }
    Ok(())
}

/// The configuration still asks for the change that was rolled back: the steps that apply and
/// verify it run again with the next `deploy all` (which rolls back again should it fail again).
async fn mark_to_run_again(
    ctx: &mut StepContext<'_>,
    target: &super::LastGood,
) -> Result<(), StepError> {
    let note = "rolled back to the last good deployment: run again to apply the configuration";
    let versions = serde_json::to_string(&target.aliases).unwrap_or_default();
    for step in ["lambdas", "test-events", "contract"] {
        if ctx.state().step(step).status == StepStatus::NotStarted {
            continue;
        }
        let versions = versions.clone();
        ctx.ledger_mut()
            .transition(step, StepStatus::Stale, |r| {
                r.note = Some(note.into());
                if step == "lambdas" {
                    r.outputs.insert("versions".into(), versions);
                }
            })
            .await?;
    }
    Ok(())
}

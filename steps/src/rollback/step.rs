//! The `rollback` step: returns the deployment to the last good one that a pending rollback
//! names ([`Pending`]) and checks it with the live checks (what it owns present and as the last
//! good deployment applied it). The rollback pipeline runs `test-events` after it (against the
//! last good routes, see [`super::verification_config`]); [`super::conclude`] then records what
//! it did. A run killed anywhere in it leaves the pending document, and the next one finishes
//! it.

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState};

use super::pending::Pending;
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
        // A rollback run again after a kill keeps what the first attempt removed.
        let earlier = ctx.outputs_of(STEP);
        let mut removed: Vec<String> = match earlier.get("pending") {
            Some(at) if *at == pending.started_at.to_string() => earlier
                .get("removed")
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let aws = ctx.env.aws().await?.clone();
        restore::aliases(ctx, &aws, target).await?;
        removed.extend(restore::unwire_added(ctx, &aws, target).await?);
        let applied = restore::terraform(ctx, target).await?;
        removed.extend(applied.deleted);
        restore::rewire(ctx, &aws, target).await?;
        verify(ctx).await?;
        let terraform = applied
            .summary
            .or_else(|| earlier.get("terraform").cloned());
        ctx.output("pending", pending.started_at.to_string());
        ctx.output(
            "removed",
            serde_json::to_string(&removed).unwrap_or_default(),
        );
        if let Some(t) = terraform {
            ctx.output("terraform", t);
        }
        ctx.summary(format!(
            "restored the last good deployment {}",
            target.describe()
        ));
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

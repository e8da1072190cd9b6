//! The phases of a rollback, in the contract order of a change (what invokes a thing goes
//! before it): the aliases back to their last good versions (the functions' code and
//! configuration at once), the function targets, permissions and functions the change added
//! removed, Terraform's last good variables applied again (rules back to their patterns, what
//! the change added to the stack removed, a queue that holds messages never without consent),
//! then the last good function targets put back. Each phase is idempotent: a rollback killed in
//! any of them is finished by running it again.

use deploy_state::{Resource, ResourceKind};

use super::{FunctionTarget, LastGood};
use crate::aws::AwsClients;
use crate::catalog::{self, function_log_group};
use crate::change::queues_empty;
use crate::deploy::contract::{Wired, apply, plan, remove_own_test_events};
use crate::deploy::infrastructure::forget_gone;
use crate::deploy::lambdas::STEP as LAMBDAS;
use crate::deploy::lambdas::version::{self, ALIAS};
use crate::deploy::lambdas::wiring::{self, alias_statement_id};
use crate::engine::{RetryPolicy, StepContext, StepError};
use crate::outputs::Infrastructure;
use crate::terraform::prepared::Prepared;
use crate::terraform::workdir::PLAN_FILE;

const INFRASTRUCTURE: &str = "infrastructure";

/// Points each alias back at its last good version; the inventory records it.
pub async fn aliases(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    target: &LastGood,
) -> Result<(), StepError> {
    let policy = RetryPolicy::from(&ctx.config().retry);
    for (function, v) in &target.aliases {
        let pointed = version::point(&aws.lambda, &policy, function, v).await?;
        ctx.info(&format!(
            "{function}: alias {ALIAS} at version {v} ({pointed:?})"
        ));
        let recorded: Vec<Resource> = ctx
            .state()
            .resources(ResourceKind::Alias)
            .filter(|a| a.attributes.function.as_deref() == Some(function.as_str()))
            .cloned()
            .collect();
        for mut r in recorded {
            r.attributes.version = Some(v.clone());
            ctx.ledger_mut().record_resource(r).await?;
        }
    }
    Ok(())
}

/// Removes the function targets, invoke permissions and functions the change added (those the
/// last good deployment did not wire): targets first, then permissions, then functions (with
/// their mappings, aliases and log groups). Returns what went.
pub async fn unwire_added(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    target: &LastGood,
) -> Result<Vec<String>, StepError> {
    let wired = Wired {
        targets: target
            .wiring
            .iter()
            .map(|w| (w.rule.clone(), w.id.clone()))
            .collect(),
        permissions: target
            .wiring
            .iter()
            .map(|w| (w.function.clone(), alias_statement_id(&w.rule)))
            .collect(),
    };
    let added = |r: &Resource| match r.kind {
        ResourceKind::Function => !target.aliases.contains_key(&r.name),
        _ => wired.lacks(r),
    };
    let mut doomed: Vec<Resource> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| r.created_by == LAMBDAS && added(r))
        .cloned()
        .collect();
    let order = |k: ResourceKind| match k {
        ResourceKind::Target => 0,
        ResourceKind::Permission => 1,
        _ => 2,
    };
    doomed.sort_by_key(|r| order(r.kind));
    let mut removed = Vec::new();
    for r in doomed {
        let gone = catalog::delete(aws, &r).await?;
        if r.kind == ResourceKind::Function {
            catalog::delete(aws, &function_log_group(&r.name)).await?;
            forget_function(ctx, &r.name).await?;
        }
        ctx.info(&format!(
            "{} (added by the change) {}",
            r.label(),
            gone.describe()
        ));
        ctx.forget_exactly(&r).await?;
        removed.push(r.label());
    }
    Ok(removed)
}

/// Forgets what lives inside a deleted function: its aliases, permissions and mappings.
async fn forget_function(ctx: &mut StepContext<'_>, function: &str) -> Result<(), StepError> {
    let inside: Vec<Resource> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| r.attributes.function.as_deref() == Some(function))
        .cloned()
        .collect();
    for r in inside {
        ctx.forget_exactly(&r).await?;
    }
    Ok(())
}

/// What applying the last good variables again did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Terraform's summary line, when it changed anything.
    pub summary: Option<String>,
    /// What it deleted (`rule dev-new`, `queue dev-new-inbox`).
    pub deleted: Vec<String>,
}

/// Applies the last good Terraform variables again (with the stack's files of today), after the
/// queues it would delete are known to be empty or consented; the infrastructure step's outputs
/// and inventory follow, and the applied hub is the last good one again.
pub async fn terraform(ctx: &mut StepContext<'_>, target: &LastGood) -> Result<Applied, StepError> {
    let run = Prepared::new(ctx, &target.tfvars).await?;
    run.init_if_needed(ctx).await?;
    let (planned, waiting) = plan(ctx, &run).await?;
    let mut out = Applied::default();
    if planned.changes.is_empty() {
        ctx.info("terraform: the stack is as the last good deployment applied it");
        let _ = std::fs::remove_file(run.dir.join(PLAN_FILE));
    } else {
        let queues = planned.deleted_queues();
        remove_own_test_events(ctx, &queues).await?;
        queues_empty(ctx, &queues).await?;
        ctx.summary = None;
        apply(ctx, &run, waiting).await?;
        out.summary = ctx.summary.take();
        out.deleted = planned.deletes.iter().map(Resource::label).collect();
    }
    let outputs = run.outputs(ctx).await?;
    let owned = outputs.owned_resources(INFRASTRUCTURE);
    forget_gone(ctx, &owned).await?;
    for r in owned {
        ctx.ledger_mut().record_resource(r).await?;
    }
    let mut recorded = ctx.outputs_of(INFRASTRUCTURE);
    recorded.extend(outputs.step_outputs());
    let note = "rolled back to the last good deployment: run again to apply the configuration";
    ctx.ledger_mut()
        .transition(INFRASTRUCTURE, deploy_state::StepStatus::Stale, |r| {
            r.outputs = recorded;
            r.note = Some(note.into());
        })
        .await?;
    target.applied_hub.save(ctx.ledger).await?;
    Ok(out)
}

/// Puts back the function targets and permissions the last good deployment wired (on its
/// alias), as it wired them.
pub async fn rewire(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    target: &LastGood,
) -> Result<(), StepError> {
    let infra = Infrastructure::required(&ctx.outputs_of(INFRASTRUCTURE))?;
    for w in &target.wiring {
        let Some(rule_arn) = infra.rule_arn(&w.rule).map(str::to_string) else {
            ctx.warn(&format!(
                "rule {} is not in the stack: {} not wired",
                w.rule, w.id
            ))
            .await;
            continue;
        };
        let Some(arn) = function_arn(ctx, &w.function) else {
            continue;
        };
        let sid = alias_statement_id(&w.rule);
        wiring::ensure_permission(aws, &w.function, ALIAS, &sid, &rule_arn).await?;
        let mut permission = Resource::new(ResourceKind::Permission, &sid, LAMBDAS);
        permission.attributes.function = Some(w.function.clone());
        permission.attributes.qualifier = Some(ALIAS.to_string());
        permission.attributes.source_arn = Some(rule_arn);
        ctx.ledger_mut().record_resource(permission).await?;
        ensure_target(ctx, aws, &infra, w, &version::alias_arn(&arn)).await?;
    }
    Ok(())
}

/// The unqualified ARN of a function the inventory records.
fn function_arn(ctx: &StepContext<'_>, function: &str) -> Option<String> {
    ctx.state()
        .resources(ResourceKind::Function)
        .find(|f| f.name == function)
        .and_then(|f| f.arn.clone())
}

async fn ensure_target(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    infra: &Infrastructure,
    w: &FunctionTarget,
    alias_arn: &str,
) -> Result<(), StepError> {
    let dlq = w.dead_letter.then_some(infra.dlq_arn.as_str());
    let wanted = wiring::Wanted {
        id: &w.id,
        arn: alias_arn,
        dlq_arn: dlq,
        retry_attempts: w.retry_attempts,
        max_event_age_seconds: w.max_event_age_seconds,
    };
    let wired = wiring::ensure_target(&aws.events, &infra.event_bus_name, &w.rule, &wanted).await?;
    if wired != wiring::Wired::Kept {
        ctx.info(&format!("target {} of rule {} put back", w.id, w.rule));
    }
    let r = Resource::new(ResourceKind::Target, &w.id, LAMBDAS)
        .with_arn(alias_arn)
        .on_bus(&infra.event_bus_name)
        .with(|a| a.rule = Some(w.rule.clone()));
    ctx.ledger_mut().record_resource(r).await?;
    Ok(())
}

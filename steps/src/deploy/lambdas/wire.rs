//! A function's place in the hub, on its alias: the invoke permission and the target of each
//! route that delivers to it, and the dead-letter queue's mapping for the function that reads
//! it; each recorded in the inventory.
//!
//! A deployment made before aliases invoked functions unqualified. The next run moves each piece
//! to the alias without a moment in which events find nothing to invoke: the alias's permission
//! is granted first (under its own statement id), then the target's ARN is changed in place (one
//! `PutTargets` of the same target id), then the unqualified permission is removed; a mapping is
//! moved by one update (the queue keeps its messages meanwhile).

use deploy_config::Lambda;
use deploy_state::{Resource, ResourceKind};

use super::STEP;
use super::version::ALIAS;
use super::wiring::{self, Wired};
use crate::aws::AwsClients;
use crate::catalog;
use crate::engine::{StepContext, StepError};
use crate::outputs::Infrastructure;

/// A function as one route's target.
pub struct Wire<'a> {
    pub lambda: &'a Lambda,
    pub rule: &'a str,
    pub target: &'a deploy_config::Target,
    /// The alias's ARN.
    pub alias_arn: &'a str,
}

pub async fn wire_rule(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    infra: &Infrastructure,
    wire: Wire<'_>,
) -> Result<(), StepError> {
    let Wire {
        lambda,
        rule,
        target,
        alias_arn,
    } = wire;
    let name = lambda.function_name.as_str();
    let rule_arn = infra.rule_arn(rule).ok_or_else(|| {
        StepError::permanent(format!(
            "[lambdas.{}] rule `{rule}` is not a rule of this stack (known: {})",
            lambda.key,
            infra.rule_names.join(", ")
        ))
    })?;
    let sid = wiring::alias_statement_id(rule);
    let wired = wiring::ensure_permission(aws, name, ALIAS, &sid, rule_arn).await?;
    ctx.detail(&format!(
        "{name}:{ALIAS}: invoke permission for {rule} {}",
        describe(wired)
    ));
    ctx.record(permission(name, &sid, rule_arn)).await?;
    let dlq = target.dead_letter.then_some(infra.dlq_arn.as_str());
    let wired = wiring::ensure_target(
        &aws.events,
        &infra.event_bus_name,
        rule,
        &wiring::Wanted {
            id: &target.id,
            arn: alias_arn,
            dlq_arn: dlq,
            retry_attempts: target.retry_attempts,
            max_event_age_seconds: target.max_event_age_seconds,
        },
    )
    .await?;
    ctx.info(&format!(
        "{name}:{ALIAS}: target `{}` of rule {rule} {} (dead-letter queue {})",
        target.id,
        describe(wired),
        dlq.unwrap_or("none")
    ));
    ctx.record(
        Resource::new(ResourceKind::Target, &target.id, STEP)
            .with_arn(alias_arn)
            .on_bus(&infra.event_bus_name)
            .with(|a| a.rule = Some(rule.to_string())),
    )
    .await?;
    remove_unqualified_permission(ctx, aws, name, rule).await
}

/// The record of the permission `sid` letting the rule `rule_arn` invoke `function`'s alias.
pub fn permission(function: &str, sid: &str, rule_arn: &str) -> Resource {
    Resource::new(ResourceKind::Permission, sid, STEP).with(|a| {
        a.function = Some(function.to_string());
        a.qualifier = Some(ALIAS.to_string());
        a.source_arn = Some(rule_arn.to_string());
    })
}

/// The permission an earlier release granted on the unqualified function, once the target
/// invokes the alias.
async fn remove_unqualified_permission(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    function: &str,
    rule: &str,
) -> Result<(), StepError> {
    let old = wiring::statement_id(rule);
    let recorded: Vec<Resource> = ctx
        .state()
        .resources(ResourceKind::Permission)
        .filter(|p| p.name == old && p.attributes.function.as_deref() == Some(function))
        .filter(|p| p.attributes.qualifier.is_none())
        .cloned()
        .collect();
    if wiring::find_statement(&aws.lambda, function, None, &old)
        .await?
        .is_some()
    {
        catalog::remove_permission(aws, function, None, &old).await?;
        ctx.info(&format!(
            "{function}: the unqualified invoke permission for {rule} removed (the alias has \
             its own)"
        ));
    }
    for r in recorded {
        ctx.forget_exactly(&r).await?;
    }
    Ok(())
}

/// The dead-letter queue read by the function `name`'s alias; a mapping made again (the old one
/// was deleted) replaces the old one's record.
pub async fn map_dead_letter_queue(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    infra: &Infrastructure,
    name: &str,
) -> Result<(), StepError> {
    let tags = crate::ownership::ownership_tags(ctx.config());
    let (uuid, wired) =
        wiring::ensure_queue_mapping(&aws.lambda, name, ALIAS, &infra.dlq_arn, &tags).await?;
    ctx.info(&format!(
        "{name}:{ALIAS}: dead-letter queue mapping {uuid} {}",
        describe(wired)
    ));
    let stale: Vec<String> = ctx
        .state()
        .resources(ResourceKind::EventSourceMapping)
        .filter(|m| m.name != uuid && m.attributes.function.as_deref() == Some(name))
        .map(|m| m.name.clone())
        .collect();
    for old in stale {
        ctx.forget(ResourceKind::EventSourceMapping, &old).await?;
    }
    let source = infra.dlq_arn.clone();
    ctx.record(
        Resource::new(ResourceKind::EventSourceMapping, &uuid, STEP).with(|a| {
            a.function = Some(name.to_string());
            a.event_source_arn = Some(source);
        }),
    )
    .await
}

pub fn describe(w: Wired) -> &'static str {
    match w {
        Wired::Kept => "already in place",
        Wired::Created => "created",
        Wired::Replaced => "updated",
    }
}

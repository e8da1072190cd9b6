//! The `pre-destroy` step: before Terraform can delete rules and the bus, remove every target
//! from every rule this deployment owns, the event source mappings, the Lambda functions (their
//! permissions go with them) and any probe left by an interrupted test. Only what the ledger's
//! inventory or the Terraform outputs name is touched; "not found" counts as done.

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState, Resource};

use crate::aws::{AwsClients, is_not_found, sdk_error};
use crate::engine::{Live, Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;

pub struct PreDestroy;

/// The kinds of resource this step removes.
const REMOVES: &[&str] = &[
    "target",
    "event-source-mapping",
    "function",
    "permission",
    "probe-rule",
    "probe-queue",
];

/// `Ok(true)` deleted, `Ok(false)` already gone.
pub(crate) fn tolerate<T, E>(
    what: &str,
    r: Result<T, crate::aws::AwsError<E>>,
) -> Result<bool, StepError>
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(sdk_error(what, e)),
    }
}

/// The rules to empty: owned (inventory) and those Terraform reports, each with its bus.
fn rules(ctx: &StepContext<'_>) -> Vec<(String, String)> {
    let bus_default = ctx
        .outputs_of("infrastructure")
        .get("event_bus_name")
        .cloned()
        .unwrap_or_else(|| ctx.config().eventbus.name.clone());
    let mut out: Vec<(String, String)> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| r.kind == "rule" || r.kind == "probe-rule")
        .map(|r| {
            let bus = r
                .attributes
                .get("bus")
                .cloned()
                .unwrap_or_else(|| bus_default.clone());
            (r.name.clone(), bus)
        })
        .collect();
    if let Some(list) = ctx.outputs_of("infrastructure").get("rule_names") {
        for name in serde_json::from_str::<Vec<String>>(list).unwrap_or_default() {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, bus_default.clone()));
            }
        }
    }
    out
}

/// Removes every target of one rule (all pages). Refuses to touch a rule AWS manages.
async fn empty_rule(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    rule: &str,
    bus: &str,
) -> Result<usize, StepError> {
    match aws
        .events
        .describe_rule()
        .name(rule)
        .event_bus_name(bus)
        .send()
        .await
    {
        Ok(d) if d.managed_by().is_some() => {
            ctx.warn(&format!(
                "rule {rule} is managed by {}: left alone",
                d.managed_by().unwrap_or("")
            ))
            .await;
            return Ok(0);
        }
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(0),
        Err(e) => return Err(sdk_error("events:DescribeRule", e)),
    }
    let mut removed = 0;
    loop {
        // Always read the first page again: removal shifts the pages.
        let page = aws
            .events
            .list_targets_by_rule()
            .rule(rule)
            .event_bus_name(bus)
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) if is_not_found(&e) => return Ok(removed),
            Err(e) => return Err(sdk_error("events:ListTargetsByRule", e)),
        };
        let ids: Vec<String> = page.targets().iter().map(|t| t.id().to_string()).collect();
        if ids.is_empty() {
            return Ok(removed);
        }
        let out = aws
            .events
            .remove_targets()
            .rule(rule)
            .event_bus_name(bus)
            .set_ids(Some(ids.clone()))
            .force(false)
            .send()
            .await
            .map_err(|e| sdk_error("events:RemoveTargets", e))?;
        if out.failed_entry_count() > 0 {
            return Err(StepError::transient(format!(
                "events:RemoveTargets on {rule}: {} target(s) not removed",
                out.failed_entry_count()
            )));
        }
        removed += ids.len();
        ctx.detail(&format!("removed targets {} from {rule}", ids.join(", ")));
    }
}

fn owned(ctx: &StepContext<'_>, kind: &str) -> Vec<Resource> {
    ctx.state().resources(kind).cloned().collect()
}

#[async_trait]
impl Step for PreDestroy {
    fn name(&self) -> &'static str {
        "pre-destroy"
    }

    fn number(&self) -> &'static str {
        "998"
    }

    fn description(&self) -> &'static str {
        "remove targets and functions this deployment owns"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        Ok(Fingerprint::new().text(TARGET_COMPONENT, &env.target))
    }

    /// A completed pre-destroy is believed only while nothing it removes is owned again: a
    /// deploy after it makes functions, targets and mappings that the next teardown must remove.
    async fn live_check(&self, _env: &Env, state: &LedgerState) -> Live {
        let pending: Vec<String> = state
            .inventory
            .iter()
            .filter(|r| REMOVES.contains(&r.kind.as_str()))
            .map(|r| format!("{} {}", r.kind, r.name))
            .collect();
        if pending.is_empty() {
            Live::Healthy
        } else {
            Live::Pending(pending)
        }
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let aws = ctx.env.aws().await?.clone();
        let mut removed = 0;
        for (rule, bus) in rules(ctx) {
            removed += empty_rule(ctx, &aws, &rule, &bus).await?;
        }
        for t in owned(ctx, "target") {
            ctx.forget("target", &t.name).await?;
        }
        ctx.info(&format!("removed {removed} target(s)"));

        for m in owned(ctx, "event-source-mapping") {
            let r = aws
                .lambda
                .delete_event_source_mapping()
                .uuid(&m.name)
                .send()
                .await;
            tolerate("lambda:DeleteEventSourceMapping", r)?;
            ctx.forget("event-source-mapping", &m.name).await?;
        }
        for f in owned(ctx, "function") {
            let r = aws
                .lambda
                .delete_function()
                .function_name(&f.name)
                .send()
                .await;
            let deleted = tolerate("lambda:DeleteFunction", r)?;
            let group = format!("/aws/lambda/{}", f.name);
            let r = aws
                .logs
                .delete_log_group()
                .log_group_name(&group)
                .send()
                .await;
            tolerate("logs:DeleteLogGroup", r)?;
            ctx.info(&format!(
                "function {} {}",
                f.name,
                if deleted {
                    "deleted"
                } else {
                    "was already gone"
                }
            ));
            ctx.forget("function", &f.name).await?;
        }
        for p in owned(ctx, "permission") {
            ctx.forget("permission", &p.name).await?;
        }
        for rule in owned(ctx, "probe-rule") {
            let bus = rule.attributes.get("bus").cloned().unwrap_or_default();
            let r = aws
                .events
                .delete_rule()
                .name(&rule.name)
                .event_bus_name(bus)
                .send()
                .await;
            tolerate("events:DeleteRule", r)?;
            ctx.forget("probe-rule", &rule.name).await?;
        }
        for q in owned(ctx, "probe-queue") {
            if let Ok(u) = aws.sqs.get_queue_url().queue_name(&q.name).send().await {
                let url = u.queue_url().unwrap_or_default().to_string();
                tolerate(
                    "sqs:DeleteQueue",
                    aws.sqs.delete_queue().queue_url(url).send().await,
                )?;
            }
            ctx.forget("probe-queue", &q.name).await?;
        }
        Ok(())
    }
}

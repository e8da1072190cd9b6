//! The `pre-destroy` step: before Terraform can delete rules and the bus, remove every target
//! from every rule this deployment owns, the event source mappings, the Lambda functions (their
//! permissions, versions and aliases go with them) with their log groups, and any probe left by an interrupted test.
//! Only what the ledger's inventory or the Terraform outputs name is touched; "not found" counts
//! as done. Every deletion goes through the resource catalog.

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState, Resource, ResourceKind};
use tokio::task::JoinSet;

use crate::aws::AwsClients;
use crate::catalog::{self, Emptied, function_log_group};
use crate::change::queues_empty;
use crate::deploy::contract::remove_own_test_events;
use crate::engine::{Live, Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;
use crate::outputs::Infrastructure;

pub struct PreDestroy;

/// The kinds of resource this step removes, in the order it removes them (targets are removed
/// rule by rule first).
const REMOVES: &[ResourceKind] = &[
    ResourceKind::Target,
    ResourceKind::EventSourceMapping,
    ResourceKind::Function,
    ResourceKind::Permission,
    ResourceKind::Alias,
    ResourceKind::ProbeRule,
    ResourceKind::ProbeQueue,
];

/// The rules to empty: owned (inventory) and those Terraform reports, each with its bus.
fn rules(ctx: &StepContext<'_>) -> Result<Vec<Resource>, StepError> {
    let infra = Infrastructure::recorded(&ctx.outputs_of("infrastructure"))?;
    let bus_default = Some(infra.event_bus_name)
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| ctx.config().eventbus.name.clone());
    let mut out: Vec<Resource> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::Rule | ResourceKind::ProbeRule))
        .map(|r| {
            let mut r = r.clone();
            if r.attributes.bus.is_none() {
                r = r.on_bus(&bus_default);
            }
            r
        })
        .collect();
    for name in infra.rule_names {
        if !out.iter().any(|r| r.name == name) {
            out.push(Resource::new(ResourceKind::Rule, &name, "").on_bus(&bus_default));
        }
    }
    Ok(out)
}

/// How many rules are emptied at once: terraform's default parallelism, a pace the EventBridge
/// control-plane quotas (tens of requests a second) are used to.
const RULES_AT_ONCE: usize = 10;

/// Removes every target of every rule, a few rules at once; returns how many.
async fn empty_rules(ctx: &mut StepContext<'_>, aws: &AwsClients) -> Result<usize, StepError> {
    let mut removed = 0;
    for chunk in rules(ctx)?.chunks(RULES_AT_ONCE) {
        let mut set = JoinSet::new();
        for (i, rule) in chunk.iter().cloned().enumerate() {
            let aws = aws.clone();
            set.spawn(async move {
                let emptied = catalog::remove_all_targets(&aws, &rule.name, rule.bus()).await;
                (i, rule.name, emptied)
            });
        }
        let mut answers = set.join_all().await;
        answers.sort_by_key(|(i, ..)| *i);
        for (_, rule, emptied) in answers {
            match emptied? {
                Emptied::Managed(by) => {
                    ctx.warn(&format!("rule {rule} is managed by {by}: left alone"))
                        .await;
                }
                Emptied::Removed(ids) if ids.is_empty() => {}
                Emptied::Removed(ids) => {
                    ctx.detail(&format!("removed targets {} from {rule}", ids.join(", ")));
                    removed += ids.len();
                }
            }
        }
    }
    Ok(removed)
}

/// The names of the queues the deployment owns (the dead-letter queue, consumer queues).
pub(crate) fn owned_queues(state: &LedgerState) -> Vec<String> {
    state
        .inventory
        .iter()
        .filter(|r| matches!(r.kind, ResourceKind::Queue | ResourceKind::ConsumerQueue))
        .map(|r| r.name.clone())
        .collect()
}

fn owned(ctx: &StepContext<'_>, kind: ResourceKind) -> Vec<Resource> {
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
            .filter(|r| REMOVES.contains(&r.kind))
            .map(Resource::label)
            .collect();
        if pending.is_empty() {
            Live::Healthy
        } else {
            Live::Pending(pending)
        }
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        // The teardown deletes the queues (in `destroy`): nothing goes while one holds
        // messages without consent. With consent, `destroy` records what went.
        if !ctx.env.consent.discard_messages {
            let queues = owned_queues(ctx.state());
            // The events test-events published and its routes delivered are the tool's own
            // (a receive that failed to delete one leaves it): taken out first, as the
            // contraction does. Anything else in a queue stops the teardown.
            let holding = crate::change::holding(ctx, &queues).await?;
            remove_own_test_events(ctx, &holding).await?;
            queues_empty(ctx, &queues).await?;
        }
        let aws = ctx.env.aws().await?.clone();
        let removed = empty_rules(ctx, &aws).await?;
        ctx.info(&format!("removed {removed} target(s)"));
        for &kind in REMOVES {
            let owned = owned(ctx, kind);
            for r in &owned {
                remove(ctx, &aws, r).await?;
            }
            // One write of the ledger for the kind: what was deleted before a failure stays
            // recorded, and is found already gone by the next run.
            ctx.forget_all(&owned).await?;
        }
        Ok(())
    }
}

/// Deletes one owned resource (a function with its log group); the caller forgets it.
async fn remove(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    r: &Resource,
) -> Result<(), StepError> {
    // Targets were removed with their rules; a function's permissions and aliases go with it.
    if !matches!(
        r.kind,
        ResourceKind::Target | ResourceKind::Permission | ResourceKind::Alias
    ) {
        let gone = catalog::delete(aws, r).await?;
        if r.kind == ResourceKind::Function {
            catalog::delete(aws, &function_log_group(&r.name)).await?;
            ctx.info(&format!("function {} {}", r.name, gone.describe()));
        }
    }
    Ok(())
}

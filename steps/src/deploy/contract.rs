//! The `contract` step: the last phase of a change. Once `test-events` has proven the new paths,
//! what the change retired is removed, in the order AWS enforces: the functions' targets and
//! permissions on retiring rules first (the `lambdas` step made them), then Terraform removes the
//! retiring targets, rules and queues. A queue that holds messages is not deleted without the
//! operator's consent. Nothing retiring: nothing to do, and no terraform process.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use deploy_config::{Config, TargetKind};
use deploy_state::{
    Fingerprint, LedgerState, RESULTS_FILE, Resource, ResourceKind, StepStatus, TERRAFORM_STATE,
};
use tokio::task::JoinSet;

use super::infrastructure::forget_gone;
use super::lambdas::wiring::alias_statement_id;
use crate::aws::{AwsClients, sdk_error, take_messages};
use crate::catalog;
use crate::change::{self, AppliedHub, queues_empty};
use crate::engine::{Live, Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;
use crate::terraform::TfVars;
use crate::terraform::parallelism;
use crate::terraform::planned::Planned;
use crate::terraform::prepared::Prepared;
use crate::terraform::tfvars::consumer_queues_deleted;
use crate::terraform::workdir::PLAN_FILE;
use crate::terraform::{classify, wait_for_stopped};

pub struct Contract;

pub const STEP: &str = "contract";

#[async_trait]
impl Step for Contract {
    fn name(&self) -> &'static str {
        STEP
    }

    fn number(&self) -> &'static str {
        "060"
    }

    fn description(&self) -> &'static str {
        "remove what a change retired, once the new paths are proven"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        let vars = TfVars::from_config(&env.config);
        Ok(Fingerprint::new()
            .text(TARGET_COMPONENT, &env.target)
            .bytes("tfvars", &vars.to_json()))
    }

    /// Believed done only while nothing retires (a contraction a run could not finish is still
    /// pending).
    async fn live_check(&self, env: &Env, _state: &LedgerState) -> Live {
        let change = change::for_env(env).await;
        if change.retiring.is_empty() {
            Live::Unknown
        } else {
            Live::Pending(change.retiring.lines())
        }
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let change = change::for_env(ctx.env).await;
        if change.retiring.is_empty() {
            // A function target a failed run of an older release left recorded is forgotten.
            unwire_functions(ctx).await?;
            ctx.info("nothing retires: the deployment is as configured");
            ctx.summary("nothing retired");
            return Ok(());
        }
        verified(ctx.state())?;
        let retiring = change.retiring.lines();
        ctx.info(&format!("retiring: {}", retiring.join(", ")));
        let current = TfVars::from_config(ctx.config());
        let run = Prepared::new(ctx, &current).await?;
        run.init_if_needed(ctx).await?;
        // Every consumer queue this apply deletes, read from Terraform's state (what retires,
        // and anything else the state holds that the configuration no longer has).
        let state = ctx
            .ledger
            .document(TERRAFORM_STATE)
            .await?
            .unwrap_or_default();
        let mut queues = consumer_queues_deleted(&state, &current);
        for q in change.retiring.queues.values() {
            if !queues.contains(q) {
                queues.push(q.clone());
            }
        }
        // Nothing is deleted before every queue that goes is known to be empty, or consented.
        // The verification's own events, delivered by a retiring route, are not anyone's.
        remove_own_test_events(ctx, &queues).await?;
        queues_empty(ctx, &queues).await?;
        unwire_functions(ctx).await?;
        // Planned and applied by one terraform process: its queues are guarded above, and a
        // plan read back first would cost a provider start.
        let apply = run.apply_unsaved(ctx, queues.len()).await?;
        if !apply.success() {
            return Err(run.error(&classify(&apply.combined()), "apply", &apply));
        }
        let outputs = run.outputs(ctx).await?;
        forget_gone(ctx, &outputs.owned_resources("infrastructure")).await?;
        let stack = &ctx.config().terraform.dir;
        let applied = AppliedHub::of(&current).with_digest(stack, &current);
        applied.save(ctx.ledger).await?;
        ctx.summary(format!("retired {}", retiring.join(", ")));
        Ok(())
    }

    /// What would go, and what each retiring queue holds, for the operator to approve.
    async fn preview(&self, env: &Env) -> Option<Vec<String>> {
        let pending = change::pending(env).await;
        let lines: Vec<String> = pending
            .lines()
            .into_iter()
            .filter(|l| l.starts_with("retires"))
            .collect();
        (!lines.is_empty()).then_some(lines)
    }

    async fn cleanup_after_interrupt(&self, ctx: &mut StepContext<'_>) {
        ctx.detail("waiting for terraform to stop gracefully (it writes its state)");
        wait_for_stopped().await;
    }
}

/// What retires goes only once the new paths were proven by this change's `test-events`.
fn verified(state: &LedgerState) -> Result<(), StepError> {
    let proven = state.step("test-events").status;
    if proven == StepStatus::Completed {
        return Ok(());
    }
    Err(StepError::permanent(format!(
        "the new paths are not proven (test-events is {proven}): what the change retires is kept, \
         and events keep flowing through it"
    ))
    .with_hint("fix what test-events reports, then `deploy all` proves the change and contracts"))
}

/// Takes the events `test-events` published (its results name them) out of `queues`: a route
/// that retires still delivered them, and nobody else will read them. Anything else stays.
pub(crate) async fn remove_own_test_events(
    ctx: &mut StepContext<'_>,
    queues: &[String],
) -> Result<(), StepError> {
    let Some(bytes) = ctx.ledger.document(RESULTS_FILE).await? else {
        return Ok(());
    };
    let results: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let ours: BTreeSet<String> = results["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["event_id"].as_str().map(str::to_string))
        .collect();
    if ours.is_empty() {
        return Ok(());
    }
    let aws = ctx.env.aws().await?.clone();
    let ours = Arc::new(ours);
    // Each queue costs a receive that waits for more (a second) once it is clean: a few at once.
    for chunk in queues.chunks(QUEUES_AT_ONCE) {
        let mut set = JoinSet::new();
        for (i, q) in chunk.iter().cloned().enumerate() {
            let (aws, ours) = (aws.clone(), ours.clone());
            set.spawn(async move {
                let removed = take_own_events(&aws, &q, &ours).await;
                (i, q, removed)
            });
        }
        let mut answers = set.join_all().await;
        answers.sort_by_key(|(i, ..)| *i);
        for (_, q, removed) in answers {
            let removed = removed?;
            if removed > 0 {
                ctx.info(&format!(
                    "{q}: removed {removed} event(s) test-events published"
                ));
            }
        }
    }
    Ok(())
}

/// How many queues are cleared of test-events' own events at once.
const QUEUES_AT_ONCE: usize = 20;

/// Takes the events whose ids are `ours` out of queue `q`; returns how many.
async fn take_own_events(
    aws: &AwsClients,
    q: &str,
    ours: &BTreeSet<String>,
) -> Result<usize, StepError> {
    let Some(url) = catalog::queue_url(aws, q).await? else {
        return Ok(0);
    };
    let mut removed = 0;
    // Each receive sees up to 10; a few rounds take what a test run delivered.
    for _ in 0..OWN_EVENT_RECEIVES {
        let taken = take_messages(&aws.sqs, &url, |b| {
            b["id"].as_str().is_some_and(|id| ours.contains(id))
        })
        .await
        .map_err(|e| sdk_error("sqs:ReceiveMessage", e))?;
        if taken.is_empty() {
            break;
        }
        removed += taken.len();
    }
    Ok(removed)
}

/// How many receives look for test-events' own events in a retiring queue.
const OWN_EVENT_RECEIVES: usize = 5;

/// The contraction's saved plan (a rollback's): what it would do, and how many of its changes
/// wait (queues).
pub(crate) async fn plan(
    ctx: &mut StepContext<'_>,
    run: &Prepared,
) -> Result<(Planned, usize), StepError> {
    let out = format!("-out={PLAN_FILE}");
    let args = ["plan", "-input=false", "-no-color", "-json", &out];
    let plan = run.exec(ctx, "plan", &args).await?;
    if !plan.success() {
        return Err(run.error(&classify(&plan.combined()), "plan", &plan));
    }
    let waiting = parallelism::waiting_in_plan(&plan.stdout);
    let show = run.tf.run_quiet(&["show", "-json", PLAN_FILE]).await?;
    if !show.success() {
        return Err(run.error(&classify(&show.combined()), "show", &show));
    }
    let planned = Planned::parse(&show.stdout).map_err(StepError::permanent)?;
    Ok((planned, waiting))
}

pub(crate) async fn apply(
    ctx: &mut StepContext<'_>,
    run: &Prepared,
    waiting: usize,
) -> Result<(), StepError> {
    let apply = run.apply_saved(ctx, waiting).await?;
    let _ = std::fs::remove_file(run.dir.join(PLAN_FILE));
    if !apply.success() {
        return Err(run.error(&classify(&apply.combined()), "apply", &apply));
    }
    Ok(())
}

/// Removes the function targets and invoke permissions the `lambdas` step made that the
/// configuration no longer has (on a retiring rule, or moved to another route): before
/// Terraform deletes a rule, since AWS refuses to delete a rule that still has targets. Every
/// target goes before any permission: a rule whose target stays a moment after its permission
/// went still sends it events, which AWS may not deliver (they fail, and are dead-lettered).
async fn unwire_functions(ctx: &mut StepContext<'_>) -> Result<(), StepError> {
    let wired = Wired::by(ctx.config());
    let mut stale: Vec<Resource> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| r.created_by == super::lambdas::STEP && wired.lacks(r))
        .cloned()
        .collect();
    targets_first(&mut stale);
    let aws = ctx.env.aws().await?.clone();
    for r in stale {
        let gone = catalog::delete(&aws, &r).await?;
        ctx.info(&format!(
            "{} (no longer configured) {}",
            r.label(),
            gone.describe()
        ));
        ctx.forget_exactly(&r).await?;
    }
    Ok(())
}

/// Targets before permissions (otherwise in the order given).
fn targets_first(resources: &mut [Resource]) {
    resources.sort_by_key(|r| r.kind != ResourceKind::Target);
}

/// Pairs of names: (rule, target id) or (function, statement id).
pub(crate) type Pairs = BTreeSet<(String, String)>;

/// Function targets (rule, target id) and invoke permissions (function, statement id): those a
/// configuration, or a deployment, wires.
#[derive(Default)]
pub(crate) struct Wired {
    pub targets: Pairs,
    pub permissions: Pairs,
}

impl Wired {
    /// Those the configuration wires.
    fn by(config: &Config) -> Wired {
        let mut wired = Wired::default();
        for lambda in &config.lambdas {
            for route in config.lambda_routes(&lambda.key) {
                for t in &route.targets {
                    if matches!(&t.kind, TargetKind::Lambda { key } if key == &lambda.key) {
                        wired
                            .targets
                            .insert((route.rule_name.clone(), t.id.clone()));
                    }
                }
                let sid = alias_statement_id(&route.rule_name);
                wired
                    .permissions
                    .insert((lambda.function_name.clone(), sid));
            }
        }
        wired
    }

    /// A function target or invoke permission that is not among these (anything else: no).
    pub(crate) fn lacks(&self, r: &Resource) -> bool {
        match r.kind {
            ResourceKind::Target => {
                let rule = r.attributes.rule.clone().unwrap_or_default();
                !self.targets.contains(&(rule, r.name.clone()))
            }
            ResourceKind::Permission => {
                let function = r.attributes.function.clone().unwrap_or_default();
                !self.permissions.contains(&(function, r.name.clone()))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_removed_before_the_permission_that_lets_its_rule_invoke() {
        let of = |kind, name: &str| Resource::new(kind, name, super::super::lambdas::STEP);
        let mut stale = vec![
            of(ResourceKind::Permission, "deploy-events-dev-a"),
            of(ResourceKind::Target, "event-logger"),
            of(ResourceKind::Permission, "deploy-events-dev-b"),
            of(ResourceKind::Target, "other"),
        ];
        targets_first(&mut stale);
        let names: Vec<&str> = stale.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "event-logger",
                "other",
                "deploy-events-dev-a",
                "deploy-events-dev-b"
            ]
        );
    }
}

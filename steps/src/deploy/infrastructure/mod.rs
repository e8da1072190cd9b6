//! The `infrastructure` step: apply the Terraform stack (bus, rules, archive, queue, roles).
//!
//! The stack is copied into `<ledger>/terraform/` with its variables generated from the
//! configuration; `init`, then a change of configuration is applied by one terraform process
//! when it deletes nothing ([`at_once`]); otherwise `plan -detailed-exitcode`: no changes → done
//! without `apply`; changes → `apply` of the saved plan. Failures are classified from
//! terraform's error blocks (see [`crate::terraform::classify`]). The outputs go to the ledger
//! and the resources to the inventory of what this deployment owns.

use std::path::Path;

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState, Resource, ResourceKind};

use crate::engine::{Live, Step, StepContext, StepError};
use crate::env::Env;
use crate::terraform::classify::{Failure, classify};

mod adopt;
mod at_once;
use crate::change::{self, AppliedHub, Change};
use crate::terraform::Planned;
use crate::terraform::json_stream::{self, TfEvent};
use crate::terraform::names::StackNames;
use crate::terraform::outputs::Outputs;
use crate::terraform::parallelism;
use crate::terraform::prepared::{Prepared, binary};
use crate::terraform::workdir::{PLAN_FILE, STACK_EXTENSIONS};
use crate::terraform::{TfVars, wait_for_stopped};

pub struct Infrastructure;

const STEP: &str = "infrastructure";

#[async_trait]
impl Step for Infrastructure {
    fn name(&self) -> &'static str {
        STEP
    }

    fn number(&self) -> &'static str {
        "020"
    }

    fn description(&self) -> &'static str {
        "apply the Terraform stack (bus, rules, archive, queue, roles)"
    }

    fn critical(&self) -> bool {
        true
    }

    /// Every stack file, the generated variables, the terraform binary (identified without
    /// running it, so a no-op run starts no process) and the AWS target.
    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        let config = &env.config;
        let vars = TfVars::from_config(config);
        let read_err = |what: &Path, e: std::io::Error| {
            StepError::permanent(format!("cannot read {}: {e}", what.display()))
        };
        let mut fp = Fingerprint::new()
            .files("terraform", &config.terraform.dir, STACK_EXTENSIONS)
            .map_err(|e| read_err(&config.terraform.dir, e))?
            .bytes("tfvars", &vars.to_json())
            .text(
                "terraform_binary",
                &crate::tools::binary_identity(&binary(env)),
            )
            .text(crate::engine::TARGET_COMPONENT, &env.target);
        if vars.enable_schema_registry {
            fp = fp
                .files("schemas", &config.schemas.dir, &[".json"])
                .map_err(|e| read_err(&config.schemas.dir, e))?;
        }
        Ok(fp)
    }

    async fn live_check(&self, env: &Env, state: &LedgerState) -> Live {
        crate::live::step_live(env, state, STEP).await
    }

    /// The expand phase of a change: what the configuration adds or changes is applied, what
    /// it removes is kept (the `contract` step removes it once the new paths are proven).
    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let change = change::for_env(ctx.env).await;
        announce(ctx, &change);
        let run = Prepared::new(ctx, &change.expanded).await?;
        let version = run.tf.version().await?;
        ctx.detail(&format!("using {version} in {}", run.dir.display()));
        ctx.output("terraform_version", version);
        run.init_if_needed(ctx).await?;
        let done = match &ctx.env.saved_plan {
            Some(plan) => {
                apply_reviewed(ctx, &run, plan).await?;
                true
            }
            None => at_once::apply(ctx, &run, &change).await?,
        };
        // Adopting what is provably this deployment's changes the plan: plan again, a few times
        // at most (each adoption empties what the next finds).
        for round in (1..=ADOPTION_ROUNDS).filter(|_| !done) {
            if !plan_and_apply(ctx, &run, &change, round == ADOPTION_ROUNDS).await? {
                break;
            }
            ctx.info("planning again after adopting this deployment's own resources");
        }
        let _ = std::fs::remove_file(run.dir.join(PLAN_FILE));
        let stack = &ctx.config().terraform.dir;
        let applied = AppliedHub::of(&change.expanded).with_digest(stack, &change.expanded);
        applied.save(ctx.ledger).await?;
        let outputs = run.outputs(ctx).await?;
        record(ctx, &outputs, &run.dir).await
    }

    async fn preview(&self, env: &Env) -> Option<Vec<String>> {
        let change = change::for_env(env).await;
        Some(match Prepared::preview(env, &change.expanded).await {
            Ok(lines) => lines,
            Err(e) => vec![format!("the plan could not be made: {e}")],
        })
    }

    async fn cleanup_after_interrupt(&self, ctx: &mut StepContext<'_>) {
        ctx.detail("waiting for terraform to stop gracefully (it writes its state)");
        wait_for_stopped().await;
        ctx.detail("terraform stopped");
    }
}

/// Applies the saved plan of a reviewed plan artifact, exactly: Terraform itself refuses it if
/// its state changed since.
async fn apply_reviewed(
    ctx: &mut StepContext<'_>,
    run: &Prepared,
    plan: &[u8],
) -> Result<(), StepError> {
    crate::terraform::workdir::write(&run.dir, PLAN_FILE, plan)?;
    ctx.info("applying the reviewed plan");
    let args = ["apply", "-input=false", "-no-color", "-json", PLAN_FILE];
    let apply = run.exec(ctx, "apply", &args).await?;
    if !apply.success() {
        return Err(run.error(&classify(&apply.combined()), "apply", &apply));
    }
    ctx.info(&format!("applied in {:.1}s", apply.elapsed.as_secs_f64()));
    Ok(())
}

/// How many times a run plans again after adopting resources.
const ADOPTION_ROUNDS: u32 = 3;

/// One plan, and its apply when it has changes. Returns whether resources were adopted (the plan
/// must be made again); with `last`, adopting is not tried any more.
async fn plan_and_apply(
    ctx: &mut StepContext<'_>,
    run: &Prepared,
    change: &Change,
    last: bool,
) -> Result<bool, StepError> {
    let out = format!("-out={PLAN_FILE}");
    let plan_args = [
        "plan",
        "-input=false",
        "-no-color",
        "-json",
        "-detailed-exitcode",
        &out,
    ];
    let plan = run.exec(ctx, "plan", &plan_args).await?;
    match plan.code {
        Some(0) => {
            ctx.info("plan: no changes, nothing to apply (apply skipped)");
            ctx.summary("no changes");
        }
        Some(2) => {
            // Creates (to look up), replacements (to refuse) and deletes: a plan that only
            // updates in place, or also creates what the stack names, says so in its own
            // stream; anything else is read back from the saved plan.
            let names = StackNames::of(&change.expanded, ctx.config());
            let planned = if !reads_back(&plan.stdout) {
                Planned::default()
            } else if let Some(creates) = names.creates_in(&plan.stdout) {
                Planned {
                    creates,
                    ..Planned::default()
                }
            } else {
                adopt::planned(run).await?
            };
            refuse_replacements(ctx, change, &planned)?;
            let creates = planned.creates;
            if !last && adopt::adopt_or_refuse(ctx, run, &creates, false).await? > 0 {
                return Ok(true);
            }
            let waiting = parallelism::waiting_in_plan(&plan.stdout);
            let apply = run.apply_saved(ctx, waiting).await?;
            if !apply.success() {
                // A create whose answer was lost (a dropped response): what it made carries
                // this deployment's tags and is adopted; anything else stops.
                if let Failure::AlreadyExists(_) = classify(&apply.combined())
                    && !last
                    && adopt::adopt_or_refuse(ctx, run, &creates, true).await? > 0
                {
                    return Ok(true);
                }
                run.judge_failure(ctx, "apply", &apply).await?;
            } else {
                ctx.info(&format!("applied in {:.1}s", apply.elapsed.as_secs_f64()));
            }
        }
        _ => run.judge_failure(ctx, "plan", &plan).await?,
    }
    Ok(false)
}

/// Outputs into the ledger; owned resources into the inventory (and those that left the stack
/// out of it).
async fn record(ctx: &mut StepContext<'_>, outputs: &Outputs, dir: &Path) -> Result<(), StepError> {
    for (k, v) in outputs.step_outputs() {
        ctx.output(&k, v);
    }
    ctx.output("terraform_dir", dir.display().to_string());
    let owned = outputs.owned_resources(STEP);
    forget_gone(ctx, &owned).await?;
    let count = |kind| owned.iter().filter(|r| r.kind == kind).count();
    let summary = format!(
        "bus {}: {} rules, {} archive, {} queue, {} roles",
        outputs.str("event_bus_name").unwrap_or_default(),
        count(ResourceKind::Rule),
        count(ResourceKind::Archive),
        count(ResourceKind::Queue),
        count(ResourceKind::Role),
    );
    ctx.record_all(owned).await?;
    ctx.info(&summary);
    Ok(())
}

/// Forgets what the stack made that it no longer has (`owned` is what it has now), and the
/// function targets on a bus it no longer has (a bus replaced: its rules went with it).
pub(crate) async fn forget_gone(
    ctx: &mut StepContext<'_>,
    owned: &[Resource],
) -> Result<(), StepError> {
    let buses: Vec<&str> = owned
        .iter()
        .filter(|r| r.kind == ResourceKind::EventBus)
        .map(|r| r.name.as_str())
        .collect();
    let on_gone_bus = |r: &Resource| {
        r.kind == ResourceKind::Target
            && r.created_by == super::lambdas::STEP
            && r.attributes
                .bus
                .as_deref()
                .is_some_and(|b| !buses.contains(&b))
    };
    let gone: Vec<Resource> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| {
            (r.created_by == STEP && !owned.iter().any(|o| same_place(o, r)))
                || (!buses.is_empty() && on_gone_bus(r))
        })
        .cloned()
        .collect();
    for r in &gone {
        ctx.detail(&format!("no longer in the stack: {}", r.label()));
    }
    ctx.forget_all(&gone).await
}

/// Says what the change expands and what it keeps until the contraction.
fn announce(ctx: &mut StepContext<'_>, change: &Change) {
    let e = &change.expanding;
    if !e.routes.is_empty() || !e.queues.is_empty() {
        ctx.info(&format!(
            "expanding: {}",
            e.routes
                .iter()
                .map(|r| format!("route {r}"))
                .chain(e.queues.iter().map(|q| format!("queue {q}")))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !change.retiring.is_empty() {
        ctx.info(&format!(
            "retiring, kept until the new paths are proven: {}",
            change.retiring.lines().join(", ")
        ));
    }
}

/// Replacements a change of configuration asks for (Terraform deletes, then creates: a bus
/// renamed, a rule moved to another bus): events published meanwhile find no rule. Refused
/// under `--auto-approve` unless `--allow-replace`; an operator who approved the plan shown has
/// consented. Repairing drift (nothing changed since the last apply: a resource that depends on
/// a deleted one is made again) is not refused.
fn refuse_replacements(
    ctx: &StepContext<'_>,
    change: &Change,
    planned: &Planned,
) -> Result<(), StepError> {
    let stack = &ctx.config().terraform.dir;
    let repair = change
        .applied
        .as_ref()
        .is_some_and(|a| a.is_applied(stack, &change.expanded));
    if planned.replaces.is_empty() || ctx.env.consent.allow_replace || repair {
        return Ok(());
    }
    Err(StepError::permanent(format!(
        "stopped before any change: the plan replaces {} (deleted, then created again): events \
         published in between find no rule and are lost, and a replaced queue loses its \
         messages",
        planned.replaces.join(", ")
    ))
    .with_hint(
        "review `deploy plan --diff`; pass --allow-replace to apply it under --auto-approve",
    ))
}

/// Whether `a` and `b` are the same resource of the stack: kind and name, a target's rule, and
/// a rule's bus when both are known (a rule of the same name on a renamed bus is another one).
fn same_place(a: &Resource, b: &Resource) -> bool {
    let (x, y) = (&a.attributes.bus, &b.attributes.bus);
    a.kind == b.kind
        && a.name == b.name
        && a.attributes.rule == b.attributes.rule
        && (x.is_none() || y.is_none() || x == y)
}

/// Whether a plan's `-json` stream has a change other than an update in place.
fn reads_back(stream: &str) -> bool {
    stream.lines().any(|l| {
        matches!(
            json_stream::parse_line(l),
            Some(TfEvent::Planned { action, .. }) if action != "update" && action != "noop"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_on_a_renamed_bus_is_another_one_and_an_unknown_bus_matches_any() {
        let rule = |bus: Option<&str>| {
            Resource::new(ResourceKind::Rule, "dev-orders", STEP).with(|a| {
                a.bus = bus.map(str::to_string);
            })
        };
        assert!(same_place(&rule(Some("a")), &rule(Some("a"))));
        assert!(!same_place(&rule(Some("a")), &rule(Some("b"))));
        assert!(
            same_place(&rule(None), &rule(Some("b"))),
            "recorded before buses were"
        );
    }
}

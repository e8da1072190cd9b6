//! The `test-events` step: publish sample events and prove they were delivered.
//!
//! 1. every example is validated against its schema (nothing is sent if one is invalid);
//! 2. a routing probe (temporary rule and queue matching a unique marker) is set up;
//! 3. the examples and the probe event are published to the deployed bus;
//! 4. the probe event must arrive in the probe queue; the probe is then always deleted;
//! 5. every route is proven: each example its pattern matches must arrive at each of its
//!    targets (a function's log, a queue, a state machine's executions, another bus);
//! 6. live health: every owned resource, with the same checks as `status --live`.
//!
//! Every check goes to `test-results.json` in the ledger directory; any failed check fails the
//! step. Nothing is reported as passed that was not observed.

mod deliver;
pub mod examples;
pub mod health;
pub mod logs;
mod pattern;
pub mod probe;
pub mod publish;
pub mod results;
mod routes;
mod run;
mod witness;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deploy_config::Config;
use deploy_state::{Fingerprint, LedgerState};

use self::publish::{Outgoing, Published};
use self::results::{Check, EventRecord, Results};
use self::run::Run;
use crate::aws::AwsClients;
use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;
use crate::outputs::Infrastructure;

pub struct TestEvents;

/// The functions as this step depends on them: their settings, not where their sources are on
/// this machine (every checkout, every CI runner, has its own; the sources are the `lambdas`
/// step's input).
fn functions(c: &Config) -> Vec<serde_json::Value> {
    c.lambdas
        .iter()
        .map(|l| {
            let mut v = serde_json::to_value(l).expect("a function's settings serialize");
            if let Some(o) = v.as_object_mut() {
                o.remove("source");
            }
            v
        })
        .collect()
}

/// Extra time allowed to clean up the probe.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(60);

#[async_trait]
impl Step for TestEvents {
    fn name(&self) -> &'static str {
        "test-events"
    }

    fn number(&self) -> &'static str {
        "050"
    }

    fn description(&self) -> &'static str {
        "publish sample events and prove they were delivered"
    }

    fn critical(&self) -> bool {
        false
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        let c = &env.config;
        let io =
            |what: &str, e: std::io::Error| StepError::permanent(format!("reading {what}: {e}"));
        Ok(Fingerprint::new()
            .text(crate::engine::TARGET_COMPONENT, &env.target)
            .files("schemas", &c.schemas.dir, &[".json"])
            .map_err(|e| io("schemas", e))?
            .files("examples", &c.schemas.examples_dir, &[".json"])
            .map_err(|e| io("examples", e))?
            .json("routes", &c.routes)
            .json("lambdas", &functions(c)))
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let started_at = jiff::Timestamp::now();
        let mut checks = Vec::new();
        let examples = valid_examples(ctx, started_at, &mut checks).await?;
        let infra = Infrastructure::required(&ctx.outputs_of("infrastructure"))?;
        let env = ctx.env;
        let aws = env.aws().await?;
        remove_leftovers(ctx, aws, &infra.event_bus_name).await?;
        let mut run = Run {
            aws,
            config: &env.config,
            infra,
            started_at,
            // A minute of margin for clock skew between this machine and the service.
            since_ms: started_at.as_millisecond() - 60_000,
            checks,
        };
        let outgoing = outgoing(&examples);
        let exercised = run.publish_and_probe(ctx, &outgoing).await;
        let records = run.prove_routes(ctx, &outgoing, &exercised).await?;
        if let Err(e) = exercised.outcome {
            return run.publish_failed(ctx, e).await;
        }
        run.health(ctx).await;
        run.conclude(ctx, records).await
    }

    async fn cleanup_after_interrupt(&self, ctx: &mut StepContext<'_>) {
        let env = ctx.env;
        let Ok(infra) = Infrastructure::required(&ctx.outputs_of("infrastructure")) else {
            return;
        };
        let Ok(aws) = env.aws().await else { return };
        match probe::remove_leftovers(
            ctx,
            aws,
            &infra.event_bus_name,
            &env.config.project.environment,
        )
        .await
        {
            Ok(names) if !names.is_empty() => {
                ctx.info(&format!("removed probe {}", names.join(", ")))
            }
            Ok(_) => {}
            Err(e) => ctx.warn(&format!("could not remove the probe: {e}")).await,
        }
    }
}

/// Loads the examples and validates them against their contracts (the `examples valid`
/// check). If one is invalid, the results are written and nothing is sent.
async fn valid_examples(
    ctx: &mut StepContext<'_>,
    started_at: jiff::Timestamp,
    checks: &mut Vec<Check>,
) -> Result<Vec<examples::Example>, StepError> {
    let t = Instant::now();
    let env = ctx.env;
    match examples::load(&env.config) {
        Ok((examples, n_versions)) => {
            checks.push(Check::timed(
                "examples valid",
                t,
                true,
                format!(
                    "{} examples valid against their contract versions ({n_versions} versions)",
                    examples.len()
                ),
            ));
            report(ctx, checks.last());
            Ok(examples)
        }
        Err(e) => {
            checks.push(Check::timed("examples valid", t, false, e.message.clone()));
            finish(ctx, "", started_at, std::mem::take(checks), Vec::new()).await?;
            Err(e)
        }
    }
}

/// Deletes the probes an earlier, interrupted run left on `bus`, with a warning naming them.
async fn remove_leftovers(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    bus: &str,
) -> Result<(), StepError> {
    let env = ctx.env;
    let removed = probe::remove_leftovers(ctx, aws, bus, &env.config.project.environment).await?;
    if !removed.is_empty() {
        ctx.warn(&format!(
            "removed probe leftovers of an earlier run: {}",
            removed.join(", ")
        ))
        .await;
    }
    Ok(())
}

/// The events the examples become.
fn outgoing(examples: &[examples::Example]) -> Vec<Outgoing> {
    examples
        .iter()
        .map(|e| Outgoing {
            label: e.file.clone(),
            source: e.source.clone(),
            detail_type: e.detail_type.clone(),
            detail: e.detail.clone(),
        })
        .collect()
}

/// What the operator can do about the failed checks.
fn hint(results: &Results) -> String {
    let unwired = results
        .failed()
        .iter()
        .any(|c| c.name.starts_with("route ") && c.name.contains("-> lambda"));
    if unwired {
        "a function is not wired to its rule: `deploy run lambdas` restores it; details in \
         test-results.json in the ledger directory"
            .into()
    } else {
        "details in test-results.json in the ledger directory".into()
    }
}

fn report(ctx: &mut StepContext<'_>, check: Option<&Check>) {
    if let Some(c) = check {
        ctx.info(&results::line(c));
    }
}

/// Writes `test-results.json` and records where it is.
async fn finish(
    ctx: &mut StepContext<'_>,
    bus: &str,
    started_at: jiff::Timestamp,
    checks: Vec<Check>,
    events: Vec<EventRecord>,
) -> Result<Results, StepError> {
    let results = Results::new(bus, started_at.to_string(), checks, events);
    let location = ctx
        .ledger_mut()
        .put_document(results::RESULTS_FILE, &results.to_json())
        .await?;
    ctx.print(&results::table(&results.checks));
    ctx.detail(&format!("results written to {location}"));
    ctx.output("results_file", location);
    ctx.output(
        "checks_passed",
        results
            .checks
            .iter()
            .filter(|c| c.passed)
            .count()
            .to_string(),
    );
    ctx.output("checks_failed", results.failed().len().to_string());
    Ok(results)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The project as `base/deploy.toml` names it, with its functions' sources beside it.
    fn env_in(base: &Path) -> Env {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = format!(
            "[schemas]\ndir = \"{0}/schemas\"\nexamples_dir = \"{0}/examples\"\n\n\
             [lambdas.event-logger]\nsource = \"lambdas/event-logger\"\n\n{1}",
            root.display(),
            deploy_config::starter_hub()
        );
        let path = base.join("deploy.toml");
        let overrides = deploy_config::Overrides::default();
        let config = deploy_config::parse(&path, &text, &overrides).unwrap();
        let backend = deploy_state::TerraformBackend::Local;
        let cancel = crate::engine::Cancel::new();
        Env::new(config, base.join("state"), backend, "aws".into(), cancel)
    }

    #[tokio::test]
    async fn the_fingerprint_is_the_same_in_every_checkout_of_the_project() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let state = LedgerState::default();
        let of = async |dir: &Path| {
            let env = env_in(dir);
            assert!(env.config.lambdas[0].source.starts_with(dir));
            TestEvents.fingerprint(&env, &state).await.unwrap().digest()
        };
        assert_eq!(of(a.path()).await, of(b.path()).await);
    }
}

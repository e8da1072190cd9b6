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
mod witness;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState};

use self::publish::Outgoing;
use self::results::{Check, EventRecord, Results};
use crate::engine::{Step, StepContext, StepError};
use crate::env::Env;
use crate::outputs::Infrastructure;

pub struct TestEvents;

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
            .json("lambdas", &c.lambdas))
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let env = ctx.env;
        let config = &env.config;
        let started_at = jiff::Timestamp::now();
        // A minute of margin for clock skew between this machine and the service.
        let since_ms = started_at.as_millisecond() - 60_000;
        let mut checks = Vec::new();

        let t = Instant::now();
        let validated = examples::load(config);
        let examples = match validated {
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
                examples
            }
            Err(e) => {
                checks.push(Check::timed("examples valid", t, false, e.message.clone()));
                finish(ctx, "", started_at, checks, Vec::new()).await?;
                return Err(e);
            }
        };
        report(ctx, checks.last());

        let infra = Infrastructure::required(&ctx.outputs_of("infrastructure"))?;
        let aws = env.aws().await?;
        let removed =
            probe::remove_leftovers(ctx, aws, &infra.event_bus_name, &config.project.environment)
                .await?;
        if !removed.is_empty() {
            ctx.warn(&format!(
                "removed probe leftovers of an earlier run: {}",
                removed.join(", ")
            ))
            .await;
        }

        let outgoing: Vec<Outgoing> = examples
            .iter()
            .map(|e| Outgoing {
                label: e.file.clone(),
                source: e.source.clone(),
                detail_type: e.detail_type.clone(),
                detail: e.detail.clone(),
            })
            .collect();
        let mut probe = probe::Probe::new(&config.project.environment, &infra.event_bus_name);
        let bus_probes = match routes::bus_probes(ctx, aws, config, &outgoing).await {
            Ok(p) => p,
            Err(e) => {
                checks.push(Check::timed(
                    "bus probes",
                    Instant::now(),
                    false,
                    e.message.clone(),
                ));
                Default::default()
            }
        };
        let outcome =
            deliver::exercise(ctx, aws, &infra, &mut probe, outgoing.clone(), &mut checks).await;

        // Always remove the probe, whatever happened above.
        let t = Instant::now();
        let published = match &outcome {
            Ok(p) => p.clone(),
            Err(_) => Vec::new(),
        };
        let cleanup = tokio::time::timeout(
            CLEANUP_TIMEOUT,
            probe::remove(ctx, aws, &infra.event_bus_name, &probe.name),
        )
        .await;
        let check = match cleanup {
            Ok(Ok(())) => Check::timed(
                "probe removed",
                t,
                true,
                format!("rule, target and queue {} deleted", probe.name),
            ),
            Ok(Err(e)) => Check::timed("probe removed", t, false, e.message),
            Err(_) => Check::timed("probe removed", t, false, "timed out deleting the probe"),
        };
        checks.push(check);
        report(ctx, checks.last());

        // Then every route's targets; the probes on other buses go whatever the outcome.
        let mut sent = outgoing.clone();
        sent.push(probe.event());
        let sent_to = routes::Sent {
            outgoing: &sent,
            published: &published,
            probes: &bus_probes,
            since_ms,
        };
        let records = routes::prove(ctx, aws, config, &sent_to, &mut checks).await;
        for p in bus_probes.values() {
            if let Err(e) = probe::remove(ctx, aws, &p.bus, &p.name).await {
                ctx.warn(&format!("could not remove the probe on {}: {e}", p.bus))
                    .await;
            }
        }
        let records = records?;

        match outcome {
            Ok(_) => {}
            Err(e) => {
                checks.push(Check::timed(
                    "publish",
                    Instant::now(),
                    false,
                    e.message.clone(),
                ));
                finish(ctx, &infra.event_bus_name, started_at, checks, Vec::new()).await?;
                return Err(e);
            }
        };

        for c in health::checks(env, aws, ctx.state()).await {
            checks.push(c);
            report(ctx, checks.last());
        }

        let results = finish(ctx, &infra.event_bus_name, started_at, checks, records).await?;
        if results.passed {
            ctx.info(&format!(
                "all {} checks passed; {} events published, every route proven",
                results.checks.len(),
                results.events.len()
            ));
            return Ok(());
        }
        let failed: Vec<String> = results
            .failed()
            .iter()
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        Err(StepError::permanent(format!(
            "{} of {} checks failed: {}",
            failed.len(),
            results.checks.len(),
            failed.join("; ")
        ))
        .with_hint(hint(&results)))
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

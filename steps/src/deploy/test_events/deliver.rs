//! Delivery: the probe and the publishing, then the search for the logger's lines.

use std::collections::BTreeSet;
use std::time::Instant;

use super::publish::{self, Outgoing, Published};
use super::results::{Check, EventRecord};
use super::{logs, probe, report};
use crate::aws::AwsClients;
use crate::deploy::lambdas::outputs::InfraOutputs;
use crate::engine::{RetryPolicy, StepContext, StepError};

/// Sets up the probe, publishes the examples and the probe event, and waits for the probe.
pub async fn exercise(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    infra: &InfraOutputs,
    probe: &mut probe::Probe,
    mut outgoing: Vec<Outgoing>,
    checks: &mut Vec<Check>,
) -> Result<Vec<Published>, StepError> {
    let env = ctx.env;
    let timeout = env.config.tests.delivery_timeout;
    let t = Instant::now();
    let probe_ready = probe.setup(ctx, aws).await;
    if let Err(e) = &probe_ready {
        checks.push(Check::timed(
            "routing probe",
            t,
            false,
            format!("setting up the probe failed: {e}"),
        ));
        report(ctx, checks.last());
    }
    let probe_label = probe.event().label;
    if probe_ready.is_ok() {
        outgoing.push(probe.event());
    }

    let t = Instant::now();
    let policy = RetryPolicy::from(&env.config.retry);
    let (published, rejected) =
        publish::publish(&aws.events, &infra.bus_name, &outgoing, &policy).await?;
    let detail = if rejected.is_empty() {
        format!(
            "{} events accepted by bus {}",
            published.len(),
            infra.bus_name
        )
    } else {
        let why: Vec<String> = rejected
            .iter()
            .map(|r| format!("{}: {}", r.label, r.error))
            .collect();
        format!(
            "{} accepted, {} rejected: {}",
            published.len(),
            rejected.len(),
            why.join("; ")
        )
    };
    checks.push(Check::timed("publish", t, rejected.is_empty(), detail));
    report(ctx, checks.last());
    for p in &published {
        ctx.detail(&format!("published {} as event {}", p.label, p.event_id));
    }

    if probe_ready.is_ok() {
        let t = Instant::now();
        let check = match published.iter().find(|p| p.label == probe_label) {
            None => Check::timed(
                "routing probe",
                t,
                false,
                "the probe event was not accepted",
            ),
            Some(p) => match probe.await_delivery(aws, &p.event_id, timeout).await {
                Ok(took) => Check::timed(
                    "routing probe",
                    t,
                    true,
                    format!(
                        "routing confirmed: event {} reached the probe queue through rule {} in {} ms",
                        p.event_id,
                        probe.name,
                        took.as_millis()
                    ),
                ),
                Err(why) => Check::timed("routing probe", t, false, why),
            },
        };
        checks.push(check);
        report(ctx, checks.last());
    }
    Ok(published)
}

/// Proves the deployed logger ran for every published event.
pub async fn logger_check(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    infra: &InfraOutputs,
    published: &[Published],
    since_ms: i64,
    checks: &mut Vec<Check>,
) -> Result<Vec<EventRecord>, StepError> {
    let env = ctx.env;
    let t = Instant::now();
    let logger = env
        .config
        .lambdas
        .iter()
        .find(|l| l.rule.as_deref() == Some(infra.logger_rule_name.as_str()));
    let Some(logger) = logger else {
        checks.push(Check::timed(
            "logger received events",
            t,
            false,
            format!(
                "no function is configured as the target of {}",
                infra.logger_rule_name
            ),
        ));
        return Ok(Vec::new());
    };
    let group = logs::log_group(&logger.function_name);
    let ids: BTreeSet<String> = published.iter().map(|p| p.event_id.clone()).collect();
    let found = logs::find_received(
        &aws.logs,
        &group,
        &ids,
        since_ms,
        env.config.tests.delivery_timeout,
    )
    .await?;
    let records: Vec<EventRecord> = published
        .iter()
        .map(|p| EventRecord {
            label: p.label.clone(),
            event_id: p.event_id.clone(),
            logger_received: found.contains_key(&p.event_id),
        })
        .collect();
    let missing: Vec<String> = records
        .iter()
        .filter(|r| !r.logger_received)
        .map(|r| format!("{} (event {})", r.label, r.event_id))
        .collect();
    let detail = if missing.is_empty() {
        format!(
            "{} EVENT_RECEIVED lines found by event id in {group}",
            found.len()
        )
    } else {
        format!(
            "the logger never received {} of {} events within {:.0}s: {}",
            missing.len(),
            records.len(),
            env.config.tests.delivery_timeout.as_secs_f64(),
            missing.join(", ")
        )
    };
    checks.push(Check::timed(
        "logger received events",
        t,
        missing.is_empty(),
        detail,
    ));
    report(ctx, checks.last());
    Ok(records)
}

//! Delivery: the routing probe and the publishing.

use std::time::Instant;

use super::publish::{self, Outgoing, Published};
use super::results::Check;
use super::{probe, report};
use crate::aws::AwsClients;
use crate::engine::{RetryPolicy, StepContext, StepError};
use crate::outputs::Infrastructure;

/// Sets up the probe, publishes the examples and the probe event, and waits for the probe.
pub async fn exercise(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    infra: &Infrastructure,
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
        publish::publish(&aws.events, &infra.event_bus_name, &outgoing, &policy).await?;
    let detail = if rejected.is_empty() {
        format!(
            "{} events accepted by bus {}",
            published.len(),
            infra.event_bus_name
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

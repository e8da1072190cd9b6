//! Delivery: the routing probe and the publishing.

use std::time::{Duration, Instant};

use super::publish::{self, Outgoing, Published, Rejected};
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
    let timeout = ctx.env.config.tests.delivery_timeout;
    let probe_ready = set_up(ctx, aws, probe, checks).await;
    let probe_label = probe.event().label;
    if probe_ready {
        outgoing.push(probe.event());
    }
    let published = publish_checked(ctx, aws, infra, &outgoing, checks).await?;
    if probe_ready {
        let t = Instant::now();
        let accepted = published.iter().find(|p| p.label == probe_label);
        let check = probe_check(aws, probe, accepted, timeout, t).await;
        checks.push(check);
        report(ctx, checks.last());
    }
    Ok(published)
}

/// Sets up the probe; whether it is ready (a failure is a failed check).
async fn set_up(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    probe: &mut probe::Probe,
    checks: &mut Vec<Check>,
) -> bool {
    let t = Instant::now();
    let Err(e) = probe.setup(ctx, aws).await else {
        return true;
    };
    checks.push(Check::timed(
        "routing probe",
        t,
        false,
        format!("setting up the probe failed: {e}"),
    ));
    report(ctx, checks.last());
    false
}

/// Publishes `outgoing` to the deployed bus; the `publish` check says what was accepted.
async fn publish_checked(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    infra: &Infrastructure,
    outgoing: &[Outgoing],
    checks: &mut Vec<Check>,
) -> Result<Vec<Published>, StepError> {
    let t = Instant::now();
    let policy = RetryPolicy::from(&ctx.env.config.retry);
    let (published, rejected) =
        publish::publish(&aws.events, &infra.event_bus_name, outgoing, &policy).await?;
    let detail = publish_detail(&published, &rejected, &infra.event_bus_name);
    checks.push(Check::timed("publish", t, rejected.is_empty(), detail));
    report(ctx, checks.last());
    for p in &published {
        ctx.detail(&format!("published {} as event {}", p.label, p.event_id));
    }
    Ok(published)
}

/// The `publish` check's detail: how many were accepted, and why any were rejected.
fn publish_detail(published: &[Published], rejected: &[Rejected], bus: &str) -> String {
    if rejected.is_empty() {
        return format!("{} events accepted by bus {bus}", published.len());
    }
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
}

/// The `routing probe` check: the probe event must have been accepted and reach the probe queue.
async fn probe_check(
    aws: &AwsClients,
    probe: &probe::Probe,
    accepted: Option<&Published>,
    timeout: Duration,
    t: Instant,
) -> Check {
    let Some(p) = accepted else {
        return Check::timed(
            "routing probe",
            t,
            false,
            "the probe event was not accepted",
        );
    };
    match probe.await_delivery(aws, &p.event_id, timeout).await {
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
    }
}

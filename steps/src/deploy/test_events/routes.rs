//! Every route proven: each example a route's pattern matches must arrive at each of its
//! targets — a function's log, a message received from a queue, an execution of a state
//! machine, an event on another bus (through a probe on that bus). A route no example matches is
//! a warning in the report, unless the last good deployment proved it: then its pattern changed
//! so that what it delivered no longer matches it, and that is a failed check.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use deploy_config::{Config, Route, Target, TargetKind};
use serde_json::Value;

use super::pattern;
use super::probe::Probe;
use super::publish::{Outgoing, Published};
use super::results::{Check, EventRecord};
use super::witness::Witness;
use crate::aws::{AwsClients, sdk_error};
use crate::engine::{StepContext, StepError};

/// What arrived where: event id → the `route/target` places it was seen.
pub type Seen = BTreeMap<String, Vec<String>>;

/// Probes on the other buses that routes deliver to, set up before anything is published.
pub async fn bus_probes(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    config: &Config,
    outgoing: &[Outgoing],
) -> Result<BTreeMap<String, Probe>, StepError> {
    let mut probes = BTreeMap::new();
    for route in &config.routes {
        for t in &route.targets {
            let TargetKind::BusArn { arn } = &t.kind else {
                continue;
            };
            if probes.contains_key(arn) {
                continue;
            }
            let bus = arn.rsplit('/').next().unwrap_or(arn).to_string();
            let sources: BTreeSet<&str> = outgoing.iter().map(|o| o.source.as_str()).collect();
            let pattern = serde_json::json!({ "source": sources }).to_string();
            let mut probe = Probe::matching(&config.project.environment, &bus, pattern);
            probe.setup(ctx, aws).await?;
            probes.insert(arn.clone(), probe);
        }
    }
    Ok(probes)
}

/// The event an example becomes, as a pattern sees it.
fn as_event(o: &Outgoing) -> Value {
    serde_json::json!({
        "source": o.source,
        "detail-type": o.detail_type,
        "detail": serde_json::from_str::<Value>(&o.detail).unwrap_or_default(),
    })
}

/// What was sent, and where arrivals can be seen.
pub struct Sent<'a> {
    /// Every event that was to be published (the examples and the probe's).
    pub outgoing: &'a [Outgoing],
    /// Those `PutEvents` accepted, with their ids.
    pub published: &'a [Published],
    /// The probes on other buses, by bus ARN.
    pub probes: &'a BTreeMap<String, Probe>,
    /// When this run started (ms since the epoch, with a margin): older arrivals are not its.
    pub since_ms: i64,
    /// The routes the last good deployment proved.
    pub proven_before: &'a BTreeSet<String>,
}

/// Checks every route's targets for the published examples it matches.
pub async fn prove(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    config: &Config,
    sent: &Sent<'_>,
    checks: &mut Vec<Check>,
) -> Result<Vec<EventRecord>, StepError> {
    let by_label: BTreeMap<&str, &Outgoing> = sent
        .outgoing
        .iter()
        .map(|o| (o.label.as_str(), o))
        .collect();
    let mut seen: Seen = BTreeMap::new();
    for route in &config.routes {
        let Some(expected) = expected(ctx, route, sent.published, &by_label).await else {
            if sent.proven_before.contains(&route.key)
                && !route.targets.is_empty()
                && let Some(check) = no_longer_matched(route, sent.published, &by_label)
            {
                checks.push(check);
                super::report(ctx, checks.last());
            }
            continue;
        };
        for target in &route.targets {
            let t = Instant::now();
            let ids: BTreeSet<String> = expected.iter().map(|p| p.event_id.clone()).collect();
            let found = received(ctx, aws, config, route, target, &ids, sent).await?;
            let place = format!("{}/{}", route.key, target.id);
            for id in &found {
                seen.entry(id.clone()).or_default().push(place.clone());
            }
            let timeout = config.tests.delivery_timeout;
            checks.push(target_check(route, target, &expected, &found, timeout, t));
            super::report(ctx, checks.last());
        }
    }
    Ok(sent
        .published
        .iter()
        .map(|p| EventRecord {
            label: p.label.clone(),
            event_id: p.event_id.clone(),
            delivered_to: seen.get(&p.event_id).cloned().unwrap_or_default(),
        })
        .collect())
}

/// The published examples `route`'s pattern matches, or `None` (with a warning) when its
/// delivery cannot be proven: its pattern is not evaluated here, or no example matches it.
async fn expected<'p>(
    ctx: &mut StepContext<'_>,
    route: &Route,
    published: &'p [Published],
    by_label: &BTreeMap<&str, &Outgoing>,
) -> Option<Vec<&'p Published>> {
    let pattern: Value = serde_json::from_str(&route.pattern).unwrap_or_default();
    let mut expected = Vec::new();
    let mut unevaluated = false;
    for p in published {
        let Some(o) = by_label.get(p.label.as_str()) else {
            continue;
        };
        match pattern::matches(&pattern, &as_event(o)) {
            Some(true) => expected.push(p),
            Some(false) => {}
            None => unevaluated = true,
        }
    }
    if unevaluated {
        ctx.warn(&format!(
            "route {}: its pattern uses an operator not evaluated here; its targets are not \
             checked",
            route.key
        ))
        .await;
        return None;
    }
    if expected.is_empty() {
        ctx.warn(&format!(
            "route {}: no example matches it, so its delivery is not proven (add one under \
             the examples directory)",
            route.key
        ))
        .await;
        return None;
    }
    Some(expected)
}

/// A route the last good deployment proved that no published example matches any more (one
/// whose pattern uses an operator not evaluated here is not judged).
fn no_longer_matched(
    route: &Route,
    published: &[Published],
    by_label: &BTreeMap<&str, &Outgoing>,
) -> Option<Check> {
    let pattern: Value = serde_json::from_str(&route.pattern).unwrap_or_default();
    let unevaluated = published.iter().any(|p| {
        by_label
            .get(p.label.as_str())
            .is_some_and(|o| pattern::matches(&pattern, &as_event(o)).is_none())
    });
    if unevaluated || published.is_empty() {
        return None;
    }
    Some(Check::timed(
        format!("route {} -> its examples", route.key),
        Instant::now(),
        false,
        format!(
            "no example matches its pattern any more ({}); the last good deployment proved it \
             delivers them",
            route.pattern
        ),
    ))
}

/// The check of one route's target: every `expected` event among those `found` there.
fn target_check(
    route: &Route,
    target: &Target,
    expected: &[&Published],
    found: &BTreeSet<String>,
    timeout: Duration,
    t: Instant,
) -> Check {
    let missing: Vec<String> = expected
        .iter()
        .filter(|p| !found.contains(&p.event_id))
        .map(|p| format!("{} (event {})", p.label, p.event_id))
        .collect();
    let name = format!("route {} -> {} {}", route.key, target.kind.key(), target.id);
    let detail = if missing.is_empty() {
        format!("{} of {} events delivered", found.len(), expected.len())
    } else {
        format!(
            "{} of {} events never arrived within {:.0}s: {}",
            missing.len(),
            expected.len(),
            timeout.as_secs_f64(),
            missing.join(", ")
        )
    };
    Check::timed(name, t, missing.is_empty(), detail)
}

/// The ids of `ids` that reached `target`.
async fn received(
    ctx: &mut StepContext<'_>,
    aws: &AwsClients,
    config: &Config,
    route: &Route,
    target: &Target,
    ids: &BTreeSet<String>,
    sent: &Sent<'_>,
) -> Result<BTreeSet<String>, StepError> {
    let timeout = config.tests.delivery_timeout;
    let since_ms = sent.since_ms;
    Ok(match &target.kind {
        TargetKind::Lambda { key } => {
            let function = config
                .lambdas
                .iter()
                .find(|l| &l.key == key)
                .map(|l| l.function_name.clone())
                .unwrap_or_default();
            let group = super::logs::log_group(&function);
            let log = Witness::Log {
                group: &group,
                since_ms,
            };
            log.watch(aws, ids, timeout).await?
        }
        TargetKind::Sqs { queue_name, .. } => in_queue(aws, queue_name, ids, timeout).await?,
        TargetKind::SqsArn { arn } => {
            in_queue(aws, arn.rsplit(':').next().unwrap_or(arn), ids, timeout).await?
        }
        TargetKind::StateMachineArn { arn } => {
            let executions = Witness::Executions { arn, since_ms };
            executions.watch(aws, ids, timeout).await?
        }
        TargetKind::BusArn { arn } => match sent.probes.get(arn) {
            Some(p) => p.received(aws, ids, timeout).await?,
            None => {
                ctx.detail(&format!("route {}: no probe on {arn}", route.key));
                BTreeSet::new()
            }
        },
    })
}

/// Event ids received from a queue (the test's messages are deleted once seen).
async fn in_queue(
    aws: &AwsClients,
    queue_name: &str,
    ids: &BTreeSet<String>,
    timeout: Duration,
) -> Result<BTreeSet<String>, StepError> {
    let url = aws
        .sqs
        .get_queue_url()
        .queue_name(queue_name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("GetQueueUrl {queue_name}"), e))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    Witness::Queue { url: &url }.watch(aws, ids, timeout).await
}

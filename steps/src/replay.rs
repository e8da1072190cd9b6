//! Archive replay: archived events of a time window sent through the bus's rules again.
//!
//! A temporary probe (a rule matching this replay's `replay-name`, and a queue) counts what is
//! redelivered: EventBridge reports a replay's state, not how many events it sent.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::{ReplayDestination, ReplayState};
use deploy_config::{Config, EventType};
use jiff::Timestamp;
use serde_json::json;

use crate::aws::{AwsClients, sdk_error};
use crate::deploy::test_events::probe::{self, Probe};
use crate::engine::{Inventory, Poller, StepError};

/// What a replay needs from the deployment.
#[derive(Debug, Clone)]
pub struct Target {
    pub archive_name: String,
    pub archive_arn: String,
    pub bus_name: String,
    pub bus_arn: String,
    /// Rule ARNs the replayed events go to; `None`: every rule of the bus.
    pub rules: Option<Vec<String>>,
    /// Count only events of this type.
    pub event: Option<EventType>,
}

/// Why a replay was refused before it started: bad input (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Checks the window against the archive: it must end in the past, start before it ends, and
/// lie within the archive's retention.
pub async fn check_window(
    aws: &AwsClients,
    target: &Target,
    start: Timestamp,
    end: Timestamp,
    now: Timestamp,
) -> Result<Result<(), Refused>, StepError> {
    let archive = aws
        .events
        .describe_archive()
        .archive_name(&target.archive_name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("DescribeArchive {}", target.archive_name), e))?;
    let retention = archive.retention_days().unwrap_or(0);
    Ok(window_ok(start, end, now, retention))
}

/// The rules of `check_window`, on plain values. `retention_days` 0 = kept indefinitely.
pub fn window_ok(
    start: Timestamp,
    end: Timestamp,
    now: Timestamp,
    retention_days: i32,
) -> Result<(), Refused> {
    if end > now {
        return Err(Refused(format!(
            "--until {end} is in the future; the archive holds events up to now ({now})"
        )));
    }
    if start >= end {
        return Err(Refused(format!(
            "the window is empty: it starts at {start} and ends at {end}"
        )));
    }
    if retention_days > 0 {
        let oldest = now - jiff::SignedDuration::from_hours(24 * i64::from(retention_days));
        if start < oldest {
            return Err(Refused(format!(
                "the window starts at {start}, but the archive keeps events for {retention_days} \
                 day(s), so nothing older than {oldest} is left; use a --since of at most \
                 {retention_days}d"
            )));
        }
    }
    Ok(())
}

/// What a finished replay did.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub name: String,
    pub state: String,
    /// Distinct events the probe saw redelivered.
    pub events: usize,
    pub elapsed: Duration,
}

/// The probe's pattern: events of this replay (of one type when asked).
fn probe_pattern(replay: &str, event: Option<&EventType>) -> String {
    let mut p = json!({ "replay-name": [replay] });
    if let Some(e) = event {
        p["source"] = json!([e.source]);
        p["detail-type"] = json!([e.detail_type]);
    }
    p.to_string()
}

/// Starts the replay of `[start, end)` with a counting probe, reports its state changes through
/// `progress`, waits (at most `timeout`) until it completes and the redelivered events stop
/// arriving, and removes the probe whatever happened. `record` / `forget` keep the probe in the
/// inventory while it exists.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    aws: &AwsClients,
    config: &Config,
    target: &Target,
    start: Timestamp,
    end: Timestamp,
    timeout: Duration,
    record: &mut dyn Inventory,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Replayed, StepError> {
    let t = Instant::now();
    let environment = &config.project.environment;
    let name = format!(
        "{environment}-replay-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut probe = Probe::matching(
        environment,
        &target.bus_name,
        probe_pattern(&name, target.event.as_ref()),
    );
    let tags = crate::ownership::ownership_tags(config);
    let created = probe.create(aws, tags, "replay", record).await;
    let outcome = match created {
        Ok(()) => replay_and_count(aws, target, &probe, &name, start, end, timeout, progress).await,
        Err(e) => Err(e),
    };
    let removed = probe::delete(aws, &target.bus_name, &probe.name).await;
    let events = outcome?;
    removed?;
    Ok(Replayed {
        name,
        state: "COMPLETED".into(),
        events,
        elapsed: t.elapsed(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn replay_and_count(
    aws: &AwsClients,
    target: &Target,
    probe: &Probe,
    name: &str,
    start: Timestamp,
    end: Timestamp,
    timeout: Duration,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<usize, StepError> {
    let probe_rule = aws
        .events
        .describe_rule()
        .name(&probe.name)
        .event_bus_name(&target.bus_name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("DescribeRule {}", probe.name), e))?;
    let destination = ReplayDestination::builder()
        .arn(&target.bus_arn)
        .set_filter_arns(target.rules.as_ref().map(|rules| {
            let mut r = rules.clone();
            r.extend(probe_rule.arn().map(str::to_string));
            r
        }))
        .build()
        .map_err(|e| StepError::permanent(format!("replay destination: {e}")))?;
    let to_time =
        |ts: Timestamp| aws_sdk_eventbridge::primitives::DateTime::from_millis(ts.as_millisecond());
    aws.events
        .start_replay()
        .replay_name(name)
        .description("deploy replay")
        .event_source_arn(&target.archive_arn)
        .event_start_time(to_time(start))
        .event_end_time(to_time(end))
        .destination(destination)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("StartReplay {name}"), e))?;
    progress(&format!("replay {name} started: {start} to {end}"));

    let url = probe.queue_url().unwrap_or_default().to_string();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut poll = Poller::new(timeout);
    let mut last_state: Option<ReplayState> = None;
    let mut quiet = 0;
    loop {
        // A receive that failed saw nothing, which is not the same as quiet.
        let got = poll.tolerate(receive(aws, &url, name).await)?;
        quiet = match &got {
            Some(got) if got.is_empty() => quiet + 1,
            _ => 0,
        };
        seen.extend(got.unwrap_or_default());
        let described = aws
            .events
            .describe_replay()
            .replay_name(name)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("DescribeReplay {name}"), e));
        if let Some(d) = poll.tolerate(described)? {
            let state = d.state().cloned();
            if state != last_state {
                let s = state.as_ref().map_or("unknown", |s| s.as_str());
                progress(&format!(
                    "replay {name}: {s}, {} events redelivered so far",
                    seen.len()
                ));
                last_state = state.clone();
            }
            match state {
                Some(ReplayState::Failed) | Some(ReplayState::Cancelled) => {
                    return Err(StepError::permanent(format!(
                        "replay {name} ended {}: {}",
                        last_state.as_ref().map_or("", |s| s.as_str()),
                        d.state_reason().unwrap_or("no reason given")
                    )));
                }
                // Completed, and two receives in a row (a second each) brought nothing new.
                Some(ReplayState::Completed) if quiet >= 2 => return Ok(seen.len()),
                _ => {}
            }
        }
        if !poll.wait().await {
            poll.finish(())?;
            return Err(StepError::permanent(format!(
                "replay {name} did not complete within {:.0}s ({} events redelivered so far); \
                 it goes on in the service",
                timeout.as_secs_f64(),
                seen.len()
            )));
        }
    }
}

/// Ids of this replay's events that arrived in the probe queue (each deleted once read).
async fn receive(aws: &AwsClients, url: &str, name: &str) -> Result<Vec<String>, StepError> {
    let taken = crate::aws::take_messages(&aws.sqs, url, |b| b["replay-name"] == name)
        .await
        .map_err(|e| sdk_error("ReceiveMessage from the replay probe", e))?;
    Ok(taken
        .iter()
        .filter_map(|b| b["id"].as_str().map(String::from))
        .collect())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_window_must_be_past_non_empty_and_within_retention() {
        let now = ts("2026-11-25T12:00:00Z");
        assert!(window_ok(ts("2026-11-25T11:50:00Z"), now, now, 7).is_ok());
        let e = window_ok(ts("2026-11-17T12:00:00Z"), now, now, 7).unwrap_err();
        assert!(e.0.contains("keeps events for 7 day(s)"), "{e}");
        assert!(e.0.contains("at most 7d"), "{e}");
        // Indefinite retention: any start.
        assert!(window_ok(ts("2020-01-01T00:00:00Z"), now, now, 0).is_ok());
        let e = window_ok(
            ts("2026-11-25T11:00:00Z"),
            ts("2026-11-25T13:00:00Z"),
            now,
            7,
        );
        assert!(e.unwrap_err().0.contains("in the future"));
        let e = window_ok(now, now, now, 7).unwrap_err();
        assert!(e.0.contains("empty"));
    }

    #[test]
    fn the_probe_catches_this_replay_and_the_asked_type() {
        let p: Value = serde_json::from_str(&probe_pattern("r1", None)).unwrap();
        assert_eq!(p, json!({"replay-name": ["r1"]}));
        let e = EventType {
            key: "a".into(),
            source: "s".into(),
            detail_type: "A".into(),
            compatibility: deploy_contracts::Mode::Backward,
        };
        let p: Value = serde_json::from_str(&probe_pattern("r1", Some(&e))).unwrap();
        assert_eq!(p["source"], json!(["s"]));
        assert_eq!(p["detail-type"], json!(["A"]));
    }
}

//! Counting a replay: a temporary probe (a rule matching this replay's `replay-name`, and a
//! queue) catches what is redelivered, since EventBridge reports a replay's state, not how many
//! events it sent.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_eventbridge::types::{ReplayDestination, ReplayState};
use deploy_config::{Config, EventType};
use jiff::Timestamp;
use serde_json::json;

use super::{Replayed, Target};
use crate::aws::{AwsClients, sdk_error};
use crate::deploy::test_events::probe::{self, Probe};
use crate::engine::{Inventory, Poller, StepError};

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
pub async fn run(
    aws: &AwsClients,
    config: &Config,
    target: &Target,
    (start, end): (Timestamp, Timestamp),
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
        Ok(()) => {
            let replay = Counted {
                name: &name,
                probe: &probe,
                timeout,
            };
            replay_and_count(aws, target, replay, (start, end), progress).await
        }
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

/// The replay `name` of `[start, end)`, counted by `probe`.
struct Counted<'a> {
    name: &'a str,
    probe: &'a Probe,
    timeout: Duration,
}

async fn replay_and_count(
    aws: &AwsClients,
    target: &Target,
    replay: Counted<'_>,
    (start, end): (Timestamp, Timestamp),
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<usize, StepError> {
    start_replay(aws, target, &replay, (start, end)).await?;
    progress(&format!("replay {} started: {start} to {end}", replay.name));
    watch(aws, &replay, progress).await
}

/// Starts the replay into the bus: to the target's rules (and the probe's), or every rule.
async fn start_replay(
    aws: &AwsClients,
    target: &Target,
    replay: &Counted<'_>,
    (start, end): (Timestamp, Timestamp),
) -> Result<(), StepError> {
    let (name, probe) = (replay.name, replay.probe);
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
    Ok(())
}

/// Counts what the probe receives until the replay completed and the redelivered events stopped
/// arriving (two receives in a row, a second each, brought nothing new), reporting each state
/// change; at most `timeout`.
async fn watch(
    aws: &AwsClients,
    replay: &Counted<'_>,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<usize, StepError> {
    let name = replay.name;
    let url = replay.probe.queue_url().unwrap_or_default().to_string();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut poll = Poller::new(replay.timeout);
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
                Some(ReplayState::Failed | ReplayState::Cancelled) => {
                    return Err(StepError::permanent(format!(
                        "replay {name} ended {}: {}",
                        last_state.as_ref().map_or("", |s| s.as_str()),
                        d.state_reason().unwrap_or("no reason given")
                    )));
                }
                Some(ReplayState::Completed) if quiet >= 2 => return Ok(seen.len()),
                _ => {}
            }
        }
        if !poll.wait().await {
            poll.finish(())?;
            return Err(StepError::permanent(format!(
                "replay {name} did not complete within {:.0}s ({} events redelivered so far); \
                 it goes on in the service",
                replay.timeout.as_secs_f64(),
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

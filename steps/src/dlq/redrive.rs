//! `dlq redrive`: each dead-lettered event re-published to the bus it was meant for, with the
//! dead-letter processor's loop guard, at most `rate` entries a second.
//!
//! Order per batch: receive (hidden), build the entries, `PutEvents`, then delete exactly the
//! messages whose entry was accepted (an event id, no error code). A run killed at any instant
//! has deleted only what was sent; its hidden messages come back when their hiding ends, and a
//! new run waits for them: each message is sent at least once and none is left behind.

use std::time::{Duration, Instant};

use deploy_config::Config;
use jiff::Timestamp;
use serde::Serialize;

use super::Dlq;
use super::event::{self, DeadLetter, Replay, ReplayEntry, bus_from_rule_arn, replay_entry};
use super::publish::{MAX_ENTRIES, send};
use super::read::{Depth, Reader, depth};
use crate::aws::{AwsClients, is_not_found, sdk_error};
use crate::engine::StepError;

/// How long a redrive hides a message between receiving it and deleting it (or, when it is
/// kept, until the end of the run). A killed run's messages are visible again after this.
const REDRIVE_HIDE_SECONDS: i32 = 30;

#[derive(Debug, Clone)]
pub struct RedriveRequest {
    /// Handle at most this many messages.
    pub max: Option<usize>,
    /// At most this many `PutEvents` entries a second (> 0).
    pub rate: f64,
    /// Read and report what would be sent; send and delete nothing.
    pub dry_run: bool,
}

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Re-published and deleted.
    Sent,
    /// `--dry-run`: would be re-published.
    WouldSend,
    /// Left in the queue by the loop guard: re-published as often as allowed already.
    Refused,
    /// Left in the queue (or, sent but not deleted): see the reason.
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Handled {
    pub message_id: String,
    pub event_id: Option<String>,
    /// Re-publishes before this one.
    pub attempt: u64,
    pub outcome: Outcome,
    /// The bus it went (or would go) to.
    pub bus: Option<String>,
    /// The id `PutEvents` gave the re-published event.
    pub new_event_id: Option<String>,
    pub reason: Option<String>,
    /// `--dry-run`: the entry it would send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<ReplayEntry>,
}

/// What a redrive did.
#[derive(Debug, Clone, Serialize)]
pub struct Redriven {
    pub queue: String,
    pub dry_run: bool,
    /// The loop guard's limit, and where it comes from.
    pub max_republish: u64,
    pub max_republish_from: String,
    pub sent: usize,
    pub would_send: usize,
    pub refused: usize,
    pub failed: usize,
    /// What the queue holds after the run.
    pub left: Depth,
    pub messages: Vec<Handled>,
    /// Why the run stopped before the queue was read to the end.
    pub stopped: Option<String>,
    pub warnings: Vec<String>,
}

impl Redriven {
    /// Whether something failed (exit 1): an entry rejected, a delete, or the run itself.
    pub fn failed(&self) -> bool {
        self.failed > 0 || self.stopped.is_some()
    }

    pub(super) fn record(&mut self, h: Handled) {
        match h.outcome {
            Outcome::Sent => self.sent += 1,
            Outcome::WouldSend => self.would_send += 1,
            Outcome::Refused => self.refused += 1,
            Outcome::Failed => self.failed += 1,
        }
        self.messages.push(h);
    }
}

/// The loop guard's limit: the dead-letter processor's `MAX_REPUBLISH` when its function sets
/// it, else the processor's default; and where it came from.
pub async fn republish_limit(aws: &AwsClients, config: &Config) -> (u64, String) {
    let default = (event::DEFAULT_MAX_REPUBLISH, "the default".to_string());
    let Some(processor) = config.lambdas.iter().find(|l| l.dead_letter_queue) else {
        return default;
    };
    let name = &processor.function_name;
    let got = aws
        .lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await;
    let value = match got {
        Ok(c) => c
            .environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get("MAX_REPUBLISH"))
            .cloned(),
        Err(e) if is_not_found(&e) => None,
        Err(e) => {
            let why = sdk_error("lambda:GetFunctionConfiguration", e);
            return (
                default.0,
                format!("the default ({name} could not be read: {why})"),
            );
        }
    };
    match value {
        Some(v) => (
            event::max_republish(Some(&v)),
            format!("MAX_REPUBLISH={v} of {name}"),
        ),
        None => default,
    }
}

/// Spaces `PutEvents` batches so that at most `rate` entries a second are sent: a rate limit's
/// pacing, not a wait for a condition.
struct RatePacing {
    per_entry: Duration,
    next: Instant,
}

impl RatePacing {
    fn new(rate: f64) -> Self {
        RatePacing {
            per_entry: Duration::from_secs_f64(1.0 / rate),
            next: Instant::now(),
        }
    }

    /// Entries a batch may hold: a second's worth, at least 1, at most 10.
    fn batch(rate: f64) -> usize {
        (rate.floor() as usize).clamp(1, MAX_ENTRIES)
    }

    /// Waits until `entries` more may be sent, and counts them as sent.
    async fn before_sending(&mut self, entries: usize) {
        tokio::time::sleep_until(self.next.into()).await;
        self.next = self.next.max(Instant::now()) + self.per_entry * entries as u32;
    }
}

pub async fn run(
    aws: &AwsClients,
    dlq: &Dlq,
    request: &RedriveRequest,
    (limit, limit_from): (u64, String),
) -> Result<Redriven, StepError> {
    let mut done = Redriven {
        queue: dlq.name.clone(),
        dry_run: request.dry_run,
        max_republish: limit,
        max_republish_from: limit_from,
        sent: 0,
        would_send: 0,
        refused: 0,
        failed: 0,
        left: Depth::default(),
        messages: Vec::new(),
        stopped: None,
        warnings: Vec::new(),
    };
    let start = depth(aws, &dlq.url).await?;
    let wait = Duration::from_secs(REDRIVE_HIDE_SECONDS as u64 + 5);
    let mut reader = Reader::new(aws, &dlq.url, REDRIVE_HIDE_SECONDS)
        .waiting_for_in_flight(start.in_flight, wait);
    if start.total() > 0
        && let Err(e) = redrive_all(aws, dlq, &mut reader, request, &mut done).await
    {
        done.stopped = Some(e.to_string());
    }
    done.warnings.extend(reader.release().await);
    done.left = depth(aws, &dlq.url).await?;
    Ok(done)
}

async fn redrive_all(
    aws: &AwsClients,
    dlq: &Dlq,
    reader: &mut Reader<'_>,
    request: &RedriveRequest,
    done: &mut Redriven,
) -> Result<(), StepError> {
    let mut pacing = RatePacing::new(request.rate);
    let batch = if request.dry_run {
        MAX_ENTRIES
    } else {
        RatePacing::batch(request.rate)
    };
    loop {
        let handled = done.messages.len();
        let room = request
            .max
            .map_or(batch, |m| m.saturating_sub(handled).min(batch));
        if room == 0 {
            return Ok(());
        }
        if !request.dry_run {
            pacing.before_sending(room).await;
        }
        let letters = reader.next(room).await?;
        if letters.is_empty() {
            return Ok(());
        }
        let planned = plan(&letters, dlq, done.max_republish, Timestamp::now());
        if request.dry_run {
            for (h, _) in planned {
                done.record(h);
            }
        } else {
            send(aws, reader, planned, done).await?;
        }
    }
}

/// Each letter's fate before sending: refused by the loop guard, not an event, or an entry
/// to send (`WouldSend`, with its entry).
fn plan<'l>(
    letters: &'l [DeadLetter],
    dlq: &Dlq,
    limit: u64,
    now: Timestamp,
) -> Vec<(Handled, &'l DeadLetter)> {
    letters
        .iter()
        .map(|d| {
            let attempt = d.attempt();
            let bus = d
                .rule_arn
                .as_deref()
                .and_then(bus_from_rule_arn)
                .unwrap_or(&dlq.bus);
            let mut h = Handled {
                message_id: d.message_id.clone(),
                event_id: d.event_id().map(str::to_string),
                attempt,
                outcome: Outcome::WouldSend,
                bus: Some(bus.to_string()),
                new_event_id: None,
                reason: None,
                entry: None,
            };
            let replay = Replay {
                bus,
                attempt: attempt + 1,
                error_code: d.error_code.as_deref(),
                message_id: &d.message_id,
                now,
            };
            if attempt >= limit {
                h.outcome = Outcome::Refused;
                h.reason = Some(format!(
                    "re-published {attempt} times already (the limit is {limit})"
                ));
            } else if let Some(entry) = replay_entry(d, replay) {
                h.entry = Some(entry);
            } else {
                h.outcome = Outcome::Failed;
                h.reason = Some("not an EventBridge event (no source or detail-type)".into());
            }
            (h, d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn letter(id: &str, rule_arn: Option<&str>, body: Value) -> DeadLetter {
        DeadLetter {
            message_id: format!("m-{id}"),
            receipt_handle: "h".into(),
            body: body.to_string(),
            event: body.as_object().cloned(),
            rule_arn: rule_arn.map(str::to_string),
            target_arn: None,
            error_code: Some("TIMEOUT".into()),
            error_message: None,
            sent_at_ms: None,
            function_arn: None,
        }
    }

    #[test]
    fn the_plan_sends_to_the_rules_bus_and_refuses_at_the_limit() {
        let dlq = Dlq {
            name: "q".into(),
            url: "u".into(),
            bus: "deployment-bus".into(),
        };
        let event = |id: &str, attempt: u64| {
            json!({"id": id, "source": "s", "detail-type": "D",
                   "detail": {"_replay": {"attempt": attempt}}})
        };
        let letters = [
            letter(
                "a",
                Some("arn:aws:events:r:1:rule/other-bus/x"),
                event("a", 0),
            ),
            letter("b", Some("arn:aws:events:r:1:rule/x"), event("b", 2)),
            letter("c", None, event("c", 3)),
            letter("d", None, json!({"id": "d", "detail": {}})),
        ];
        let planned = plan(&letters, &dlq, 3, Timestamp::UNIX_EPOCH);
        let seen: Vec<(Outcome, Option<&str>)> = planned
            .iter()
            .map(|(h, _)| (h.outcome, h.entry.as_ref().map(|e| e.bus.as_str())))
            .collect();
        assert_eq!(
            seen,
            [
                (Outcome::WouldSend, Some("other-bus")),
                (Outcome::WouldSend, Some("deployment-bus")),
                (Outcome::Refused, None),
                (Outcome::Failed, None),
            ]
        );
        let detail: Value =
            serde_json::from_str(&planned[1].0.entry.as_ref().unwrap().detail).unwrap();
        assert_eq!(
            detail["_replay"]["attempt"], 3,
            "2 before, this is the third"
        );
        assert_eq!(detail["_replay"]["lastErrorCode"], "TIMEOUT");
    }

    #[test]
    fn a_batch_is_a_seconds_worth_of_entries_between_one_and_ten() {
        assert_eq!(RatePacing::batch(0.5), 1);
        assert_eq!(RatePacing::batch(1.0), 1);
        assert_eq!(RatePacing::batch(5.7), 5);
        assert_eq!(RatePacing::batch(500.0), 10);
    }

    #[tokio::test]
    async fn pacing_spaces_batches_by_the_rate() {
        let start = Instant::now();
        let mut pacing = RatePacing::new(100.0);
        pacing.before_sending(5).await;
        assert!(
            start.elapsed() < Duration::from_millis(40),
            "the first at once"
        );
        pacing.before_sending(5).await;
        pacing.before_sending(5).await;
        assert!(
            start.elapsed() >= Duration::from_millis(100),
            "{:?}",
            start.elapsed()
        );
    }
}

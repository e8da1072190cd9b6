//! Reading the dead-letter queue without consuming it: its depth, and messages received hidden
//! for a short while ([`Reader`]), each made visible again at once unless the caller deletes it.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};
use serde::Serialize;

use super::Dlq;
use super::event::DeadLetter;
use crate::aws::{AwsClients, sdk_error};
use crate::engine::{Poller, StepError};

/// How many messages `show` reads at most: its counts are of these, a sample of a deeper queue.
pub const SHOW_READ: usize = 100;
/// How many of them it lists.
pub const SHOW_SAMPLE: usize = 5;
/// How long `show` hides what it reads (it makes them visible again as soon as it is done).
const SHOW_HIDE_SECONDS: i32 = 15;
/// Receives in a row that brought only messages seen before, after which a reader stops.
const ALL_SEEN_RECEIVES: usize = 3;

pub use crate::catalog::Depth;

/// The dead-letter queue's depth (approximate on AWS; a queue that is gone holds nothing).
pub async fn depth(aws: &AwsClients, url: &str) -> Result<Depth, StepError> {
    Ok(crate::catalog::queue_depth_at(aws, url)
        .await?
        .unwrap_or_default())
}

/// Receives a queue's messages, each once, hidden for `hide_seconds`; remembers the ones it holds
/// (received, not deleted) to make them visible again ([`Reader::release`]).
pub struct Reader<'a> {
    aws: &'a AwsClients,
    url: &'a str,
    hide_seconds: i32,
    /// Received and neither deleted nor released: message id → latest receipt handle.
    held: BTreeMap<String, String>,
    seen: HashSet<String>,
    /// Waits for messages hidden by someone else (a killed run), when asked to.
    waiting: Option<(u64, Poller)>,
}

impl<'a> Reader<'a> {
    pub fn new(aws: &'a AwsClients, url: &'a str, hide_seconds: i32) -> Self {
        Reader {
            aws,
            url,
            hide_seconds,
            held: BTreeMap::new(),
            seen: HashSet::new(),
            waiting: None,
        }
    }

    /// Also waits, at most `timeout`, for the messages that were in flight when the reader
    /// started (`in_flight` of them: hidden by a run that was killed, or by a consumer) to be
    /// visible again, before saying the queue is read.
    pub fn waiting_for_in_flight(mut self, in_flight: u64, timeout: Duration) -> Self {
        if in_flight > 0 {
            self.waiting = Some((in_flight, Poller::new(timeout)));
        }
        self
    }

    /// Up to `max` (at most 10) messages this reader has not returned before; none when the
    /// queue has no more (a receive brought nothing, or only messages seen before, a few times
    /// in a row).
    pub async fn next(&mut self, max: usize) -> Result<Vec<DeadLetter>, StepError> {
        loop {
            for _ in 0..ALL_SEEN_RECEIVES {
                let got = self.receive(max).await?;
                if got.is_empty() {
                    break;
                }
                let new: Vec<DeadLetter> = got
                    .into_iter()
                    .filter(|d| self.seen.insert(d.message_id.clone()))
                    .collect();
                if !new.is_empty() {
                    return Ok(new);
                }
            }
            if !self.wait_for_in_flight().await? {
                return Ok(Vec::new());
            }
        }
    }

    /// Whether to look again: some of the messages in flight at the start are still hidden
    /// (beyond the ones this reader holds), and there is time left to wait for them.
    async fn wait_for_in_flight(&mut self) -> Result<bool, StepError> {
        let Some((_, poll)) = &mut self.waiting else {
            return Ok(false);
        };
        let in_flight = poll.tolerate(depth(self.aws, self.url).await)?;
        let Some(d) = in_flight else {
            return Ok(poll.wait().await);
        };
        let others = d.in_flight.saturating_sub(self.held.len() as u64);
        Ok(others > 0 && poll.wait().await)
    }

    async fn receive(&mut self, max: usize) -> Result<Vec<DeadLetter>, StepError> {
        let out = self
            .aws
            .sqs
            .receive_message()
            .queue_url(self.url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(1)
            .visibility_timeout(self.hide_seconds)
            .message_attribute_names("All")
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::SentTimestamp,
            )
            .send()
            .await
            .map_err(|e| sdk_error("sqs:ReceiveMessage from the dead-letter queue", e))?;
        let got: Vec<DeadLetter> = out
            .messages()
            .iter()
            .filter_map(DeadLetter::from_message)
            .collect();
        for d in &got {
            self.held
                .insert(d.message_id.clone(), d.receipt_handle.clone());
        }
        Ok(got)
    }

    /// Deletes `letters` (held by this reader); returns the ids deleted and the failures, each
    /// with its reason.
    pub async fn delete(
        &mut self,
        letters: &[&DeadLetter],
    ) -> Result<(Vec<String>, Vec<(String, String)>), StepError> {
        let (mut deleted, mut failed) = (Vec::new(), Vec::new());
        for chunk in letters.chunks(10) {
            let entries = chunk.iter().enumerate().map(|(i, d)| {
                let handle = self.held.get(&d.message_id).unwrap_or(&d.receipt_handle);
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .expect("id and receipt handle set")
            });
            let out = self
                .aws
                .sqs
                .delete_message_batch()
                .queue_url(self.url)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .map_err(|e| sdk_error("sqs:DeleteMessageBatch on the dead-letter queue", e))?;
            let id_of = |i: &str| i.parse::<usize>().ok().map(|i| &chunk[i].message_id);
            for ok in out.successful() {
                if let Some(id) = id_of(ok.id()) {
                    self.held.remove(id);
                    deleted.push(id.clone());
                }
            }
            for f in out.failed() {
                if let Some(id) = id_of(f.id()) {
                    failed.push((
                        id.clone(),
                        format!("{}: {}", f.code(), f.message().unwrap_or("")),
                    ));
                }
            }
        }
        Ok((deleted, failed))
    }

    /// Makes every message this reader holds visible again at once; a warning when some could
    /// not be (they come back when their hiding ends).
    pub async fn release(&mut self) -> Option<String> {
        let held: Vec<(String, String)> = std::mem::take(&mut self.held).into_iter().collect();
        let mut not_released = 0;
        let mut why = String::new();
        for chunk in held.chunks(10) {
            let entries = chunk.iter().enumerate().map(|(i, (_, handle))| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .build()
                    .expect("id and receipt handle set")
            });
            let sent = self
                .aws
                .sqs
                .change_message_visibility_batch()
                .queue_url(self.url)
                .set_entries(Some(entries.collect()))
                .send()
                .await;
            match sent {
                Ok(out) => {
                    not_released += out.failed().len();
                    if let Some(f) = out.failed().first() {
                        why = format!("{}: {}", f.code(), f.message().unwrap_or(""));
                    }
                }
                Err(e) => {
                    not_released += chunk.len();
                    why = sdk_error("sqs:ChangeMessageVisibilityBatch", e).message;
                }
            }
        }
        (not_released > 0).then(|| {
            format!(
                "{not_released} messages could not be made visible again at once ({why}); they \
                 are visible again within {}s",
                self.hide_seconds
            )
        })
    }
}

/// What `show` saw.
#[derive(Debug, Clone, Serialize)]
pub struct Peek {
    pub queue: String,
    pub url: String,
    pub depth: Depth,
    /// Messages read: the counts below are of these.
    pub read: usize,
    /// The queue holds more than was read: the counts are of a sample.
    pub sample: bool,
    /// The age of the oldest message read, in seconds.
    pub oldest_age_seconds: Option<u64>,
    pub by_source: BTreeMap<String, usize>,
    pub by_detail_type: BTreeMap<String, usize>,
    /// By the `RULE_ARN` attribute.
    pub by_rule: BTreeMap<String, usize>,
    /// By the `ERROR_CODE` attribute (or why Lambda gave up on an invocation).
    pub by_error_code: BTreeMap<String, usize>,
    /// By the function whose asynchronous invocation failed (`(none)`: an EventBridge target's
    /// failure).
    pub by_function: BTreeMap<String, usize>,
    pub messages: Vec<Sample>,
    pub warnings: Vec<String>,
}

/// One message of the sample.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub message_id: String,
    pub event_id: Option<String>,
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub rule_arn: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub age_seconds: Option<u64>,
    /// Re-publishes so far (`detail._replay.attempt`).
    pub attempt: u64,
    /// The function whose asynchronous invocation failed with it, if one did.
    pub function_arn: Option<String>,
}

/// Reads up to [`SHOW_READ`] messages, hidden for a few seconds and made visible again at once.
pub async fn peek(aws: &AwsClients, dlq: &Dlq) -> Result<Peek, StepError> {
    let depth = depth(aws, &dlq.url).await?;
    let mut read = Vec::new();
    let mut warnings = Vec::new();
    if depth.total() > 0 {
        let mut reader = Reader::new(aws, &dlq.url, SHOW_HIDE_SECONDS);
        let mut outcome = Ok(());
        while read.len() < SHOW_READ {
            match reader.next(SHOW_READ - read.len()).await {
                Ok(got) if got.is_empty() => break,
                Ok(got) => read.extend(got),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        warnings.extend(reader.release().await);
        outcome?;
    }
    Ok(summarise(
        dlq,
        depth,
        &read,
        warnings,
        jiff::Timestamp::now().as_millisecond(),
    ))
}

fn summarise(
    dlq: &Dlq,
    depth: Depth,
    read: &[DeadLetter],
    warnings: Vec<String>,
    now_ms: i64,
) -> Peek {
    let none = || "(none)".to_string();
    let by = |key: &dyn Fn(&DeadLetter) -> Option<String>| {
        let mut m = BTreeMap::new();
        for d in read {
            *m.entry(key(d).unwrap_or_else(none)).or_insert(0) += 1;
        }
        m
    };
    let by_source = by(&|d| d.source().map(str::to_string));
    let by_detail_type = by(&|d| d.detail_type().map(str::to_string));
    let by_rule = by(&|d| d.rule_arn.clone());
    let by_error_code = by(&|d| d.error_code.clone());
    let by_function = by(&|d| d.function_arn.clone());
    let messages = read
        .iter()
        .take(SHOW_SAMPLE)
        .map(|d| Sample {
            message_id: d.message_id.clone(),
            event_id: d.event_id().map(str::to_string),
            source: d.source().map(str::to_string),
            detail_type: d.detail_type().map(str::to_string),
            rule_arn: d.rule_arn.clone(),
            error_code: d.error_code.clone(),
            error_message: d.error_message.clone(),
            age_seconds: d.age_seconds(now_ms),
            attempt: d.attempt(),
            function_arn: d.function_arn.clone(),
        })
        .collect();
    Peek {
        queue: dlq.name.clone(),
        url: dlq.url.clone(),
        depth,
        read: read.len(),
        sample: (read.len() as u64) < depth.total(),
        oldest_age_seconds: read.iter().filter_map(|d| d.age_seconds(now_ms)).max(),
        by_source,
        by_detail_type,
        by_rule,
        by_error_code,
        by_function,
        messages,
        warnings,
    }
}

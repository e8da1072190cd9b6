//! Publishing to the deployed bus: `PutEvents` in batches of at most 10, every entry's result
//! checked, entries that failed for a passing reason (throttling, internal error) sent again.

use aws_sdk_eventbridge::types::{PutEventsRequestEntry, PutEventsResultEntry};

use crate::aws::sdk_error;
use crate::engine::{RetryPolicy, StepError};

/// `PutEvents` takes at most this many entries.
pub const BATCH: usize = 10;

/// Entry error codes worth sending again.
const RETRYABLE: &[&str] = &[
    "ThrottlingException",
    "InternalFailure",
    "InternalException",
    "ServiceUnavailable",
];

/// An event to publish; `label` names it in reports (the example's file name).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub label: String,
    pub source: String,
    pub detail_type: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub label: String,
    /// The id `PutEvents` returned: the `id` the consumers see.
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub label: String,
    pub error: String,
}

/// Publishes `events` to `bus`; returns what was accepted and what was rejected (and why).
pub async fn publish(
    client: &aws_sdk_eventbridge::Client,
    bus: &str,
    events: &[Outgoing],
    policy: &RetryPolicy,
) -> Result<(Vec<Published>, Vec<Rejected>), StepError> {
    let mut tally = Tally::default();
    let mut pending: Vec<&Outgoing> = events.iter().collect();
    let mut backoff = policy.backoff();
    while !pending.is_empty() {
        for batch in pending.chunks(BATCH) {
            send_batch(client, bus, batch, &mut tally).await?;
        }
        if tally.again.is_empty() {
            break;
        }
        match backoff.next() {
            Some(delay) => tokio::time::sleep(delay).await,
            None => {
                tally.give_up();
                break;
            }
        }
        pending = std::mem::take(&mut tally.again)
            .into_iter()
            .map(|(e, _)| e)
            .collect();
    }
    Ok((tally.published, tally.rejected))
}

/// What the `PutEvents` calls have answered so far.
#[derive(Default)]
struct Tally<'e> {
    published: Vec<Published>,
    rejected: Vec<Rejected>,
    /// The entries of this round that failed for a passing reason, with the error code.
    again: Vec<(&'e Outgoing, String)>,
}

impl<'e> Tally<'e> {
    /// Sorts one entry's result: accepted, to send again, or rejected.
    fn take(&mut self, event: &'e Outgoing, result: &PutEventsResultEntry) {
        match (result.event_id(), result.error_code()) {
            (Some(id), None) if !id.is_empty() => self.published.push(Published {
                label: event.label.clone(),
                event_id: id.to_string(),
            }),
            (_, Some(code)) if RETRYABLE.contains(&code) => {
                self.again.push((event, code.to_string()))
            }
            (_, code) => self.rejected.push(Rejected {
                label: event.label.clone(),
                error: format!(
                    "{}: {}",
                    code.unwrap_or("no event id returned"),
                    result.error_message().unwrap_or("")
                ),
            }),
        }
    }

    /// The retries are spent: what was still failing is rejected.
    fn give_up(&mut self) {
        self.rejected
            .extend(self.again.iter().map(|(e, code)| Rejected {
                label: e.label.clone(),
                error: format!("{code} (still failing after retries)"),
            }));
    }
}

/// Sends one batch of at most [`BATCH`] entries and sorts every entry's result into `tally`.
async fn send_batch<'e>(
    client: &aws_sdk_eventbridge::Client,
    bus: &str,
    batch: &[&'e Outgoing],
    tally: &mut Tally<'e>,
) -> Result<(), StepError> {
    let entries: Vec<PutEventsRequestEntry> = batch.iter().map(|e| entry(bus, e)).collect();
    let out = client
        .put_events()
        .set_entries(Some(entries))
        .send()
        .await
        .map_err(|e| sdk_error(&format!("PutEvents to {bus}"), e))?;
    let results = out.entries();
    if results.len() != batch.len() {
        return Err(StepError::transient(format!(
            "PutEvents to {bus} answered {} results for {} entries",
            results.len(),
            batch.len()
        )));
    }
    for (event, result) in batch.iter().zip(results) {
        tally.take(event, result);
    }
    if out.failed_entry_count() as usize > tally.rejected.len() + tally.again.len() {
        return Err(StepError::transient(format!(
            "PutEvents to {bus} reported {} failed entries but flagged fewer",
            out.failed_entry_count()
        )));
    }
    Ok(())
}

/// The `PutEvents` entry for `event` on `bus`.
fn entry(bus: &str, event: &Outgoing) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(&event.source)
        .detail_type(&event.detail_type)
        .detail(&event.detail)
        .build()
}

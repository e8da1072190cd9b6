//! Publishing to the deployed bus: `PutEvents` in batches of at most 10, every entry's result
//! checked, entries that failed for a passing reason (throttling, internal error) sent again.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

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
    let mut published = Vec::new();
    let mut rejected = Vec::new();
    let mut pending: Vec<&Outgoing> = events.iter().collect();
    let mut backoff = policy.backoff();
    while !pending.is_empty() {
        let mut again = Vec::new();
        for batch in pending.chunks(BATCH) {
            let entries: Vec<PutEventsRequestEntry> = batch
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(bus)
                        .source(&e.source)
                        .detail_type(&e.detail_type)
                        .detail(&e.detail)
                        .build()
                })
                .collect();
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
                match (result.event_id(), result.error_code()) {
                    (Some(id), None) if !id.is_empty() => published.push(Published {
                        label: event.label.clone(),
                        event_id: id.to_string(),
                    }),
                    (_, Some(code)) if RETRYABLE.contains(&code) => {
                        again.push((*event, code.to_string()))
                    }
                    (_, code) => rejected.push(Rejected {
                        label: event.label.clone(),
                        error: format!(
                            "{}: {}",
                            code.unwrap_or("no event id returned"),
                            result.error_message().unwrap_or("")
                        ),
                    }),
                }
            }
            if out.failed_entry_count() as usize > rejected.len() + again.len() {
                return Err(StepError::transient(format!(
                    "PutEvents to {bus} reported {} failed entries but flagged fewer",
                    out.failed_entry_count()
                )));
            }
        }
        if again.is_empty() {
            break;
        }
        match backoff.next() {
            Some(delay) => tokio::time::sleep(delay).await,
            None => {
                rejected.extend(again.iter().map(|(e, code)| Rejected {
                    label: e.label.clone(),
                    error: format!("{code} (still failing after retries)"),
                }));
                break;
            }
        }
        pending = again.into_iter().map(|(e, _)| e).collect();
    }
    Ok((published, rejected))
}

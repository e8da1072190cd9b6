//! A redrive's sending: `PutEvents` in batches the API accepts, then the deletes of exactly the
//! messages whose entry was accepted (an event id and no error code); every message's outcome
//! recorded in the report.

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::event::{DeadLetter, ReplayEntry};
use super::read::Reader;
use super::redrive::{Handled, Outcome, Redriven};
use crate::aws::{AwsClients, sdk_error};
use crate::engine::StepError;

/// `PutEvents` takes at most 10 entries and 256 KiB a request.
pub const MAX_ENTRIES: usize = 10;
const MAX_BYTES: usize = 256 * 1024;

/// Sends the planned entries, deletes the messages whose entry was accepted, and records every
/// message's outcome.
pub async fn send(
    aws: &AwsClients,
    reader: &mut Reader<'_>,
    planned: Vec<(Handled, &DeadLetter)>,
    done: &mut Redriven,
) -> Result<(), StepError> {
    let (to_send, kept): (Vec<_>, Vec<_>) = planned
        .into_iter()
        .partition(|(h, _)| h.outcome == Outcome::WouldSend);
    for (h, _) in kept {
        done.record(h);
    }
    for chunk in chunks(to_send) {
        let accepted = put_events(aws, chunk, done).await?;
        let letters: Vec<&DeadLetter> = accepted.iter().map(|(_, d)| *d).collect();
        let (deleted, not_deleted, stop) = match reader.delete(&letters).await {
            Ok((deleted, not_deleted)) => (deleted, not_deleted, None),
            Err(e) => (Vec::new(), Vec::new(), Some(e)),
        };
        for (mut h, _) in accepted {
            if deleted.contains(&h.message_id) {
                h.outcome = Outcome::Sent;
            } else {
                let why = not_deleted.iter().find(|(id, _)| *id == h.message_id);
                let why = why.map_or_else(
                    || {
                        stop.as_ref()
                            .map_or("no answer".into(), |e| e.message.clone())
                    },
                    |(_, w)| w.clone(),
                );
                h = as_failed(
                    h,
                    format!(
                        "sent, but the message could not be deleted ({why}): a later redrive \
                         sends it again"
                    ),
                );
            }
            h.entry = None;
            done.record(h);
        }
        if let Some(e) = stop {
            return Err(e);
        }
    }
    Ok(())
}

/// The entries in `PutEvents`-sized groups.
fn chunks(items: Vec<(Handled, &DeadLetter)>) -> Vec<Vec<(Handled, &DeadLetter)>> {
    let mut out: Vec<Vec<(Handled, &DeadLetter)>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = item.0.entry.as_ref().map_or(0, ReplayEntry::size);
        match out.last_mut() {
            Some(last) if last.len() < MAX_ENTRIES && bytes + size <= MAX_BYTES => {
                bytes += size;
                last.push(item);
            }
            _ => {
                bytes = size;
                out.push(vec![item]);
            }
        }
    }
    out
}

/// One `PutEvents` call; the accepted entries come back with their new event id, the rejected
/// ones are recorded as failed (and stay in the queue), all of them when the call fails.
async fn put_events<'l>(
    aws: &AwsClients,
    chunk: Vec<(Handled, &'l DeadLetter)>,
    done: &mut Redriven,
) -> Result<Vec<(Handled, &'l DeadLetter)>, StepError> {
    let entries: Vec<PutEventsRequestEntry> = chunk
        .iter()
        .filter_map(|(h, _)| h.entry.as_ref())
        .map(|e| {
            PutEventsRequestEntry::builder()
                .event_bus_name(&e.bus)
                .source(&e.source)
                .detail_type(&e.detail_type)
                .detail(&e.detail)
                .set_resources((!e.resources.is_empty()).then(|| e.resources.clone()))
                .build()
        })
        .collect();
    let out = match aws
        .events
        .put_events()
        .set_entries(Some(entries))
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = sdk_error("PutEvents", e);
            for (h, _) in chunk {
                done.record(as_failed(h, format!("not sent: {e}")));
            }
            return Err(e);
        }
    };
    let results = out.entries();
    let mut accepted = Vec::new();
    for (i, (mut h, d)) in chunk.into_iter().enumerate() {
        let r = results.get(i);
        match r
            .and_then(|r| r.event_id())
            .filter(|_| r.and_then(|r| r.error_code()).is_none())
        {
            Some(id) => {
                h.new_event_id = Some(id.to_string());
                accepted.push((h, d));
            }
            None => {
                let why = match r {
                    Some(r) => format!(
                        "PutEvents rejected it: {}: {}",
                        r.error_code().unwrap_or("no event id returned"),
                        r.error_message().unwrap_or("")
                    ),
                    None => "PutEvents returned no result for it".into(),
                };
                done.record(as_failed(h, why));
            }
        }
    }
    Ok(accepted)
}

/// `h`, failed for `reason` (and left in the queue).
fn as_failed(mut h: Handled, reason: String) -> Handled {
    h.outcome = Outcome::Failed;
    h.entry = None;
    h.reason = Some(reason);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(detail_bytes: usize) -> Handled {
        Handled {
            message_id: "m".into(),
            event_id: None,
            attempt: 0,
            outcome: Outcome::WouldSend,
            bus: None,
            new_event_id: None,
            reason: None,
            entry: Some(ReplayEntry {
                bus: "b".into(),
                source: String::new(),
                detail_type: String::new(),
                detail: "x".repeat(detail_bytes),
                resources: Vec::new(),
            }),
        }
    }

    #[test]
    fn batches_hold_at_most_ten_entries_and_256_kib() {
        let letter = crate::dlq::event::DeadLetter {
            message_id: "m".into(),
            receipt_handle: "h".into(),
            body: String::new(),
            event: None,
            rule_arn: None,
            target_arn: None,
            error_code: None,
            error_message: None,
            sent_at_ms: None,
            function_arn: None,
        };
        let small: Vec<_> = (0..23).map(|_| (planned(10), &letter)).collect();
        let sizes: Vec<usize> = chunks(small).iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 10, 3]);
        let big: Vec<_> = (0..3).map(|_| (planned(100 * 1024), &letter)).collect();
        let sizes: Vec<usize> = chunks(big).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1], "three of 100 KiB do not fit in 256 KiB");
    }
}

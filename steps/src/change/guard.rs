//! A queue that holds messages is never deleted silently: before a phase deletes queues, each
//! must be empty (waiting up to the drain timeout for its consumer), or the operator consents to
//! losing its messages (`--discard-messages`, recorded in the audit log with the count).

use std::time::Duration;

use tokio::task::JoinSet;

use crate::catalog::{Depth, queue_depth};
use crate::engine::{Poller, StepContext, StepError};

/// What the operator allowed this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    /// How long to wait for a queue that would be deleted to empty.
    pub drain_timeout: Duration,
    /// Delete queues that hold messages anyway.
    pub discard_messages: bool,
    /// Let Terraform replace resources (a bus renamed, a rule moved to another bus).
    pub allow_replace: bool,
}

/// Proceeds only when every queue of `names` that exists is empty (within the drain timeout) or
/// the operator consented to discard its messages; otherwise stops, naming each queue and its
/// depth, before anything is deleted.
pub async fn queues_empty(ctx: &mut StepContext<'_>, names: &[String]) -> Result<(), StepError> {
    if names.is_empty() {
        return Ok(());
    }
    let consent = ctx.env.consent;
    let mut holding = holding_messages(ctx, names).await?;
    if !holding.is_empty() && consent.drain_timeout > Duration::ZERO {
        holding = drain(ctx, names, consent.drain_timeout, holding).await?;
    }
    if holding.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = holding.iter().map(|(q, d)| format!("{q} ({d})")).collect();
    if consent.discard_messages {
        for (queue, depth) in &holding {
            ctx.ledger_mut()
                .note_discarded(queue, depth.total())
                .await?;
        }
        ctx.warn(&format!(
            "deleting queues that hold messages, as --discard-messages allows: {}",
            listed.join("; ")
        ))
        .await;
        return Ok(());
    }
    Err(StepError::needs_consent(format!(
        "stopped before deleting anything: {} would be deleted but hold{} messages: {}",
        if holding.len() == 1 {
            "a queue"
        } else {
            "queues"
        },
        if holding.len() == 1 { "s" } else { "" },
        listed.join("; ")
    ))
    .with_hint(
        "let their consumer read them (or read them yourself) and run again; \
         --drain-timeout DURATION waits for that; --discard-messages deletes them with their \
         messages (the audit log records how many)",
    ))
}

/// The queues of `names` that exist and hold messages (visible or in flight).
pub async fn holding(
    ctx: &mut StepContext<'_>,
    names: &[String],
) -> Result<Vec<String>, StepError> {
    Ok(holding_messages(ctx, names)
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// The queues of `names` that exist and hold messages, with their depth (all asked at once, as
/// the live checks do).
async fn holding_messages(
    ctx: &mut StepContext<'_>,
    names: &[String],
) -> Result<Vec<(String, Depth)>, StepError> {
    let aws = ctx.env.aws().await?.clone();
    let mut set = JoinSet::new();
    for (i, name) in names.iter().cloned().enumerate() {
        let aws = aws.clone();
        set.spawn(async move {
            let depth = queue_depth(&aws, &name).await;
            (i, name, depth)
        });
    }
    let mut answers = set.join_all().await;
    answers.sort_by_key(|(i, ..)| *i);
    let mut out = Vec::new();
    for (_, name, depth) in answers {
        if let Some(d) = depth?
            && d.total() > 0
        {
            out.push((name, d));
        }
    }
    Ok(out)
}

/// Waits up to `timeout` for the queues to empty; what still holds messages then.
async fn drain(
    ctx: &mut StepContext<'_>,
    names: &[String],
    timeout: Duration,
    mut holding: Vec<(String, Depth)>,
) -> Result<Vec<(String, Depth)>, StepError> {
    ctx.info(&format!(
        "waiting up to {}s for {} queue(s) to be read empty",
        timeout.as_secs(),
        holding.len()
    ));
    let mut poll = Poller::new(timeout);
    while !holding.is_empty() && poll.wait().await {
        holding = holding_messages(ctx, names).await?;
    }
    Ok(holding)
}

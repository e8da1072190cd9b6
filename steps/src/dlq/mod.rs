//! Operations on the deployment's dead-letter queue: look at it without consuming it
//! ([`show`]), export it as JSONL ([`export`]), and send its events again ([`redrive`]).
//!
//! The queue holds two kinds of message: an event an EventBridge target could not take (the
//! event as the body, `RULE_ARN` and the error as attributes), and a function's failed
//! asynchronous invocation, which Lambda sends to its on-failure destination as a record
//! naming the function, the event and the error ([`envelope`]); both are read as the event
//! they hold.
//!
//! SQS's own redrive (`StartMessageMoveTask`) cannot move messages whose source is not an SQS
//! queue, on AWS as well: an EventBridge target's DLQ is redriven by re-publishing each original
//! event with `PutEvents` to the bus it was meant for, with the loop guard the
//! dead-letter-processor Lambda keeps (`detail._replay.attempt`, see [`event`]).
//!
//! What the three share: a message is received hidden for a short while and made visible again
//! at once unless it is deleted; a message is deleted only after what it holds is safe
//! elsewhere (a line written and flushed to the export file, an entry `PutEvents` accepted), so
//! a run killed at any instant loses nothing, and the same command run again finishes the work.

mod envelope;
pub mod event;
mod export;
mod publish;
mod read;
mod redrive;

pub use event::{DeadLetter, ReplayEntry};
pub use export::{ExportRequest, Exported};
pub use read::{Depth, Peek, Sample};
pub use redrive::{Handled, Outcome, RedriveRequest, Redriven};

use deploy_state::{LedgerState, ResourceKind};

use crate::engine::StepError;
use crate::env::Env;
use crate::outputs::Infrastructure;

/// The dead-letter queue of a deployment, and the bus its events go back to by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dlq {
    pub name: String,
    pub url: String,
    /// The deployment's bus: where an event goes when its rule ARN names no bus.
    pub bus: String,
}

/// Why an operation on the dead-letter queue did not happen, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    /// No dead-letter queue recorded in the ledger (exit 4).
    #[error("{0}")]
    NothingDeployed(String),
    /// Bad input: an export file that cannot be created (exit 2).
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Failed(#[from] StepError),
}

impl Dlq {
    /// The queue the ledger records: the inventory's dead-letter queue, with its URL (recorded
    /// with it, or the infrastructure step's `dlq_url` output) and the deployment's bus.
    pub fn recorded(state: &LedgerState) -> Result<Dlq, DlqError> {
        let infra = Infrastructure::recorded(&state.step("infrastructure").outputs)?;
        let nothing = || {
            let who = state
                .identity
                .as_ref()
                .map_or_else(|| "this deployment".to_string(), ToString::to_string);
            DlqError::NothingDeployed(format!(
                "{who} has no dead-letter queue recorded in its state (run `deploy all` first)"
            ))
        };
        let queue = state
            .resources(ResourceKind::Queue)
            .find(|r| infra.dlq_name.is_empty() || r.name == infra.dlq_name)
            .ok_or_else(nothing)?;
        let url = queue
            .attributes
            .url
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| infra.dlq_url.clone());
        if url.is_empty() {
            return Err(nothing());
        }
        let bus = Some(infra.event_bus_name.clone())
            .filter(|b| !b.is_empty())
            .or_else(|| {
                let mut buses = state.resources(ResourceKind::EventBus);
                buses.next().map(|b| b.name.clone())
            })
            .unwrap_or_default();
        Ok(Dlq {
            name: queue.name.clone(),
            url,
            bus,
        })
    }
}

/// The dead-letter queue's depth, the age of its oldest messages, what they are (counts by
/// source, detail type, rule and error code) and a few of them; reading consumes nothing.
pub async fn show(env: &Env, state: &LedgerState) -> Result<Peek, DlqError> {
    let dlq = Dlq::recorded(state)?;
    let aws = env.aws().await?;
    Ok(read::peek(aws, &dlq).await?)
}

/// Writes every message's event to a new JSONL file; with `delete`, deletes each message once
/// its line is on disk.
pub async fn export(
    env: &Env,
    state: &LedgerState,
    request: &ExportRequest,
) -> Result<Exported, DlqError> {
    let dlq = Dlq::recorded(state)?;
    let file = export::create(&request.path)?;
    let aws = env.aws().await?;
    export::run(aws, &dlq, file, request).await
}

/// Re-publishes the queue's events to their buses (or says what it would send, with
/// `dry_run`), deleting each message once `PutEvents` accepted its event.
pub async fn redrive(
    env: &Env,
    state: &LedgerState,
    request: &RedriveRequest,
) -> Result<Redriven, DlqError> {
    let dlq = Dlq::recorded(state)?;
    let aws = env.aws().await?;
    let limit = redrive::republish_limit(aws, &env.config).await;
    Ok(redrive::run(aws, &dlq, request, limit).await?)
}

#[cfg(test)]
mod tests {
    use deploy_state::{LedgerState, Resource, ResourceKind};

    use super::*;

    fn deployed(outputs: &[(&str, &str)], inventory: Vec<Resource>) -> LedgerState {
        let mut state = LedgerState::default();
        let infra = state.steps.entry("infrastructure".into()).or_default();
        for (k, v) in outputs {
            infra.outputs.insert(k.to_string(), v.to_string());
        }
        state.inventory = inventory;
        state
    }

    fn queue(url: Option<&str>) -> Resource {
        Resource::new(ResourceKind::Queue, "dev-eventbridge-dlq", "infrastructure")
            .with(|a| a.url = url.map(str::to_string))
    }

    #[test]
    fn the_queue_is_the_inventorys_with_its_url_and_the_deployments_bus() {
        let outputs = [
            ("dlq_name", "dev-eventbridge-dlq"),
            ("dlq_url", "http://q/from-output"),
            ("event_bus_name", "dev-application-events"),
        ];
        let dlq = Dlq::recorded(&deployed(&outputs, vec![queue(Some("http://q/own"))])).unwrap();
        assert_eq!(dlq.url, "http://q/own");
        assert_eq!(dlq.bus, "dev-application-events");
        let dlq = Dlq::recorded(&deployed(&outputs, vec![queue(None)])).unwrap();
        assert_eq!(
            dlq.url, "http://q/from-output",
            "the output when none recorded with it"
        );
    }

    #[test]
    fn no_queue_in_the_inventory_is_nothing_deployed() {
        let outputs = [("dlq_url", "http://q"), ("dlq_name", "dev-eventbridge-dlq")];
        for state in [
            LedgerState::default(),
            deployed(&outputs, Vec::new()),
            deployed(&[], vec![queue(None)]),
        ] {
            let e = Dlq::recorded(&state).unwrap_err();
            assert!(matches!(e, DlqError::NothingDeployed(_)), "{e}");
        }
    }
}

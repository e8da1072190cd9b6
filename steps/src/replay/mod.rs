//! Archive replay: archived events of a time window sent through the bus's rules again.
//!
//! A temporary probe (a rule matching this replay's `replay-name`, and a queue) counts what is
//! redelivered: EventBridge reports a replay's state, not how many events it sent.

mod count;
mod window;

pub use count::run;
pub use window::{check_window, window_ok};

use std::time::Duration;

use crate::engine::{LedgerInventory, StepError};
use crate::env::Env;
use crate::outputs::Infrastructure;
use deploy_config::{Config, EventType};
use deploy_state::Ledger;
use jiff::Timestamp;

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

/// What `deploy replay` asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The window: archived events from `start` up to `end`.
    pub start: Timestamp,
    pub end: Timestamp,
    /// Only events of this event type (a key of `[events]`).
    pub event: Option<String>,
    /// How long to wait for the replay to complete.
    pub timeout: Duration,
}

/// Why a replay did not happen, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Nothing deployed to replay from.
    #[error("{0}")]
    NothingDeployed(String),
    /// Bad input: an unknown event type, a window the archive cannot serve.
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Failed(#[from] StepError),
}

impl From<deploy_state::LedgerError> for ReplayError {
    fn from(e: deploy_state::LedgerError) -> Self {
        ReplayError::Failed(e.into())
    }
}

/// Replays the archive of the deployment `ledger` holds, as `request` asks: the target read
/// from the infrastructure step's outputs, the window checked against the archive's retention,
/// the probe kept in the inventory while it exists.
pub async fn replay(
    env: &Env,
    ledger: &mut Ledger,
    request: &Request,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Replayed, ReplayError> {
    let config = &env.config;
    let event = match &request.event {
        Some(key) => Some(event_type(config, key)?),
        None => None,
    };
    let infra = Infrastructure::recorded(&ledger.step("infrastructure").outputs)?;
    let target = Target::from_outputs(&infra, config, event)?.ok_or_else(|| {
        ReplayError::NothingDeployed(format!(
            "{} has no deployed archive to replay from (run `deploy all` first)",
            ledger
                .state()
                .identity
                .as_ref()
                .map_or_else(|| "this deployment".to_string(), ToString::to_string)
        ))
    })?;
    let aws = env.aws().await?;
    check_window(aws, &target, request.start, request.end, Timestamp::now()).await??;
    let mut inventory = LedgerInventory::new(ledger);
    let outcome = run(
        aws,
        config,
        &target,
        (request.start, request.end),
        request.timeout,
        &mut inventory,
        progress,
    )
    .await?;
    // The probe was deleted: it leaves the inventory (on a failure it stays, and the next
    // test-events or destroy removes it).
    for r in inventory.recorded() {
        ledger.forget_resource(r.kind, &r.name).await?;
    }
    Ok(outcome)
}

/// The event type `key` of `config`, or a refusal naming the known ones.
fn event_type(config: &Config, key: &str) -> Result<EventType, Refused> {
    config
        .events
        .iter()
        .find(|e| e.key == key)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = config.events.iter().map(|e| e.key.as_str()).collect();
            Refused(format!(
                "--event: `{key}` is not an event type of deploy.toml; allowed: {}",
                known.join(", ")
            ))
        })
}

impl Target {
    /// The replay target the infrastructure step's `outputs` describe (`None`: nothing
    /// deployed); with `event`, the rules of the routes that name it.
    fn from_outputs(
        outputs: &Infrastructure,
        config: &Config,
        event: Option<EventType>,
    ) -> Result<Option<Target>, Refused> {
        let o = outputs;
        if [
            &o.archive_name,
            &o.archive_arn,
            &o.event_bus_name,
            &o.event_bus_arn,
        ]
        .iter()
        .any(|v| v.is_empty())
        {
            return Ok(None);
        }
        let rules = match &event {
            None => None,
            Some(e) => {
                let wanted: Vec<String> = config
                    .routes
                    .iter()
                    .filter(|r| r.events.contains(&e.key))
                    .filter_map(|r| o.rule_arn(&r.rule_name).map(str::to_string))
                    .collect();
                if wanted.is_empty() {
                    return Err(Refused(format!(
                        "--event {}: no deployed route names this event type, so nothing would \
                         receive its replay",
                        e.key
                    )));
                }
                Some(wanted)
            }
        };
        Ok(Some(Target {
            archive_name: o.archive_name.clone(),
            archive_arn: o.archive_arn.clone(),
            bus_name: o.event_bus_name.clone(),
            bus_arn: o.event_bus_arn.clone(),
            rules,
            event,
        }))
    }
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

//! The end of a rollback: the configuration the restored deployment is verified with, and what
//! is recorded once it was.

use deploy_config::Config;
use deploy_state::{Ledger, StepStatus};

use super::pending::{Done, Pending};
use super::{LastGood, STEP};
use crate::engine::StepError;

/// `config` with the last good deployment's routes: a route the change added is left out, a
/// route whose pattern the change edited has its last good pattern again. `test-events` run
/// with it proves what the rollback restored (the examples and schemas are today's: a route
/// the change removed is not proven, its rule is checked by the live checks).
pub fn verification_config(config: &Config, target: &LastGood) -> Config {
    let mut c = config.clone();
    c.routes
        .retain(|r| target.tfvars.routes.contains_key(&r.key));
    for r in &mut c.routes {
        if let Some(good) = target.tfvars.routes.get(&r.key) {
            r.pattern = good.pattern.clone();
        }
    }
    c
}

/// The steps a rollback leaves to run again: the configuration still asks for the change, so
/// the next `deploy all` applies and verifies it again (and rolls back again should it fail).
const TO_RUN_AGAIN: [&str; 4] = ["lambdas", "test-events", "contract", "infrastructure"];

/// Records the finished rollback ([`Done`], from what the `rollback` step recorded), marks the
/// deploy steps to run again, and removes the pending document.
pub async fn conclude(ledger: &mut Ledger, pending: &Pending) -> Result<Done, StepError> {
    let outputs = ledger.state().step(STEP).outputs;
    let removed = outputs
        .get("removed")
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    let note = "rolled back to the last good deployment: run again to apply the configuration";
    for step in TO_RUN_AGAIN {
        if ledger.state().step(step).status == StepStatus::NotStarted {
            continue;
        }
        ledger
            .transition(step, StepStatus::Stale, |r| r.note = Some(note.into()))
            .await?;
    }
    let done = Done {
        finished_at: jiff::Timestamp::now(),
        why: pending.why.clone(),
        returned_to: pending.target.recorded_at,
        aliases: pending.moved_aliases(),
        removed,
        terraform: outputs.get("terraform").cloned(),
    };
    done.finish(ledger).await?;
    Ok(done)
}

//! Waiting for a Lambda function to be usable: `Active`, with its last update `Successful`.

use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::types::{FunctionConfiguration, LastUpdateStatus, State};

use super::function::get;
use crate::engine::{Poller, StepError};

/// How long a function may stay `Pending` / `InProgress`.
pub const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether a create or an update is still being applied.
pub fn in_transition(c: &FunctionConfiguration) -> bool {
    c.state() == Some(&State::Pending)
        || c.last_update_status() == Some(&LastUpdateStatus::InProgress)
}

/// `Ok(true)` when Active and the last update Successful; an error when either failed.
fn is_ready(c: &FunctionConfiguration) -> Result<bool, StepError> {
    let name = c.function_name().unwrap_or("function");
    if c.state() == Some(&State::Failed) {
        return Err(StepError::permanent(format!(
            "{name} is in state Failed: {}",
            c.state_reason().unwrap_or("no reason given")
        )));
    }
    if c.last_update_status() == Some(&LastUpdateStatus::Failed) {
        return Err(StepError::permanent(format!(
            "the last update of {name} failed: {}",
            c.last_update_status_reason().unwrap_or("no reason given")
        )));
    }
    let active = c.state().is_none_or(|s| *s == State::Active);
    let updated = c
        .last_update_status()
        .is_none_or(|s| *s == LastUpdateStatus::Successful);
    Ok(active && updated)
}

/// Polls until the function is `Active` and its last update `Successful`, or the deadline.
pub async fn wait_ready(client: &Client, name: &str) -> Result<FunctionConfiguration, StepError> {
    let mut poll = Poller::new(ACTIVE_TIMEOUT);
    loop {
        let config = get(client, name).await?.ok_or_else(|| {
            StepError::transient(format!(
                "{name} disappeared while waiting for it to be Active"
            ))
        })?;
        if is_ready(&config)? {
            return Ok(config);
        }
        if !poll.wait().await {
            return Err(StepError::transient(format!(
                "{name} is still {} / {} after {}s",
                config.state().map(State::as_str).unwrap_or("?"),
                config
                    .last_update_status()
                    .map(LastUpdateStatus::as_str)
                    .unwrap_or("?"),
                ACTIVE_TIMEOUT.as_secs()
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_state_and_last_update() {
        let c = |s: State, u: LastUpdateStatus| {
            FunctionConfiguration::builder()
                .function_name("f")
                .state(s)
                .last_update_status(u)
                .build()
        };
        assert!(is_ready(&c(State::Active, LastUpdateStatus::Successful)).unwrap());
        assert!(!is_ready(&c(State::Pending, LastUpdateStatus::InProgress)).unwrap());
        assert!(!is_ready(&c(State::Active, LastUpdateStatus::InProgress)).unwrap());
        assert!(is_ready(&c(State::Failed, LastUpdateStatus::Successful)).is_err());
        assert!(is_ready(&c(State::Active, LastUpdateStatus::Failed)).is_err());
        assert!(in_transition(&c(
            State::Pending,
            LastUpdateStatus::Successful
        )));
        assert!(in_transition(&c(
            State::Active,
            LastUpdateStatus::InProgress
        )));
        assert!(!in_transition(&c(
            State::Inactive,
            LastUpdateStatus::Successful
        )));
    }
}

use std::path::PathBuf;
use std::time::Duration;

use crate::deployment::DeploymentId;
use crate::lock::LockHolder;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A request to the state storage failed (network, service error).
    #[error("{location}: {detail}")]
    Storage { location: String, detail: String },
    /// The storage refused access (S3 403: another account's bucket, or no permission).
    #[error(
        "{location}: access denied ({detail}); the bucket may belong to another account, or \
         these credentials may not read and write it"
    )]
    Denied { location: String, detail: String },
    /// A conditional write lost: someone else changed the object since it was read.
    #[error(
        "{location} was changed by another run since this one read it; nothing was overwritten. \
         Run the command again: it starts from what the other run wrote"
    )]
    Conflict { location: String },
    #[error("{}", locked_message(holder, waited))]
    Locked {
        holder: Option<Box<LockHolder>>,
        waited: Option<Duration>,
    },
    /// The lock was deleted or taken over while this run held it.
    #[error(
        "the run lock {location} is no longer held by this run ({detail}); stopping before \
         another write so that two runs never act at once"
    )]
    LockLost { location: String, detail: String },
    #[error(
        "the ledger file {location} is corrupt ({reason}); nothing was changed. To recover, run \
         `deploy reset --rebuild` to rebuild it from the audit log {audit}, or `deploy reset` to \
         start over (the audit log is kept)"
    )]
    Corrupt {
        location: String,
        audit: String,
        reason: String,
    },
    #[error(
        "the ledger file {location} has schema version {found}, but this deploy understands \
         version {expected}; use a matching (newer) deploy; nothing was changed"
    )]
    SchemaVersion {
        location: String,
        found: u32,
        expected: u32,
    },
    /// The state at this location belongs to another deployment.
    #[error(
        "the state at {location} belongs to deployment {recorded}, not {current}; nothing was \
         changed. Point this deployment at its own state ([state] prefix, or --state-dir)"
    )]
    IdentityMismatch {
        location: String,
        recorded: Box<DeploymentId>,
        current: Box<DeploymentId>,
    },
    /// The credentials are for another account than the one the state records.
    #[error(
        "the credentials are for AWS account {caller}, but the state at {location} records \
         deployment {recorded}; nothing was changed. Use credentials for account \
         {recorded_account} (AWS_PROFILE), or another state location"
    )]
    AccountMismatch {
        location: String,
        recorded: Box<DeploymentId>,
        recorded_account: String,
        caller: String,
    },
}

impl LedgerError {
    pub fn storage(location: impl Into<String>, detail: impl Into<String>) -> Self {
        LedgerError::Storage {
            location: location.into(),
            detail: detail.into(),
        }
    }
}

fn locked_message(holder: &Option<Box<LockHolder>>, waited: &Option<Duration>) -> String {
    let who = match holder {
        Some(h) => format!(
            "deployment is locked by pid {} ({}) since {} on {}",
            h.pid, h.command, h.since, h.host
        ),
        None => "deployment is locked by another deploy process".to_string(),
    };
    match waited {
        Some(w) => format!(
            "{who}; gave up after waiting {}s (--wait-lock)",
            w.as_secs_f32()
        ),
        None => format!("{who}; wait for it to finish, or pass --wait-lock DURATION"),
    }
}

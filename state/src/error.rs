use std::path::PathBuf;
use std::time::Duration;

use crate::lock::LockHolder;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", locked_message(holder, waited))]
    Locked {
        holder: Option<LockHolder>,
        waited: Option<Duration>,
    },
    #[error(
        "the ledger file {} is corrupt ({reason}); nothing was changed. To recover, run \
         `deploy reset --rebuild` to rebuild it from the audit log {}, or `deploy reset` to start \
         over (the audit log is kept)",
        path.display(), audit.display()
    )]
    Corrupt {
        path: PathBuf,
        audit: PathBuf,
        reason: String,
    },
    #[error(
        "the ledger file {} has schema version {found}, but this deploy understands version \
         {expected}; use a matching deploy, or `deploy reset` to start over",
        path.display()
    )]
    SchemaVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
}

fn locked_message(holder: &Option<LockHolder>, waited: &Option<Duration>) -> String {
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

//! The deployment ledger: `.deployment-state/` on disk.
//!
//! - `state.json`: the machine-readable source of truth (schema-versioned), replaced atomically
//!   on every transition;
//! - `checkpoints.log`: the append-only audit log, one JSON object per transition;
//! - `deployment.log`, `errors.log`, `warnings.log`: timestamped lines for people;
//! - `logs/<step>-<time>.log`: one file per step run (`logs/<step>.log` is the latest);
//! - `deploy.lock`: the exclusive lock, naming its holder.
//!
//! Directory mode 0700, files 0600. No AWS, no async: this crate's tests run in milliseconds.

pub mod audit;
mod error;
pub mod fingerprint;
pub mod fsutil;
pub mod journal;
mod ledger;
pub mod lock;
mod status;

pub use error::LedgerError;
pub use fingerprint::Fingerprint;
pub use journal::{Level, StepLog};
pub use ledger::{AUDIT_FILE, LOCK_FILE, Ledger, Recovery, STATE_FILE, load};
pub use lock::{LockHolder, pid_alive};
pub use status::*;

#[cfg(test)]
mod tests;

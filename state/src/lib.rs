//! The deployment ledger, and the one door to where it lives.
//!
//! A deployment is (account, region, project, environment): its [`DeploymentId`]. Its state —
//! the ledger `state.json` (schema-versioned, written as a compare-and-swap on every
//! transition), the append-only audit log, the human-readable logs, one log per step run, the
//! owned-resource inventory and Terraform's state — lives behind the small traits of
//! [`backend`] (composed as [`backend::Full`]): a private directory on this machine, or a prefix
//! in an S3 bucket that every machine and CI runner shares. A run lock keeps runs apart.
//!
//! Everything that touches storage is async and runs on the caller's runtime. The model and the
//! local backend need no AWS: their tests run in milliseconds.

pub mod audit;
pub mod backend;
pub mod conformance;
mod deployment;
pub mod emulator_record;
mod error;
pub mod fingerprint;
pub mod fsutil;
pub mod journal;
mod layout;
mod ledger;
pub mod lock;
pub mod migrate;
mod resource;
mod status;

pub use backend::{Full, HUB_DOCUMENT, ROLLBACK_DOCUMENTS, TERRAFORM_STATE, TerraformBackend};
pub use deployment::DeploymentId;
pub use error::LedgerError;
pub use fingerprint::Fingerprint;
pub use journal::{Level, StepLog};
pub use layout::{LegacyLedger, find_legacy, migrate_legacy};
pub use ledger::{
    AUDIT_FILE, Ledger, OnCorrupt, RESULTS_FILE, Recovery, STATE_FILE, check_account, load,
    parse_state,
};
pub use lock::{LockHolder, pid_alive};
pub use status::*;

#[cfg(test)]
mod tests;

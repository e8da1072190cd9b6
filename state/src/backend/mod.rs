//! Where a deployment's state lives: the one door to it.
//!
//! As Terraform's `statemgr` does, the door is a handful of small traits, each what one kind of
//! caller needs, composed into [`Full`] where a caller needs everything (the ledger, the
//! conformance suite):
//!
//! - [`Located`] (`location`, `locate`, `terraform`): where the state is, for people and for
//!   Terraform; every message naming the state, and the infrastructure step;
//! - [`Objects`] (`read`, `write` as a compare-and-swap, `delete`, `list`): the ledger, the live
//!   checks (Terraform's state), `state migrate`;
//! - [`AuditLog`] (`append_audit`, `read_audit`, `audit_is_empty`): the ledger (`reset
//!   --rebuild`), `state migrate`;
//! - [`Locker`] (`lock`, `holder`, `force_unlock`) and its [`LockGuard`] (`check`, `release`):
//!   the ledger, `unlock`, `state migrate`;
//! - [`Logs`] (`local_dir`, `journal`, `publish_log`): the ledger, for the engine's step logs;
//! - [`Deployments`] (`deployments`): `status --all`, and the owner named for a resource in the
//!   way.
//!
//! Two implementations: [`local::LocalBackend`], a private directory on this machine, and
//! [`s3::S3Backend`], a prefix in an S3 bucket shared by every machine and CI runner. Every
//! method that touches storage is async and runs on the caller's runtime. Nothing above this
//! module knows which backend it has; [`crate::conformance`] holds both to the same behaviour.

pub mod local;
mod releases;
pub mod s3;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::LedgerError;
use crate::journal::Level;
use crate::lock::LockHolder;

pub use releases::wait_for_releases;

/// An opaque version of a stored object (a content digest locally, the ETag on S3); a write
/// can be made conditional on it.
pub type Version = String;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub version: Version,
}

/// The condition under which a write happens (compare-and-swap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Unconditionally.
    None,
    /// Only if nothing is stored under the name.
    Absent,
    /// Only if what is stored is still this version.
    Matches(Version),
}

/// Where Terraform keeps the stack's state, so the infrastructure step can configure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerraformBackend {
    /// `terraform.tfstate` in the working directory, which is inside the local ledger.
    Local,
    /// Terraform's own S3 backend, beside the ledger, with its own lock file.
    S3 {
        bucket: String,
        key: String,
        region: String,
        kms_key_id: Option<String>,
        /// Path-style addressing and no credential or account checks (an emulator endpoint).
        emulator: bool,
    },
}

/// The name of Terraform's state among a deployment's objects.
pub const TERRAFORM_STATE: &str = "terraform/terraform.tfstate";

/// What Terraform last applied of the hub (its routes and consumer queues), a document of the
/// deploy steps.
pub const HUB_DOCUMENT: &str = "terraform/applied-hub.json";

/// Where the rollback keeps its documents (the last good deployment, a pending rollback, the
/// last one done).
pub const ROLLBACK_DOCUMENTS: &str = "rollback/";

/// Where the state is: for people (a directory, or `s3://bucket/prefix`) and for Terraform.
pub trait Located: Send + Sync + fmt::Debug {
    /// Where the state is, for people.
    fn location(&self) -> String;
    /// Where one object is, for people.
    fn locate(&self, name: &str) -> String;
    /// Where Terraform keeps the stack's state beside it.
    fn terraform(&self) -> TerraformBackend;
}

/// The deployment's objects (its ledger `state.json`, step logs, test results, Terraform's
/// state), each written as a compare-and-swap on its version.
#[async_trait]
pub trait Objects: Located {
    async fn read(&self, name: &str) -> Result<Option<Object>, LedgerError>;
    /// Writes `bytes` under `name` if `pre` holds (else [`LedgerError::Conflict`]), atomically:
    /// a crash at any instant leaves the old content or the new. Returns the new version.
    async fn write(
        &self,
        name: &str,
        bytes: &[u8],
        pre: Precondition,
    ) -> Result<Version, LedgerError>;
    /// Removes `name`; absent counts as done.
    async fn delete(&self, name: &str) -> Result<(), LedgerError>;
    /// Names under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError>;
}

/// The append-only audit log: one entry per transition, never overwritten.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Adds one entry. `serial` is the state's serial after the transition the entry records.
    async fn append_audit(&self, serial: u64, line: &[u8]) -> Result<(), LedgerError>;
    /// Every entry, oldest first (possibly including a torn last one).
    async fn read_audit(&self) -> Result<Vec<Vec<u8>>, LedgerError>;
    /// Whether the log holds no entry.
    async fn audit_is_empty(&self) -> Result<bool, LedgerError> {
        Ok(self.read_audit().await?.is_empty())
    }
}

/// The run lock that keeps runs of one deployment apart.
#[async_trait]
pub trait Locker: Send + Sync {
    /// Takes the lock for `me`; with `wait`, keeps trying that long. Returns the guard and the
    /// record of a previous holder that died without releasing it, if any.
    async fn lock(
        &self,
        me: &LockHolder,
        wait: Option<Duration>,
    ) -> Result<(Box<dyn LockGuard>, Option<LockHolder>), LedgerError>;
    /// The current holder of the lock, if anyone holds it.
    async fn holder(&self) -> Result<Option<LockHolder>, LedgerError>;
    /// Removes the lock whoever holds it (`deploy unlock --force`); returns who held it.
    async fn force_unlock(&self) -> Result<Option<LockHolder>, LedgerError>;
}

/// A held run lock. [`LockGuard::release`] gives it up; dropping it also does, as soon as the
/// runtime lets it (see [`wait_for_releases`]).
#[async_trait]
pub trait LockGuard: Send + Sync + fmt::Debug {
    /// Fails when the lock is no longer ours (deleted or taken over behind our back).
    async fn check(&self) -> Result<(), LedgerError>;
    /// Gives the lock up, and says when it could not (the lock is then left to its lease).
    async fn release(self: Box<Self>) -> Result<(), LedgerError>;
}

/// The logs for people: lines in the journal, and step logs written on this machine.
#[async_trait]
pub trait Logs: Send + Sync {
    /// The directory on this machine for what is per machine: Terraform's working directory,
    /// step logs being written, the emulator `--local` started. (For the local backend it is
    /// the ledger directory itself.)
    fn local_dir(&self) -> &Path;
    /// A line for people (`deployment.log`, and `errors.log` / `warnings.log` by level). Never
    /// fails the caller.
    async fn journal(&self, level: Level, line: &str);
    /// Makes a step log written under [`Logs::local_dir`] part of the state (`name` is its path
    /// relative to that directory).
    async fn publish_log(&self, name: &str) -> Result<(), LedgerError>;
}

/// The other deployments stored beside this one.
#[async_trait]
pub trait Deployments: Located {
    /// Every deployment ledger in the same store as this one (this one included): the
    /// directories beside it, or every prefix of the bucket. Where each is, and its bytes.
    async fn deployments(&self) -> Result<Vec<(String, Vec<u8>)>, LedgerError>;
}

/// Everything a backend does, for the callers that need it all (the ledger, `state migrate`,
/// the conformance suite). Every type with the parts has it.
pub trait Full: Objects + AuditLog + Locker + Logs + Deployments {}

impl<T: Objects + AuditLog + Locker + Logs + Deployments + ?Sized> Full for T {}

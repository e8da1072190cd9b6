//! Where a deployment's state lives: the one door to it.
//!
//! A [`Backend`] stores the objects of one deployment (its ledger `state.json`, the audit log,
//! the step logs, test results, and Terraform's state) and its run lock. Two implementations:
//! [`local::LocalBackend`], a private directory on this machine, and [`s3::S3Backend`], a prefix
//! in an S3 bucket shared by every machine and CI runner. Nothing above this module knows which
//! one it has; [`crate::conformance`] holds both to the same behaviour.

pub mod local;
pub mod s3;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::error::LedgerError;
use crate::journal::Level;
use crate::lock::LockHolder;

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

/// A held run lock. Dropping it releases the lock.
pub trait LockGuard: Send + Sync + fmt::Debug {
    /// Fails when the lock is no longer ours (deleted or taken over behind our back).
    fn check(&self) -> Result<(), LedgerError>;
}

pub trait Backend: Send + Sync + fmt::Debug {
    /// Where the state is, for people: a directory, or `s3://bucket/prefix`.
    fn location(&self) -> String;
    /// Where one object is, for people.
    fn locate(&self, name: &str) -> String;
    /// The directory on this machine for what is per machine: Terraform's working directory,
    /// step logs being written, the emulator `--local` started. (For the local backend it is
    /// the ledger directory itself.)
    fn local_dir(&self) -> &Path;

    fn read(&self, name: &str) -> Result<Option<Object>, LedgerError>;
    fn write(&self, name: &str, bytes: &[u8], pre: Precondition) -> Result<Version, LedgerError>;
    /// Removes `name`; absent counts as done.
    fn delete(&self, name: &str) -> Result<(), LedgerError>;
    /// Names under `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError>;

    /// Adds one entry to the append-only audit log. `serial` is the state's serial after the
    /// transition the entry records; no entry is ever overwritten.
    fn append_audit(&self, serial: u64, line: &[u8]) -> Result<(), LedgerError>;
    /// Every audit entry, oldest first (possibly including a torn last one).
    fn read_audit(&self) -> Result<Vec<Vec<u8>>, LedgerError>;

    /// A line for people (`deployment.log`, and `errors.log` / `warnings.log` by level). Never
    /// fails the caller.
    fn journal(&self, level: Level, line: &str);
    /// Makes a step log written under [`Backend::local_dir`] part of the state (`name` is its
    /// path relative to that directory).
    fn publish_log(&self, name: &str) -> Result<(), LedgerError>;

    /// Takes the run lock for `me`; with `wait`, keeps trying that long. Returns the guard and
    /// the record of a previous holder that died without releasing it, if any.
    fn lock(
        &self,
        me: &LockHolder,
        wait: Option<Duration>,
    ) -> Result<(Box<dyn LockGuard>, Option<LockHolder>), LedgerError>;
    /// The current holder of the lock, if anyone holds it.
    fn holder(&self) -> Result<Option<LockHolder>, LedgerError>;
    /// Removes the lock whoever holds it (`deploy unlock --force`); returns who held it.
    fn force_unlock(&self) -> Result<Option<LockHolder>, LedgerError>;

    fn terraform(&self) -> TerraformBackend;

    /// Every deployment ledger in the same store as this one (this one included): the
    /// directories beside it, or every prefix of the bucket. Where each is, and its bytes.
    fn deployments(&self) -> Result<Vec<(String, Vec<u8>)>, LedgerError>;

    /// Whether the audit log holds no entry.
    fn audit_is_empty(&self) -> Result<bool, LedgerError> {
        Ok(self.read_audit()?.is_empty())
    }
}

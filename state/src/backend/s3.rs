//! The S3 backend: a deployment's state under a prefix of a bucket, shared by every machine.
//!
//! - every write of `state.json` is conditional (`If-Match` on the ETag read, `If-None-Match: *`
//!   for the first), so two writers never silently overwrite each other;
//! - the audit log is one object per entry, created with `If-None-Match: *`: append-only, no
//!   entry lost under concurrency;
//! - the run lock is an object created with `If-None-Match: *` naming its holder, renewed by a
//!   heartbeat task on the caller's runtime; a holder silent for longer than its lease is taken
//!   over with `If-Match` on the lock's ETag;
//! - Terraform keeps the stack's state beside it through its own S3 backend.
//!
//! Every request is sent with the SDK on the caller's runtime: nothing here blocks a thread.

mod bootstrap;
mod client;
mod lock;
mod objects;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use jiff::Timestamp;

pub use bootstrap::BucketReport;
use objects::Bucket;

use crate::backend::{
    AuditLog, Deployments, Located, LockGuard, Locker, Logs, Object, Objects, Precondition,
    TERRAFORM_STATE, TerraformBackend, Version,
};
use crate::error::LedgerError;
use crate::journal::Level;
use crate::ledger::STATE_FILE;
use crate::lock::LockHolder;

/// Where a deployment's state lives in S3, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Ends with `/` (or is empty).
    pub prefix: String,
    pub region: String,
    pub kms_key_id: Option<String>,
    /// How long a lock holder may go without a heartbeat before it counts as dead.
    pub lease: Duration,
    /// This machine's directory for the deployment (Terraform's working directory, logs).
    pub local_dir: PathBuf,
    /// An emulator endpoint: path-style addressing, and Terraform's credential and account
    /// checks skipped. Never for real AWS.
    pub emulator: bool,
}

#[derive(Debug)]
pub struct S3Backend {
    bucket: Bucket,
    settings: S3Settings,
    journal: tokio::sync::Mutex<Journal>,
}

/// This run's lines for people, kept as one object per run (S3 objects cannot be appended to).
#[derive(Debug)]
struct Journal {
    name: String,
    text: String,
}

impl S3Backend {
    /// A backend reaching the bucket with the caller's SDK configuration (credentials,
    /// endpoint). Sends nothing yet.
    pub fn connect(settings: S3Settings, sdk: &SdkConfig) -> S3Backend {
        let run = format!(
            "journal/{}-{}-{}.log",
            Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ"),
            gethostname::gethostname().to_string_lossy(),
            std::process::id()
        );
        S3Backend {
            bucket: Bucket {
                client: client::client(&settings, sdk),
                name: settings.bucket.clone(),
            },
            settings,
            journal: tokio::sync::Mutex::new(Journal {
                name: run,
                text: String::new(),
            }),
        }
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.settings.prefix)
    }

    /// Checks the bucket, creating it (versioned, encrypted, private, TLS only) when `create`
    /// and it does not exist. Never deletes anything.
    pub async fn ensure_bucket(&self, create: bool) -> Result<BucketReport, LedgerError> {
        bootstrap::ensure(&self.bucket, &self.settings, create).await
    }
}

impl Located for S3Backend {
    fn location(&self) -> String {
        self.bucket.uri(&self.settings.prefix)
    }

    fn locate(&self, name: &str) -> String {
        self.bucket.uri(&self.key(name))
    }

    fn terraform(&self) -> TerraformBackend {
        TerraformBackend::S3 {
            bucket: self.settings.bucket.clone(),
            key: self.key(TERRAFORM_STATE),
            region: self.settings.region.clone(),
            kms_key_id: self.settings.kms_key_id.clone(),
            emulator: self.settings.emulator,
        }
    }
}

#[async_trait]
impl Objects for S3Backend {
    async fn read(&self, name: &str) -> Result<Option<Object>, LedgerError> {
        self.bucket.get(&self.key(name)).await
    }

    async fn write(
        &self,
        name: &str,
        bytes: &[u8],
        pre: Precondition,
    ) -> Result<Version, LedgerError> {
        self.bucket.put(&self.key(name), bytes.to_vec(), pre).await
    }

    async fn delete(&self, name: &str) -> Result<(), LedgerError> {
        self.bucket.delete(&self.key(name)).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError> {
        let strip = self.settings.prefix.len();
        Ok(self
            .bucket
            .list(&self.key(prefix))
            .await?
            .into_iter()
            .map(|k| k[strip..].to_string())
            .collect())
    }
}

#[async_trait]
impl AuditLog for S3Backend {
    async fn append_audit(&self, serial: u64, line: &[u8]) -> Result<(), LedgerError> {
        let name = format!(
            "audit/{serial:012}-{:020}.json",
            Timestamp::now().as_nanosecond()
        );
        self.write(&name, line, Precondition::Absent)
            .await
            .map(|_| ())
    }

    async fn read_audit(&self) -> Result<Vec<Vec<u8>>, LedgerError> {
        let mut out = Vec::new();
        for name in self.list("audit/").await? {
            if let Some(obj) = self.read(&name).await? {
                out.push(obj.bytes);
            }
        }
        Ok(out)
    }

    async fn audit_is_empty(&self) -> Result<bool, LedgerError> {
        Ok(self.list("audit/").await?.is_empty())
    }
}

#[async_trait]
impl Locker for S3Backend {
    async fn lock(
        &self,
        me: &LockHolder,
        wait: Option<Duration>,
    ) -> Result<(Box<dyn LockGuard>, Option<LockHolder>), LedgerError> {
        let (guard, previous) = lock::acquire(self, me, wait).await?;
        Ok((Box::new(guard), previous))
    }

    async fn holder(&self) -> Result<Option<LockHolder>, LedgerError> {
        Ok(lock::read(self).await?.map(|(h, _)| h))
    }

    async fn force_unlock(&self) -> Result<Option<LockHolder>, LedgerError> {
        let holder = lock::read(self).await?.map(|(h, _)| h);
        self.delete(lock::LOCK_OBJECT).await?;
        Ok(holder)
    }
}

#[async_trait]
impl Logs for S3Backend {
    fn local_dir(&self) -> &Path {
        &self.settings.local_dir
    }

    async fn journal(&self, _level: Level, line: &str) {
        // Held across the write, so a later (longer) text never lands before an earlier one.
        let mut journal = self.journal.lock().await;
        journal.text.push_str(line);
        let (name, text) = (journal.name.clone(), journal.text.clone());
        let _ = self.write(&name, text.as_bytes(), Precondition::None).await;
    }

    async fn publish_log(&self, name: &str) -> Result<(), LedgerError> {
        let path = self.settings.local_dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| LedgerError::Io {
            path: path.clone(),
            source,
        })?;
        self.write(name, &bytes, Precondition::None)
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl Deployments for S3Backend {
    /// Every deployment state in the bucket (whatever its prefix).
    async fn deployments(&self) -> Result<Vec<(String, Vec<u8>)>, LedgerError> {
        let keys = self.bucket.list("").await?;
        let mut out = Vec::new();
        let ledgers = keys
            .into_iter()
            .filter(|k| k == STATE_FILE || k.ends_with(&format!("/{STATE_FILE}")));
        for key in ledgers {
            if let Some(obj) = self.bucket.get(&key).await? {
                let location = self.bucket.uri(key.trim_end_matches(STATE_FILE));
                out.push((location, obj.bytes));
            }
        }
        Ok(out)
    }
}

//! The S3 backend: a deployment's state under a prefix of a bucket, shared by every machine.
//!
//! - every write of `state.json` is conditional (`If-Match` on the ETag read, `If-None-Match: *`
//!   for the first), so two writers never silently overwrite each other;
//! - the audit log is one object per entry, created with `If-None-Match: *`: append-only, no
//!   entry lost under concurrency;
//! - the run lock is an object created with `If-None-Match: *` naming its holder, renewed by a
//!   heartbeat; a holder silent for longer than its lease is taken over with `If-Match` on the
//!   lock's ETag;
//! - Terraform keeps the stack's state beside it through its own S3 backend.
//!
//! The ledger above is synchronous; the SDK is async. Requests run on a small runtime of this
//! backend's own (with its own HTTP connections), and the caller waits for each one: so the
//! backend works the same from plain threads, tests and the binary's runtime.

mod bucket;
mod client;
mod lock;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use jiff::Timestamp;

pub use bucket::BucketReport;
use client::{Inner, map_err, status_of};

use crate::backend::{
    Backend, LockGuard, Object, Precondition, TERRAFORM_STATE, TerraformBackend, Version,
};
use crate::error::LedgerError;
use crate::journal::Level;
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
    inner: Arc<Inner>,
    settings: S3Settings,
    journal: Mutex<Journal>,
}

/// This run's lines for people, kept as one object per run (S3 objects cannot be appended to).
#[derive(Debug)]
struct Journal {
    name: String,
    text: String,
}

impl S3Backend {
    /// Connects with the SDK configuration `sdk` yields (loaded on this backend's runtime, so
    /// its connections are its own).
    pub fn connect(
        settings: S3Settings,
        sdk: impl Future<Output = SdkConfig> + Send + 'static,
    ) -> Result<S3Backend, LedgerError> {
        let inner = Inner::start(&settings, sdk)?;
        let run = format!(
            "journal/{}-{}-{}.log",
            Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ"),
            gethostname::gethostname().to_string_lossy(),
            std::process::id()
        );
        Ok(S3Backend {
            inner: Arc::new(inner),
            settings,
            journal: Mutex::new(Journal {
                name: run,
                text: String::new(),
            }),
        })
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.settings.prefix)
    }

    /// Checks the bucket, creating it (versioned, encrypted, private, TLS only) when `create`
    /// and it does not exist. Never deletes anything.
    pub fn ensure_bucket(&self, create: bool) -> Result<BucketReport, LedgerError> {
        bucket::ensure(&self.inner, &self.settings, create)
    }

    fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.settings.bucket)
    }

    fn get_key(&self, key: &str) -> Result<Option<Object>, LedgerError> {
        let c = self.inner.client.clone();
        let (bucket, k) = (self.settings.bucket.clone(), key.to_string());
        let location = self.uri(key);
        self.inner.block(async move {
            let out = match c.get_object().bucket(bucket).key(k).send().await {
                Ok(o) => o,
                Err(e) if status_of(&e) == Some(404) => return Ok(None),
                Err(e) => return Err(map_err(&location, e)),
            };
            let version = out.e_tag().unwrap_or_default().to_string();
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| LedgerError::storage(&location, format!("reading the body: {e}")))?
                .into_bytes()
                .to_vec();
            Ok(Some(Object { bytes, version }))
        })
    }

    fn put_key(&self, key: &str, bytes: &[u8], pre: Precondition) -> Result<Version, LedgerError> {
        let c = self.inner.client.clone();
        let (bucket, k) = (self.settings.bucket.clone(), key.to_string());
        let location = self.uri(key);
        let body = bytes.to_vec();
        let conditional = matches!(pre, Precondition::Matches(_));
        self.inner.block(async move {
            let mut req = c
                .put_object()
                .bucket(bucket)
                .key(k)
                .body(ByteStream::from(body));
            req = match pre {
                Precondition::None => req,
                Precondition::Absent => req.if_none_match("*"),
                Precondition::Matches(v) => req.if_match(v),
            };
            match req.send().await {
                Ok(out) => Ok(out.e_tag().unwrap_or_default().to_string()),
                // `If-Match` on an object that is gone: the version read no longer exists.
                Err(e) if conditional && status_of(&e) == Some(404) => {
                    Err(LedgerError::Conflict { location })
                }
                Err(e) => Err(map_err(&location, e)),
            }
        })
    }

    fn list_keys(&self, prefix: &str) -> Result<Vec<String>, LedgerError> {
        let c = self.inner.client.clone();
        let (bucket, p) = (self.settings.bucket.clone(), prefix.to_string());
        let location = self.uri(prefix);
        self.inner.block(async move {
            let mut keys = Vec::new();
            let mut pages = c
                .list_objects_v2()
                .bucket(bucket)
                .prefix(p)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = match page {
                    Ok(p) => p,
                    // No bucket yet: nothing stored.
                    Err(e) if status_of(&e) == Some(404) => break,
                    Err(e) => return Err(map_err(&location, e)),
                };
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                );
            }
            keys.sort();
            Ok(keys)
        })
    }

    fn delete_key(&self, key: &str) -> Result<(), LedgerError> {
        let c = self.inner.client.clone();
        let (bucket, k) = (self.settings.bucket.clone(), key.to_string());
        let location = self.uri(key);
        self.inner.block(async move {
            match c.delete_object().bucket(bucket).key(k).send().await {
                Ok(_) => Ok(()),
                Err(e) if status_of(&e) == Some(404) => Ok(()),
                Err(e) => Err(map_err(&location, e)),
            }
        })
    }
}

impl Backend for S3Backend {
    fn location(&self) -> String {
        self.uri(&self.settings.prefix)
    }

    fn locate(&self, name: &str) -> String {
        self.uri(&self.key(name))
    }

    fn local_dir(&self) -> &Path {
        &self.settings.local_dir
    }

    fn read(&self, name: &str) -> Result<Option<Object>, LedgerError> {
        self.get_key(&self.key(name))
    }

    fn write(&self, name: &str, bytes: &[u8], pre: Precondition) -> Result<Version, LedgerError> {
        self.put_key(&self.key(name), bytes, pre)
    }

    fn delete(&self, name: &str) -> Result<(), LedgerError> {
        self.delete_key(&self.key(name))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError> {
        let strip = self.settings.prefix.len();
        Ok(self
            .list_keys(&self.key(prefix))?
            .into_iter()
            .map(|k| k[strip..].to_string())
            .collect())
    }

    fn append_audit(&self, serial: u64, line: &[u8]) -> Result<(), LedgerError> {
        let name = format!(
            "audit/{serial:012}-{:020}.json",
            Timestamp::now().as_nanosecond()
        );
        self.write(&name, line, Precondition::Absent).map(|_| ())
    }

    fn read_audit(&self) -> Result<Vec<Vec<u8>>, LedgerError> {
        let mut out = Vec::new();
        for name in self.list("audit/")? {
            if let Some(obj) = self.read(&name)? {
                out.push(obj.bytes);
            }
        }
        Ok(out)
    }

    fn journal(&self, _level: Level, line: &str) {
        let (name, text) = {
            let mut j = self.journal.lock().unwrap_or_else(|p| p.into_inner());
            j.text.push_str(line);
            (j.name.clone(), j.text.clone())
        };
        let _ = self.write(&name, text.as_bytes(), Precondition::None);
    }

    fn publish_log(&self, name: &str) -> Result<(), LedgerError> {
        let path = self.settings.local_dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| LedgerError::Io {
            path: path.clone(),
            source,
        })?;
        self.write(name, &bytes, Precondition::None).map(|_| ())
    }

    fn lock(
        &self,
        me: &LockHolder,
        wait: Option<Duration>,
    ) -> Result<(Box<dyn LockGuard>, Option<LockHolder>), LedgerError> {
        let (guard, previous) = lock::acquire(self, me, wait)?;
        Ok((Box::new(guard), previous))
    }

    fn holder(&self) -> Result<Option<LockHolder>, LedgerError> {
        Ok(lock::read(self)?.map(|(h, _)| h))
    }

    fn force_unlock(&self) -> Result<Option<LockHolder>, LedgerError> {
        let holder = lock::read(self)?.map(|(h, _)| h);
        self.delete(lock::LOCK_OBJECT)?;
        Ok(holder)
    }

    /// Every deployment state in the bucket (whatever its prefix).
    fn deployments(&self) -> Result<Vec<(String, Vec<u8>)>, LedgerError> {
        let keys = self.list_keys("")?;
        let mut out = Vec::new();
        for key in keys
            .into_iter()
            .filter(|k| k == "state.json" || k.ends_with("/state.json"))
        {
            if let Some(obj) = self.get_key(&key)? {
                let location = self.uri(key.trim_end_matches("state.json"));
                out.push((location, obj.bytes));
            }
        }
        Ok(out)
    }

    fn audit_is_empty(&self) -> Result<bool, LedgerError> {
        Ok(self.list("audit/")?.is_empty())
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

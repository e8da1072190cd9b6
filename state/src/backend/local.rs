//! The local backend: one private directory per deployment on this machine,
//! `<root>/<project>-<environment>-<region>/`.
//!
//! Its methods are async to share the backend traits, but do plain file I/O: local files are
//! fast, and a crash at any instant leaves each of them readable (atomic replacement).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;

use crate::backend::{
    AuditLog, Deployments, Located, LockGuard, Locker, Logs, Object, Objects, Precondition,
    TerraformBackend, Version,
};
use crate::error::LedgerError;
use crate::fingerprint::sha256_hex;
use crate::fsutil;
use crate::journal::{self, Level};
use crate::ledger::{AUDIT_FILE, STATE_FILE};
use crate::lock::{self, LedgerLock, LockHolder};

pub const LOCK_FILE: &str = "deploy.lock";

#[derive(Debug, Clone)]
pub struct LocalBackend {
    dir: PathBuf,
}

impl LocalBackend {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalBackend { dir: dir.into() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn io(&self, path: &Path) -> impl Fn(io::Error) -> LedgerError + '_ {
        let path = path.to_path_buf();
        move |source| LedgerError::Io {
            path: path.clone(),
            source,
        }
    }

    fn read_now(&self, name: &str) -> Result<Option<Object>, LedgerError> {
        let path = self.path(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(Object {
                version: version_of(&bytes),
                bytes,
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io(&path)(e)),
        }
    }
}

fn version_of(bytes: &[u8]) -> Version {
    sha256_hex(bytes)
}

/// Whether what is stored (`current`) lets a write under `pre` happen.
fn holds(pre: &Precondition, current: Option<&Object>) -> bool {
    match (pre, current) {
        (Precondition::None, _) => true,
        (Precondition::Absent, c) => c.is_none(),
        (Precondition::Matches(v), Some(c)) => &c.version == v,
        (Precondition::Matches(_), None) => false,
    }
}

impl Located for LocalBackend {
    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn locate(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn terraform(&self) -> TerraformBackend {
        TerraformBackend::Local
    }
}

#[async_trait]
impl Objects for LocalBackend {
    async fn read(&self, name: &str) -> Result<Option<Object>, LedgerError> {
        self.read_now(name)
    }

    async fn write(
        &self,
        name: &str,
        bytes: &[u8],
        pre: Precondition,
    ) -> Result<Version, LedgerError> {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fsutil::private_dir(parent).map_err(self.io(parent))?;
        }
        if !holds(&pre, self.read_now(name)?.as_ref()) {
            return Err(LedgerError::Conflict {
                location: self.locate(name),
            });
        }
        fsutil::write_atomic(&path, bytes).map_err(self.io(&path))?;
        Ok(version_of(bytes))
    }

    async fn delete(&self, name: &str) -> Result<(), LedgerError> {
        let path = self.path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(&path)(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError> {
        if !self.dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = fsutil::files(&self.dir, false, |_| false).map_err(self.io(&self.dir))?;
        out.retain(|n| n.starts_with(prefix));
        Ok(out)
    }
}

#[async_trait]
impl AuditLog for LocalBackend {
    async fn append_audit(&self, _serial: u64, line: &[u8]) -> Result<(), LedgerError> {
        let path = self.path(AUDIT_FILE);
        let write = || -> io::Result<()> {
            let mut f = fsutil::append(&path)?;
            let mut buf = line.to_vec();
            buf.push(b'\n');
            f.write_all(&buf)?;
            f.sync_data()
        };
        write().map_err(self.io(&path))
    }

    async fn read_audit(&self) -> Result<Vec<Vec<u8>>, LedgerError> {
        let Some(obj) = self.read_now(AUDIT_FILE)? else {
            return Ok(Vec::new());
        };
        Ok(obj
            .bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(<[u8]>::to_vec)
            .collect())
    }
}

#[async_trait]
impl LockGuard for LedgerLock {
    async fn check(&self) -> Result<(), LedgerError> {
        // The kernel keeps an flock for as long as the file is open: it cannot be lost.
        Ok(())
    }

    async fn release(self: Box<Self>) -> Result<(), LedgerError> {
        // Dropping it clears the holder record and unlocks the file.
        drop(self);
        Ok(())
    }
}

#[async_trait]
impl Locker for LocalBackend {
    async fn lock(
        &self,
        me: &LockHolder,
        wait: Option<Duration>,
    ) -> Result<(Box<dyn LockGuard>, Option<LockHolder>), LedgerError> {
        fsutil::private_dir(&self.dir).map_err(self.io(&self.dir))?;
        let (lock, previous) = lock::acquire(&self.path(LOCK_FILE), me, wait).await?;
        fsutil::remove_stale_temps(&self.dir);
        Ok((Box::new(lock), previous))
    }

    async fn holder(&self) -> Result<Option<LockHolder>, LedgerError> {
        lock::current_holder(&self.path(LOCK_FILE))
    }

    async fn force_unlock(&self) -> Result<Option<LockHolder>, LedgerError> {
        lock::clear_dead(&self.path(LOCK_FILE))
    }
}

#[async_trait]
impl Logs for LocalBackend {
    fn local_dir(&self) -> &Path {
        &self.dir
    }

    async fn journal(&self, level: Level, line: &str) {
        let _ = journal::write(&self.dir, level, line);
    }

    async fn publish_log(&self, _name: &str) -> Result<(), LedgerError> {
        // Written in place.
        Ok(())
    }
}

#[async_trait]
impl Deployments for LocalBackend {
    async fn deployments(&self) -> Result<Vec<(String, Vec<u8>)>, LedgerError> {
        let Some(root) = self.dir.parent() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for dir in deployment_dirs(root) {
            let path = dir.join(STATE_FILE);
            match std::fs::read(&path) {
                Ok(bytes) => out.push((dir.display().to_string(), bytes)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.io(&path)(e)),
            }
        }
        Ok(out)
    }
}

/// The ledger directories under a local state root, with what each holds.
pub fn deployment_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.join(STATE_FILE).is_file())
        .collect();
    dirs.sort();
    dirs
}

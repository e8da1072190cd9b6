//! The exclusive lock on a ledger directory: an advisory `flock` (std's `File::try_lock`) on
//! `deploy.lock`, whose content names the holder.
//!
//! The kernel drops the lock when its holder dies, however it dies; a holder record still in the
//! file when the next run gets the lock therefore means the previous run did not end cleanly.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::LedgerError;
use crate::fsutil::FILE_MODE;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    pub host: String,
    pub command: String,
    pub since: Timestamp,
    /// The last time the holder said it is alive (shared locks, which no kernel watches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<Timestamp>,
    /// How long after its last heartbeat the holder counts as dead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u64>,
}

impl LockHolder {
    /// This process, running `command` (e.g. `deploy all`).
    pub fn current(command: &str) -> Self {
        LockHolder {
            pid: std::process::id(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            command: command.to_string(),
            since: Timestamp::now(),
            heartbeat: None,
            lease_seconds: None,
        }
    }

    /// `pid 123 on host (deploy all) since T`.
    pub fn describe(&self) -> String {
        format!(
            "pid {} on {} ({}) since {}",
            self.pid, self.host, self.command, self.since
        )
    }
}

/// Held until dropped; dropping clears the holder record and releases the lock.
#[derive(Debug)]
pub struct LedgerLock {
    file: File,
    path: PathBuf,
}

impl LedgerLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LedgerLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.sync_data();
        let _ = self.file.unlock();
    }
}

/// How often a waiting run looks at the lock again.
const POLL: Duration = Duration::from_millis(100);

/// What one try at the lock found.
enum Attempt {
    /// Ours now; with the record of a previous holder that never released it (dead), if any.
    Taken(LedgerLock, Option<LockHolder>),
    /// Held by a live process (named, when its record could be read).
    Held(Option<LockHolder>),
}

/// Takes the lock at `path` for `me`. With `wait`, keeps trying until it is free or the
/// duration has passed. Returns the lock and the record of a previous holder that never
/// released it (dead), if any.
pub async fn acquire(
    path: &Path,
    me: &LockHolder,
    wait: Option<Duration>,
) -> Result<(LedgerLock, Option<LockHolder>), LedgerError> {
    let deadline = wait.map(|w| Instant::now() + w);
    loop {
        match try_acquire(path, me)? {
            Attempt::Taken(lock, previous) => return Ok((lock, previous)),
            Attempt::Held(_) if deadline.is_some_and(|d| Instant::now() < d) => {
                tokio::time::sleep(POLL).await;
            }
            Attempt::Held(holder) => {
                return Err(LedgerError::Locked {
                    holder: holder.map(Box::new),
                    waited: wait,
                });
            }
        }
    }
}

/// Takes the lock at `path` for `me` now, or fails naming who holds it.
pub fn acquire_now(
    path: &Path,
    me: &LockHolder,
) -> Result<(LedgerLock, Option<LockHolder>), LedgerError> {
    match try_acquire(path, me)? {
        Attempt::Taken(lock, previous) => Ok((lock, previous)),
        Attempt::Held(holder) => Err(LedgerError::Locked {
            holder: holder.map(Box::new),
            waited: None,
        }),
    }
}

/// One try: the lock taken and `me` recorded in it, or who holds it.
fn try_acquire(path: &Path, me: &LockHolder) -> Result<Attempt, LedgerError> {
    let io = |source| LedgerError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Attempt::Held(read_holder_settled(&mut file))),
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    let previous = read_holder(&mut file);
    let record = serde_json::to_vec(me).expect("lock holder serializes");
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(&record).map_err(io)?;
    file.sync_data().map_err(io)?;
    let lock = LedgerLock {
        file,
        path: path.to_path_buf(),
    };
    Ok(Attempt::Taken(lock, previous))
}

/// The holder of a lock found taken. The winner writes its record right after taking the lock,
/// so an empty file means "being written": look again for a moment before giving up on a name.
fn read_holder_settled(file: &mut File) -> Option<LockHolder> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Some(h) = read_holder(file) {
            return Some(h);
        }
        // Still locked but no record: the winner is between flock and write.
        if Instant::now() >= deadline || file.try_lock().is_ok_and(|()| file.unlock().is_ok()) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The live holder of the lock at `path`, if it is held.
pub fn current_holder(path: &Path) -> Result<Option<LockHolder>, LedgerError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(LedgerError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(None)
        }
        Err(TryLockError::WouldBlock) => Ok(read_holder_settled(&mut file)),
        Err(TryLockError::Error(source)) => Err(LedgerError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Clears the record a dead holder left. A live holder's lock cannot be broken: the kernel
/// holds it for that process, so this refuses and names it.
pub fn clear_dead(path: &Path) -> Result<Option<LockHolder>, LedgerError> {
    if let Some(h) = current_holder(path)? {
        return Err(LedgerError::Locked {
            holder: Some(Box::new(h)),
            waited: None,
        });
    }
    let me = LockHolder::current("deploy unlock --force");
    let (lock, previous) = acquire_now(path, &me)?;
    drop(lock);
    Ok(previous)
}

/// The holder recorded in the lock file, if any.
pub fn read_holder(file: &mut File) -> Option<LockHolder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether a process with this pid exists.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    match rustix::process::Pid::from_raw(raw) {
        Some(p) => match rustix::process::test_kill_process(p) {
            Ok(()) => true,
            // The process exists but belongs to someone else.
            Err(e) => e == rustix::io::Errno::PERM,
        },
        None => false,
    }
}

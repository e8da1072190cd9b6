//! The shared run lock: an object naming its holder, created with `If-None-Match: *`, renewed
//! by a heartbeat task on the caller's runtime, taken over with `If-Match` once its holder is
//! silent for a lease.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::task::JoinHandle;

use super::S3Backend;
use super::objects::Bucket;
use crate::backend::{Located, LockGuard, Objects, Precondition, Version, releases};
use crate::error::LedgerError;
use crate::lock::LockHolder;

pub(super) const LOCK_OBJECT: &str = "deploy.lock";

/// How often a waiting run looks at the lock again.
const POLL: Duration = Duration::from_millis(250);

/// The holder and the lock object's version, if the lock is held.
pub(super) async fn read(b: &S3Backend) -> Result<Option<(LockHolder, Version)>, LedgerError> {
    let Some(obj) = b.read(LOCK_OBJECT).await? else {
        return Ok(None);
    };
    let holder = serde_json::from_slice(&obj.bytes).unwrap_or_else(|_| LockHolder {
        pid: 0,
        host: "unknown (unreadable lock object)".into(),
        command: "unknown".into(),
        since: Timestamp::UNIX_EPOCH,
        heartbeat: None,
        lease_seconds: Some(0),
    });
    Ok(Some((holder, obj.version)))
}

/// Whether `h` has been silent for longer than its lease.
fn expired(h: &LockHolder, default_lease: Duration, now: Timestamp) -> bool {
    let lease = h.lease_seconds.unwrap_or(default_lease.as_secs());
    let last = h.heartbeat.unwrap_or(h.since);
    now.as_second() - last.as_second() > i64::try_from(lease).unwrap_or(i64::MAX)
}

fn record(me: &LockHolder, lease: Duration) -> Vec<u8> {
    let mut r = me.clone();
    r.heartbeat = Some(Timestamp::now());
    r.lease_seconds = Some(lease.as_secs().max(1));
    serde_json::to_vec(&r).expect("lock holder serializes")
}

pub(super) async fn acquire(
    b: &S3Backend,
    me: &LockHolder,
    wait: Option<Duration>,
) -> Result<(S3Lock, Option<LockHolder>), LedgerError> {
    let lease = b.settings.lease;
    let deadline = wait.map(|w| Instant::now() + w);
    loop {
        let (pre, previous) = match read(b).await? {
            None => (Precondition::Absent, None),
            Some((h, version)) if expired(&h, lease, Timestamp::now()) => {
                (Precondition::Matches(version), Some(h))
            }
            Some((h, _)) => {
                if deadline.is_some_and(|d| Instant::now() < d) {
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                return Err(LedgerError::Locked {
                    holder: Some(Box::new(h)),
                    waited: wait,
                });
            }
        };
        match b.write(LOCK_OBJECT, &record(me, lease), pre).await {
            Ok(version) => return Ok((S3Lock::start(b, me.clone(), version), previous)),
            // Another run got there first: look again.
            Err(LedgerError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
}

#[derive(Debug)]
struct Held {
    version: Version,
    lost: Option<String>,
}

/// The lock object, as the guard and its heartbeat reach it.
#[derive(Debug, Clone)]
struct Target {
    bucket: Bucket,
    key: String,
    location: String,
    held: Arc<Mutex<Held>>,
}

impl Target {
    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Deletes the lock object if it is still the one this run wrote.
    async fn release(self, heartbeat: JoinHandle<()>) {
        heartbeat.abort();
        // Wait for it to stop, so no renewal lands after the version is read below.
        let _ = heartbeat.await;
        if self.held().lost.is_some() {
            return;
        }
        let ours = self.held().version.clone();
        if let Ok(Some(v)) = self.bucket.head(&self.key).await
            && v == ours
        {
            let _ = self.bucket.delete(&self.key).await;
        }
    }
}

/// A held lock; its heartbeat runs until it is released or dropped, which deletes the lock
/// object.
#[derive(Debug)]
pub(super) struct S3Lock {
    target: Target,
    /// `None` once released.
    heartbeat: Option<JoinHandle<()>>,
}

impl S3Lock {
    /// Starts the heartbeat on the current runtime.
    fn start(b: &S3Backend, me: LockHolder, version: Version) -> S3Lock {
        let target = Target {
            bucket: b.bucket.clone(),
            key: b.key(LOCK_OBJECT),
            location: b.locate(LOCK_OBJECT),
            held: Arc::new(Mutex::new(Held {
                version,
                lost: None,
            })),
        };
        let heartbeat = tokio::spawn(beat(target.clone(), me, b.settings.lease));
        S3Lock {
            target,
            heartbeat: Some(heartbeat),
        }
    }

    /// What gives the lock up: stops the heartbeat, then deletes the lock object (nothing once
    /// given up already).
    fn give_up(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let heartbeat = self.heartbeat.take()?;
        Some(self.target.clone().release(heartbeat))
    }
}

/// Renews the lock every third of the lease, with `If-Match` on the version it last wrote. A
/// lock deleted or replaced behind its back is recorded as lost.
async fn beat(target: Target, me: LockHolder, lease: Duration) {
    let every = (lease / 3).max(Duration::from_millis(500));
    let mut last_ok = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let version = target.held().version.clone();
        let put = target
            .bucket
            .put(
                &target.key,
                record(&me, lease),
                Precondition::Matches(version),
            )
            .await;
        let mut h = target.held();
        match put {
            Ok(version) => {
                h.version = version;
                last_ok = Instant::now();
            }
            Err(LedgerError::Conflict { .. }) => {
                h.lost = Some("the lock object was deleted or replaced by another run".into());
                return;
            }
            Err(_) if last_ok.elapsed() > lease => {
                h.lost = Some(format!(
                    "the heartbeat could not renew it for {}s (the lease)",
                    lease.as_secs()
                ));
                return;
            }
            Err(_) => {}
        }
    }
}

#[async_trait]
impl LockGuard for S3Lock {
    async fn check(&self) -> Result<(), LedgerError> {
        let t = &self.target;
        let lost = |detail: String| LedgerError::LockLost {
            location: t.location.clone(),
            detail,
        };
        if let Some(why) = t.held().lost.clone() {
            return Err(lost(why));
        }
        let ours = t.held().version.clone();
        match t.bucket.head(&t.key).await? {
            Some(v) if v == ours => Ok(()),
            // A renewal may have landed between reading `ours` and the HEAD.
            Some(v) if v == t.held().version => Ok(()),
            Some(_) => Err(lost("another run replaced the lock object".into())),
            None => Err(lost("the lock object was deleted".into())),
        }
    }

    async fn release(mut self: Box<Self>) -> Result<(), LedgerError> {
        if let Some(give_up) = self.give_up() {
            give_up.await;
        }
        Ok(())
    }
}

impl Drop for S3Lock {
    fn drop(&mut self) {
        // Not released: give it up on the runtime it was dropped on, as soon as it can.
        if let Some(give_up) = self.give_up() {
            releases::spawn(give_up);
        }
    }
}

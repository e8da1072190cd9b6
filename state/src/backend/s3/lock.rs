//! The shared run lock: an object naming its holder, created with `If-None-Match: *`, renewed
//! by a heartbeat, taken over with `If-Match` once its holder is silent for a lease.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::S3Backend;
use super::client::Inner;
use crate::backend::{Backend, LockGuard, Precondition, Version};
use crate::error::LedgerError;
use crate::lock::LockHolder;

pub(super) const LOCK_OBJECT: &str = "deploy.lock";

/// How often a waiting run looks at the lock again.
const POLL: Duration = Duration::from_millis(250);

/// The holder and the lock object's version, if the lock is held.
pub(super) fn read(b: &S3Backend) -> Result<Option<(LockHolder, Version)>, LedgerError> {
    let Some(obj) = b.read(LOCK_OBJECT)? else {
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

pub(super) fn acquire(
    b: &S3Backend,
    me: &LockHolder,
    wait: Option<Duration>,
) -> Result<(S3Lock, Option<LockHolder>), LedgerError> {
    let lease = b.settings.lease;
    let deadline = wait.map(|w| Instant::now() + w);
    loop {
        let (attempt, previous) = match read(b)? {
            None => (
                b.write(LOCK_OBJECT, &record(me, lease), Precondition::Absent),
                None,
            ),
            Some((h, version)) if expired(&h, lease, Timestamp::now()) => (
                b.write(
                    LOCK_OBJECT,
                    &record(me, lease),
                    Precondition::Matches(version),
                ),
                Some(h),
            ),
            Some((h, _)) => {
                match deadline {
                    Some(d) if Instant::now() < d => std::thread::sleep(POLL),
                    _ => {
                        return Err(LedgerError::Locked {
                            holder: Some(Box::new(h)),
                            waited: wait,
                        });
                    }
                }
                continue;
            }
        };
        match attempt {
            Ok(version) => {
                let lock = S3Lock::start(b, me.clone(), version);
                return Ok((lock, previous));
            }
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

/// A held lock; its heartbeat runs until it is dropped, which deletes the lock object.
#[derive(Debug)]
pub(super) struct S3Lock {
    inner: Arc<Inner>,
    bucket: String,
    key: String,
    location: String,
    held: Arc<Mutex<Held>>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl S3Lock {
    fn start(b: &S3Backend, me: LockHolder, version: Version) -> S3Lock {
        let held = Arc::new(Mutex::new(Held {
            version,
            lost: None,
        }));
        let (bucket, key) = (b.settings.bucket.clone(), b.key(LOCK_OBJECT));
        let lease = b.settings.lease;
        let heartbeat = b.inner.spawn(beat(
            b.inner.client.clone(),
            bucket.clone(),
            key.clone(),
            me,
            lease,
            held.clone(),
        ));
        S3Lock {
            inner: b.inner.clone(),
            bucket,
            key,
            location: b.locate(LOCK_OBJECT),
            held,
            heartbeat: Some(heartbeat),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock object's current version, or `None` when it is gone.
    fn current_version(&self) -> Result<Option<Version>, LedgerError> {
        let (c, bucket, key) = (
            self.inner.client.clone(),
            self.bucket.clone(),
            self.key.clone(),
        );
        let location = self.location.clone();
        self.inner.block(async move {
            match c.head_object().bucket(bucket).key(key).send().await {
                Ok(o) => Ok(Some(o.e_tag().unwrap_or_default().to_string())),
                Err(e) if super::client::status_of(&e) == Some(404) => Ok(None),
                Err(e) => Err(super::client::map_err(&location, e)),
            }
        })
    }
}

/// Renews the lock every third of the lease, with `If-Match` on the version it last wrote. A
/// lock deleted or replaced behind its back is recorded as lost.
async fn beat(
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    me: LockHolder,
    lease: Duration,
    held: Arc<Mutex<Held>>,
) {
    let every = (lease / 3).max(Duration::from_millis(500));
    let mut last_ok = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let version = held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .version
            .clone();
        let put = client
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .if_match(version)
            .body(record(&me, lease).into())
            .send()
            .await;
        let mut h = held.lock().unwrap_or_else(|p| p.into_inner());
        match put {
            Ok(out) => {
                h.version = out.e_tag().unwrap_or_default().to_string();
                last_ok = Instant::now();
            }
            Err(e) if matches!(super::client::status_of(&e), Some(404 | 412)) => {
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

impl LockGuard for S3Lock {
    fn check(&self) -> Result<(), LedgerError> {
        if let Some(why) = self.held().lost.clone() {
            return Err(LedgerError::LockLost {
                location: self.location.clone(),
                detail: why,
            });
        }
        let ours = self.held().version.clone();
        match self.current_version()? {
            Some(v) if v == ours => Ok(()),
            // A renewal may have landed between reading `ours` and the HEAD.
            Some(v) if v == self.held().version => Ok(()),
            Some(_) => Err(LedgerError::LockLost {
                location: self.location.clone(),
                detail: "another run replaced the lock object".into(),
            }),
            None => Err(LedgerError::LockLost {
                location: self.location.clone(),
                detail: "the lock object was deleted".into(),
            }),
        }
    }
}

impl Drop for S3Lock {
    fn drop(&mut self) {
        if let Some(beat) = self.heartbeat.take() {
            beat.abort();
            // Wait for it to stop, so no renewal lands after the version is read below.
            self.inner.block(async move {
                let _ = beat.await;
            });
        }
        if self.held().lost.is_some() {
            return;
        }
        let ours = self.held().version.clone();
        if let Ok(Some(v)) = self.current_version()
            && v == ours
        {
            let (c, bucket, key) = (
                self.inner.client.clone(),
                self.bucket.clone(),
                self.key.clone(),
            );
            let _ = self
                .inner
                .block(async move { c.delete_object().bucket(bucket).key(key).send().await });
        }
    }
}

//! The S3 state backend against a real emulator (ministack, which serves S3 with conditional
//! writes and isolates accounts by access key): the same conformance suite the local backend
//! passes, the bucket bootstrap, the lease of the shared lock, and refusals.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use deploy_state::backend::s3::{BucketReport, S3Backend, S3Settings};
use deploy_state::backend::{Locker, Objects, Precondition};
use deploy_state::{LedgerError, LockHolder, conformance};
use support::{Kind, emulator};

static BUCKETS: AtomicU32 = AtomicU32::new(0);

fn unique_bucket() -> String {
    let n = BUCKETS.fetch_add(1, Ordering::SeqCst);
    format!("state-test-{}-{n}", std::process::id())
}

fn endpoint() -> String {
    emulator::shared(Kind::Ministack).endpoint.clone()
}

async fn sdk(access_key: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            access_key, "test", None, None, "tests",
        ))
        .load()
        .await
}

async fn backend_in(access_key: &str, bucket: &str, lease: Duration, local: PathBuf) -> S3Backend {
    let settings = S3Settings {
        bucket: bucket.to_string(),
        prefix: "hub/dev/".into(),
        region: "us-east-1".into(),
        kms_key_id: None,
        lease,
        local_dir: local,
        emulator: true,
    };
    S3Backend::connect(settings, &sdk(access_key).await)
}

async fn backend_as(access_key: &str, bucket: &str, lease: Duration) -> S3Backend {
    let local = tempfile::tempdir().unwrap().keep();
    backend_in(access_key, bucket, lease, local).await
}

/// A backend on a new bucket, made by the backend's own bootstrap.
async fn fresh_with(lease: Duration) -> S3Backend {
    let b = backend_as("test", &unique_bucket(), lease).await;
    assert_eq!(b.ensure_bucket(true).await.unwrap(), BucketReport::Created);
    b
}

async fn s3_client() -> aws_sdk_s3::Client {
    let sdk = sdk("test").await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    )
}

/// An empty backend on a bucket of its own, for one conformance check.
async fn fresh() -> conformance::Fresh {
    let local = tempfile::tempdir().unwrap();
    let b = backend_in(
        "test",
        &unique_bucket(),
        Duration::from_secs(60),
        local.path().to_path_buf(),
    )
    .await;
    assert_eq!(b.ensure_bucket(true).await.unwrap(), BucketReport::Created);
    conformance::Fresh {
        backend: Arc::new(b),
        keep: Box::new(local),
    }
}

mod the_s3_backend_conforms {
    use super::fresh;
    deploy_state::conformance_tests!(fresh);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_bucket_is_versioned_encrypted_private_and_tls_only() {
    let b = fresh_with(Duration::from_secs(60)).await;
    let bucket = b.settings().bucket.clone();
    let c = s3_client().await;
    let v = c
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
    let e = c
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let rules = e.server_side_encryption_configuration().unwrap().rules();
    assert!(!rules.is_empty());
    let pab = c
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let policy = c.get_bucket_policy().bucket(&bucket).send().await.unwrap();
    assert!(policy.policy().unwrap().contains("aws:SecureTransport"));
    // Checked again: nothing to warn about, and nothing is made twice.
    let again = b.ensure_bucket(true).await.unwrap();
    assert_eq!(again, BucketReport::Exists { warnings: vec![] });
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_bucket_without_versioning_is_used_with_a_warning() {
    let bucket = unique_bucket();
    s3_client()
        .await
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let report = backend_as("test", &bucket, Duration::from_secs(60))
        .await
        .ensure_bucket(true)
        .await
        .unwrap();
    match report {
        BucketReport::Exists { warnings } => {
            assert!(
                warnings.iter().any(|w| w.contains("versioning is off")),
                "{warnings:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_accounts_bucket_is_refused_as_denied() {
    let bucket = unique_bucket();
    let mine = backend_as("111111111111", &bucket, Duration::from_secs(60)).await;
    assert_eq!(
        mine.ensure_bucket(true).await.unwrap(),
        BucketReport::Created
    );
    let theirs = backend_as("222222222222", &bucket, Duration::from_secs(60)).await;
    let err = theirs.ensure_bucket(true).await.unwrap_err();
    assert!(matches!(err, LedgerError::Denied { .. }), "{err:?}");
    assert!(err.to_string().contains("another account"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_holder_silent_for_longer_than_its_lease_is_taken_over() {
    let b = fresh_with(Duration::from_secs(2)).await;
    // What a run killed mid-deploy leaves: its lock object, with a heartbeat long past.
    let dead = LockHolder {
        pid: 4242,
        host: "runner-1".into(),
        heartbeat: Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60)),
        lease_seconds: Some(2),
        ..LockHolder::current("deploy all")
    };
    b.write(
        "deploy.lock",
        &serde_json::to_vec(&dead).unwrap(),
        Precondition::None,
    )
    .await
    .unwrap();
    let (guard, previous) = b
        .lock(&LockHolder::current("deploy all"), None)
        .await
        .unwrap();
    let previous = previous.expect("the dead holder is reported");
    assert_eq!((previous.pid, previous.host.as_str()), (4242, "runner-1"));
    guard.check().await.unwrap();
    guard.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_holder_keeps_its_lock_past_the_lease_by_its_heartbeat() {
    let bucket = unique_bucket();
    let first = backend_as("test", &bucket, Duration::from_secs(2)).await;
    first.ensure_bucket(true).await.unwrap();
    let (guard, _) = first
        .lock(&LockHolder::current("deploy all"), None)
        .await
        .unwrap();
    let second = backend_as("test", &bucket, Duration::from_secs(2)).await;
    // Well past one lease: only the heartbeat keeps the lock.
    let start = Instant::now();
    let mut every = tokio::time::interval(Duration::from_millis(500));
    while start.elapsed() < Duration::from_secs(5) {
        every.tick().await;
        match second
            .lock(&LockHolder::current("deploy destroy"), None)
            .await
        {
            Err(LedgerError::Locked {
                holder: Some(h), ..
            }) => assert_eq!(h.command, "deploy all"),
            other => panic!("a live holder's lock was taken: {other:?}"),
        }
    }
    guard.check().await.unwrap();
    guard.release().await.unwrap();
    let (again, previous) = second
        .lock(&LockHolder::current("deploy destroy"), None)
        .await
        .unwrap();
    assert!(previous.is_none(), "a released lock leaves no dead holder");
    again.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_deleted_behind_a_holders_back_is_detected_before_the_next_write() {
    let bucket = unique_bucket();
    let holder = backend_as("test", &bucket, Duration::from_secs(60)).await;
    holder.ensure_bucket(true).await.unwrap();
    let (guard, _) = holder
        .lock(&LockHolder::current("deploy all"), None)
        .await
        .unwrap();
    let other = backend_as("test", &bucket, Duration::from_secs(60)).await;
    let removed = other
        .force_unlock()
        .await
        .unwrap()
        .expect("it named the holder");
    assert_eq!(removed.command, "deploy all");
    let err = guard.check().await.unwrap_err();
    assert!(matches!(err, LedgerError::LockLost { .. }), "{err:?}");
    assert!(err.to_string().contains("deleted"), "{err}");
}

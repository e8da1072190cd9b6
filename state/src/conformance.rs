//! One behaviour for every backend: the checks the local backend passes in this crate's tests
//! and the S3 backend passes against an emulator (`tests/state_s3.rs`), as Terraform's
//! `statemgr.TestFull` does for its state managers.
//!
//! Each check gets a fresh, empty backend and panics with what differed.
//! [`conformance_tests!`](crate::conformance_tests) makes one test of each check for a backend,
//! so a failure names the check that broke and hides none of the others.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::{Full, Precondition, wait_for_releases};
use crate::deployment::DeploymentId;
use crate::error::LedgerError;
use crate::journal::Level;
use crate::ledger::{Ledger, OnCorrupt, STATE_FILE};
use crate::lock::LockHolder;
use crate::status::{Resource, ResourceKind, StepStatus};

/// A fresh, empty backend for one check, and what must outlive it (a temporary directory).
pub struct Fresh {
    pub backend: Arc<dyn Full>,
    pub keep: Box<dyn Any + Send>,
}

/// Expands into one `#[tokio::test]` per conformance check, each on the backend that
/// `$make().await` returns (a [`conformance::Fresh`](crate::conformance::Fresh)).
///
/// ```ignore
/// async fn fresh() -> deploy_state::conformance::Fresh { ... }
/// deploy_state::conformance_tests!(fresh);
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@each $make;
            objects_are_compare_and_swap,
            listing_is_sorted_and_scoped,
            audit_entries_keep_their_order,
            a_held_lock_names_its_holder,
            a_dropped_lock_is_released,
            ledger_transitions_survive_a_reopen,
            a_concurrent_write_is_never_overwritten,
            the_identity_and_account_are_enforced,
            a_corrupt_state_is_left_alone_until_set_aside,
            a_newer_schema_is_refused,
            logs_and_documents_are_kept,
        );
    };
    (@each $make:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let fresh = $make().await;
                $crate::conformance::$check(fresh.backend.clone()).await;
                drop(fresh);
            }
        )*
    };
}

pub fn id() -> DeploymentId {
    DeploymentId::new("hub", "dev", "us-east-1")
}

fn holder(cmd: &str) -> LockHolder {
    LockHolder::current(cmd)
}

async fn open(b: &Arc<dyn Full>) -> Ledger {
    Ledger::open_locked(
        b.clone(),
        &holder("deploy test"),
        None,
        &id(),
        OnCorrupt::Refuse,
    )
    .await
    .expect("open the ledger")
    .0
}

fn is_conflict<T: std::fmt::Debug>(r: &Result<T, LedgerError>) -> bool {
    matches!(r, Err(LedgerError::Conflict { .. }))
}

pub async fn objects_are_compare_and_swap(b: Arc<dyn Full>) {
    assert!(
        b.read("x.json").await.unwrap().is_none(),
        "a fresh backend is empty"
    );
    let v1 = b
        .write("x.json", b"one", Precondition::Absent)
        .await
        .unwrap();
    let again = b.write("x.json", b"two", Precondition::Absent).await;
    assert!(
        is_conflict(&again),
        "create-if-absent on an existing object must conflict: {again:?}"
    );
    let read = b.read("x.json").await.unwrap().unwrap();
    assert_eq!((read.bytes.as_slice(), &read.version), (&b"one"[..], &v1));
    let v2 = b
        .write("x.json", b"two", Precondition::Matches(v1.clone()))
        .await
        .unwrap();
    assert_ne!(v1, v2, "a new content has a new version");
    let stale = b.write("x.json", b"three", Precondition::Matches(v1)).await;
    assert!(
        is_conflict(&stale),
        "a write on a stale version must conflict: {stale:?}"
    );
    assert_eq!(b.read("x.json").await.unwrap().unwrap().bytes, b"two");
    b.delete("x.json").await.unwrap();
    b.delete("x.json").await.unwrap();
    assert!(b.read("x.json").await.unwrap().is_none());
    let gone = b.write("x.json", b"four", Precondition::Matches(v2)).await;
    assert!(is_conflict(&gone), "{gone:?}");
}

pub async fn listing_is_sorted_and_scoped(b: Arc<dyn Full>) {
    for name in ["logs/b.log", "logs/a.log", "other.json"] {
        b.write(name, b"x", Precondition::None).await.unwrap();
    }
    assert_eq!(b.list("logs/").await.unwrap(), ["logs/a.log", "logs/b.log"]);
}

pub async fn audit_entries_keep_their_order(b: Arc<dyn Full>) {
    assert!(b.audit_is_empty().await.unwrap());
    for i in 1..=12u64 {
        b.append_audit(i, format!("{{\"n\":{i}}}").as_bytes())
            .await
            .unwrap();
    }
    let got: Vec<String> = b
        .read_audit()
        .await
        .unwrap()
        .into_iter()
        .map(|l| String::from_utf8(l).unwrap())
        .collect();
    let want: Vec<String> = (1..=12).map(|i| format!("{{\"n\":{i}}}")).collect();
    assert_eq!(got, want);
    assert!(!b.audit_is_empty().await.unwrap());
}

pub async fn a_held_lock_names_its_holder(b: Arc<dyn Full>) {
    let first = holder("deploy all");
    let (guard, previous) = b.lock(&first, None).await.unwrap();
    assert!(previous.is_none(), "nobody held it before");
    guard.check().await.unwrap();
    assert_eq!(b.holder().await.unwrap().map(|h| h.pid), Some(first.pid));
    let started = Instant::now();
    let refused = b
        .lock(&holder("deploy destroy"), Some(Duration::from_millis(600)))
        .await;
    match refused {
        Err(LedgerError::Locked {
            holder: Some(h), ..
        }) => assert_eq!(h.command, "deploy all"),
        other => panic!("a second run must be refused naming the holder: {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(500), "it waited");
    guard.release().await.unwrap();
    assert!(b.holder().await.unwrap().is_none(), "released");
    let (again, previous) = b.lock(&holder("deploy destroy"), None).await.unwrap();
    assert!(previous.is_none(), "a clean release leaves no dead holder");
    again.release().await.unwrap();
}

pub async fn a_dropped_lock_is_released(b: Arc<dyn Full>) {
    let (guard, _) = b.lock(&holder("deploy all"), None).await.unwrap();
    // A run that stops early (an error) drops its lock instead of releasing it.
    drop(guard);
    assert!(wait_for_releases(Duration::from_secs(10)).await);
    assert!(b.holder().await.unwrap().is_none(), "released on drop");
    let (again, previous) = b.lock(&holder("deploy destroy"), None).await.unwrap();
    assert!(previous.is_none(), "a dropped lock leaves no dead holder");
    again.release().await.unwrap();
}

pub async fn ledger_transitions_survive_a_reopen(b: Arc<dyn Full>) {
    let mut l = open(&b).await;
    l.transition("iam", StepStatus::InProgress, |r| r.attempts = 1)
        .await
        .unwrap();
    l.transition("iam", StepStatus::Completed, |r| {
        r.outputs.insert("policy".into(), "p".into());
    })
    .await
    .unwrap();
    l.record_resource(Resource::new(
        ResourceKind::Queue,
        "dev-dlq",
        "infrastructure",
    ))
    .await
    .unwrap();
    l.close().await.unwrap();
    let r = Ledger::open_read(b.clone()).await.unwrap();
    assert_eq!(r.step("iam").status, StepStatus::Completed);
    assert_eq!(r.step("iam").outputs["policy"], "p");
    assert_eq!(r.state().inventory.len(), 1);
    assert_eq!(r.state().identity.as_ref(), Some(&id()));
    assert!(r.state().lineage.is_some());
    assert_eq!(r.state().serial, 3);
    assert!(!r.is_empty().await);
    assert_eq!(b.read_audit().await.unwrap().len(), 3);
    // Rebuilding from the audit log gives the same steps and inventory.
    let mut l = open(&b).await;
    l.rebuild_from_audit().await.unwrap();
    assert_eq!(l.step("iam").outputs["policy"], "p");
    assert_eq!(l.state().inventory.len(), 1);
    l.close().await.unwrap();
}

pub async fn a_concurrent_write_is_never_overwritten(b: Arc<dyn Full>) {
    let mut l = open(&b).await;
    l.transition("preflight", StepStatus::Completed, |_| {})
        .await
        .unwrap();
    // Someone writes the state behind this ledger's back (another writer that ignored the lock).
    let theirs = b"{\"schema_version\":1,\"steps\":{}}".to_vec();
    b.write(STATE_FILE, &theirs, Precondition::None)
        .await
        .unwrap();
    let lost = l.transition("iam", StepStatus::Completed, |_| {}).await;
    assert!(is_conflict(&lost), "the stale writer must lose: {lost:?}");
    assert_eq!(b.read(STATE_FILE).await.unwrap().unwrap().bytes, theirs);
    l.close().await.unwrap();
}

pub async fn the_identity_and_account_are_enforced(b: Arc<dyn Full>) {
    let mut l = open(&b).await;
    l.bind_account("111111111111").unwrap();
    // Recorded with the next write, not before: a command that writes nothing leaves nothing.
    assert!(b.read(STATE_FILE).await.unwrap().is_none());
    l.transition("preflight", StepStatus::Completed, |_| {})
        .await
        .unwrap();
    l.close().await.unwrap();
    let mut l = open(&b).await;
    let recorded = l.state().identity.as_ref().and_then(|i| i.account.clone());
    assert_eq!(recorded.as_deref(), Some("111111111111"));
    l.bind_account("111111111111").unwrap();
    match l.bind_account("222222222222") {
        Err(e @ LedgerError::AccountMismatch { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("111111111111") && msg.contains("222222222222"),
                "{msg}"
            );
        }
        other => panic!("another account must be refused: {other:?}"),
    }
    l.close().await.unwrap();
    let elsewhere = DeploymentId::new("hub", "prod", "us-east-1");
    let refused = Ledger::open_locked(
        b.clone(),
        &holder("deploy all"),
        None,
        &elsewhere,
        OnCorrupt::Refuse,
    )
    .await;
    assert!(
        matches!(refused, Err(LedgerError::IdentityMismatch { .. })),
        "another deployment's ledger must be refused: {refused:?}"
    );
    assert!(
        b.holder().await.unwrap().is_none(),
        "a refused run gives the lock up"
    );
}

pub async fn a_corrupt_state_is_left_alone_until_set_aside(b: Arc<dyn Full>) {
    let mut l = open(&b).await;
    l.transition("preflight", StepStatus::Completed, |r| r.attempts = 1)
        .await
        .unwrap();
    l.close().await.unwrap();
    b.write(STATE_FILE, b"{ not json", Precondition::None)
        .await
        .unwrap();
    let refused =
        Ledger::open_locked(b.clone(), &holder("x"), None, &id(), OnCorrupt::Refuse).await;
    let err = refused.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{msg}");
    assert!(msg.contains("deploy reset --rebuild"), "{msg}");
    assert_eq!(
        b.read(STATE_FILE).await.unwrap().unwrap().bytes,
        b"{ not json"
    );
    let (mut l, recovery) =
        Ledger::open_locked(b.clone(), &holder("x"), None, &id(), OnCorrupt::SetAside)
            .await
            .unwrap();
    let aside = recovery.set_aside.expect("the corrupt file is set aside");
    assert!(aside.contains("state.json.corrupt-"), "{aside}");
    l.rebuild_from_audit().await.unwrap();
    assert_eq!(l.step("preflight").status, StepStatus::Completed);
    assert_eq!(l.step("preflight").attempts, 1);
    l.close().await.unwrap();
}

pub async fn a_newer_schema_is_refused(b: Arc<dyn Full>) {
    let newer = b"{\"schema_version\": 99, \"steps\": {}}";
    b.write(STATE_FILE, newer, Precondition::None)
        .await
        .unwrap();
    let err = Ledger::open_read(b.clone()).await.unwrap_err();
    assert!(
        matches!(err, LedgerError::SchemaVersion { found: 99, .. }),
        "{err}"
    );
    assert_eq!(b.read(STATE_FILE).await.unwrap().unwrap().bytes, newer);
}

pub async fn logs_and_documents_are_kept(b: Arc<dyn Full>) {
    let mut l = open(&b).await;
    l.log(Level::Warn, Some("iam"), "careful").await;
    l.log(Level::Error, Some("iam"), "broken").await;
    let mut log = crate::journal::StepLog::create(b.local_dir(), "iam").unwrap();
    log.line(Level::Info, "hello from the step");
    log.flush();
    let rel = log
        .path()
        .strip_prefix(b.local_dir())
        .unwrap()
        .to_string_lossy()
        .to_string();
    l.publish_log(&rel).await.unwrap();
    l.transition("iam", StepStatus::Completed, |r| r.log = Some(rel.clone()))
        .await
        .unwrap();
    l.put_document("test-results.json", b"{\"ok\":true}")
        .await
        .unwrap();
    l.close().await.unwrap();
    let r = Ledger::open_read(b.clone()).await.unwrap();
    assert_eq!((r.warning_count(), r.error_count()), (1, 1));
    let (_, text) = r
        .step_log("iam")
        .await
        .unwrap()
        .expect("the step log is kept");
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("hello from the step"), "{text}");
    assert_eq!(
        r.document("test-results.json").await.unwrap().unwrap(),
        b"{\"ok\":true}"
    );
}

//! One behaviour for every backend: the checks the local backend passes in this crate's tests
//! and the S3 backend passes against an emulator (`tests/state_s3.rs`), as Terraform's
//! `statemgr.TestFull` does for its state managers.
//!
//! Each check gets a fresh, empty backend from `make` and panics with what differed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::{Backend, Precondition};
use crate::deployment::DeploymentId;
use crate::error::LedgerError;
use crate::journal::Level;
use crate::ledger::{Ledger, OnCorrupt, STATE_FILE};
use crate::lock::LockHolder;
use crate::status::{Resource, StepStatus};

pub type Factory<'a> = &'a dyn Fn() -> Arc<dyn Backend>;

/// Runs every check.
pub fn run_all(make: Factory<'_>) {
    objects_are_compare_and_swap(make());
    listing_is_sorted_and_scoped(make());
    audit_entries_keep_their_order(make());
    a_held_lock_names_its_holder(make());
    ledger_transitions_survive_a_reopen(make());
    a_concurrent_write_is_never_overwritten(make());
    the_identity_and_account_are_enforced(make());
    a_corrupt_state_is_left_alone_until_set_aside(make());
    a_newer_schema_is_refused(make());
    logs_and_documents_are_kept(make());
}

pub fn id() -> DeploymentId {
    DeploymentId::new("hub", "dev", "us-east-1")
}

fn holder(cmd: &str) -> LockHolder {
    LockHolder::current(cmd)
}

fn open(b: &Arc<dyn Backend>) -> Ledger {
    Ledger::open_locked(
        b.clone(),
        &holder("deploy test"),
        None,
        &id(),
        OnCorrupt::Refuse,
    )
    .expect("open the ledger")
    .0
}

pub fn objects_are_compare_and_swap(b: Arc<dyn Backend>) {
    assert!(
        b.read("x.json").unwrap().is_none(),
        "a fresh backend is empty"
    );
    let v1 = b.write("x.json", b"one", Precondition::Absent).unwrap();
    let again = b.write("x.json", b"two", Precondition::Absent);
    assert!(
        matches!(again, Err(LedgerError::Conflict { .. })),
        "create-if-absent on an existing object must conflict: {again:?}"
    );
    let read = b.read("x.json").unwrap().unwrap();
    assert_eq!((read.bytes.as_slice(), &read.version), (&b"one"[..], &v1));
    let v2 = b
        .write("x.json", b"two", Precondition::Matches(v1.clone()))
        .unwrap();
    assert_ne!(v1, v2, "a new content has a new version");
    let stale = b.write("x.json", b"three", Precondition::Matches(v1));
    assert!(
        matches!(stale, Err(LedgerError::Conflict { .. })),
        "a write on a stale version must conflict: {stale:?}"
    );
    assert_eq!(b.read("x.json").unwrap().unwrap().bytes, b"two");
    b.delete("x.json").unwrap();
    b.delete("x.json").unwrap();
    assert!(b.read("x.json").unwrap().is_none());
    let gone = b.write("x.json", b"four", Precondition::Matches(v2));
    assert!(
        matches!(gone, Err(LedgerError::Conflict { .. })),
        "{gone:?}"
    );
}

pub fn listing_is_sorted_and_scoped(b: Arc<dyn Backend>) {
    for name in ["logs/b.log", "logs/a.log", "other.json"] {
        b.write(name, b"x", Precondition::None).unwrap();
    }
    assert_eq!(b.list("logs/").unwrap(), ["logs/a.log", "logs/b.log"]);
}

pub fn audit_entries_keep_their_order(b: Arc<dyn Backend>) {
    for i in 1..=12u64 {
        b.append_audit(i, format!("{{\"n\":{i}}}").as_bytes())
            .unwrap();
    }
    let got: Vec<String> = b
        .read_audit()
        .unwrap()
        .into_iter()
        .map(|l| String::from_utf8(l).unwrap())
        .collect();
    let want: Vec<String> = (1..=12).map(|i| format!("{{\"n\":{i}}}")).collect();
    assert_eq!(got, want);
}

pub fn a_held_lock_names_its_holder(b: Arc<dyn Backend>) {
    let first = holder("deploy all");
    let (guard, previous) = b.lock(&first, None).unwrap();
    assert!(previous.is_none(), "nobody held it before");
    guard.check().unwrap();
    assert_eq!(b.holder().unwrap().map(|h| h.pid), Some(first.pid));
    let started = Instant::now();
    let refused = b.lock(&holder("deploy destroy"), Some(Duration::from_millis(600)));
    match refused {
        Err(LedgerError::Locked {
            holder: Some(h), ..
        }) => assert_eq!(h.command, "deploy all"),
        other => panic!("a second run must be refused naming the holder: {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(500), "it waited");
    drop(guard);
    assert!(b.holder().unwrap().is_none(), "released on drop");
    let (again, previous) = b.lock(&holder("deploy destroy"), None).unwrap();
    assert!(previous.is_none(), "a clean release leaves no dead holder");
    drop(again);
}

pub fn ledger_transitions_survive_a_reopen(b: Arc<dyn Backend>) {
    let mut l = open(&b);
    l.transition("iam", StepStatus::InProgress, |r| r.attempts = 1)
        .unwrap();
    l.transition("iam", StepStatus::Completed, |r| {
        r.outputs.insert("policy".into(), "p".into());
    })
    .unwrap();
    l.record_resource(Resource::new("queue", "dev-dlq", "infrastructure"))
        .unwrap();
    drop(l);
    let r = Ledger::open_read(b.clone()).unwrap();
    assert_eq!(r.step("iam").status, StepStatus::Completed);
    assert_eq!(r.step("iam").outputs["policy"], "p");
    assert_eq!(r.state().inventory.len(), 1);
    assert_eq!(r.state().identity.as_ref(), Some(&id()));
    assert!(r.state().lineage.is_some());
    assert_eq!(r.state().serial, 3);
    assert!(!r.is_empty());
    assert_eq!(b.read_audit().unwrap().len(), 3);
    // Rebuilding from the audit log gives the same steps and inventory.
    let mut l = open(&b);
    l.rebuild_from_audit().unwrap();
    assert_eq!(l.step("iam").outputs["policy"], "p");
    assert_eq!(l.state().inventory.len(), 1);
}

pub fn a_concurrent_write_is_never_overwritten(b: Arc<dyn Backend>) {
    let mut l = open(&b);
    l.transition("preflight", StepStatus::Completed, |_| {})
        .unwrap();
    // Someone writes the state behind this ledger's back (another writer that ignored the lock).
    let theirs = b"{\"schema_version\":1,\"steps\":{}}".to_vec();
    b.write(STATE_FILE, &theirs, Precondition::None).unwrap();
    let lost = l.transition("iam", StepStatus::Completed, |_| {});
    assert!(
        matches!(lost, Err(LedgerError::Conflict { .. })),
        "the stale writer must lose: {lost:?}"
    );
    assert_eq!(b.read(STATE_FILE).unwrap().unwrap().bytes, theirs);
}

pub fn the_identity_and_account_are_enforced(b: Arc<dyn Backend>) {
    let mut l = open(&b);
    l.bind_account("111111111111").unwrap();
    // Recorded with the next write, not before: a command that writes nothing leaves nothing.
    assert!(b.read(STATE_FILE).unwrap().is_none());
    l.transition("preflight", StepStatus::Completed, |_| {})
        .unwrap();
    drop(l);
    let mut l = open(&b);
    assert_eq!(
        l.state()
            .identity
            .as_ref()
            .and_then(|i| i.account.as_deref()),
        Some("111111111111")
    );
    l.bind_account("111111111111").unwrap();
    let other = l.bind_account("222222222222");
    match other {
        Err(e @ LedgerError::AccountMismatch { .. }) => {
            let msg = e.to_string();
            assert!(
                msg.contains("111111111111") && msg.contains("222222222222"),
                "{msg}"
            );
        }
        other => panic!("another account must be refused: {other:?}"),
    }
    drop(l);
    let elsewhere = DeploymentId::new("hub", "prod", "us-east-1");
    let refused = Ledger::open_locked(
        b.clone(),
        &holder("deploy all"),
        None,
        &elsewhere,
        OnCorrupt::Refuse,
    );
    assert!(
        matches!(refused, Err(LedgerError::IdentityMismatch { .. })),
        "another deployment's ledger must be refused: {refused:?}"
    );
}

pub fn a_corrupt_state_is_left_alone_until_set_aside(b: Arc<dyn Backend>) {
    let mut l = open(&b);
    l.transition("preflight", StepStatus::Completed, |r| r.attempts = 1)
        .unwrap();
    drop(l);
    b.write(STATE_FILE, b"{ not json", Precondition::None)
        .unwrap();
    let err =
        Ledger::open_locked(b.clone(), &holder("x"), None, &id(), OnCorrupt::Refuse).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{msg}");
    assert!(msg.contains("deploy reset --rebuild"), "{msg}");
    assert_eq!(b.read(STATE_FILE).unwrap().unwrap().bytes, b"{ not json");
    let (mut l, recovery) =
        Ledger::open_locked(b.clone(), &holder("x"), None, &id(), OnCorrupt::SetAside).unwrap();
    let aside = recovery.set_aside.expect("the corrupt file is set aside");
    assert!(aside.contains("state.json.corrupt-"), "{aside}");
    l.rebuild_from_audit().unwrap();
    assert_eq!(l.step("preflight").status, StepStatus::Completed);
    assert_eq!(l.step("preflight").attempts, 1);
}

pub fn a_newer_schema_is_refused(b: Arc<dyn Backend>) {
    let newer = b"{\"schema_version\": 99, \"steps\": {}}";
    b.write(STATE_FILE, newer, Precondition::None).unwrap();
    let err = Ledger::open_read(b.clone()).unwrap_err();
    assert!(
        matches!(err, LedgerError::SchemaVersion { found: 99, .. }),
        "{err}"
    );
    assert_eq!(b.read(STATE_FILE).unwrap().unwrap().bytes, newer);
}

pub fn logs_and_documents_are_kept(b: Arc<dyn Backend>) {
    let mut l = open(&b);
    l.log(Level::Warn, Some("iam"), "careful");
    l.log(Level::Error, Some("iam"), "broken");
    let mut log = crate::journal::StepLog::create(b.local_dir(), "iam").unwrap();
    log.line(Level::Info, "hello from the step");
    log.flush();
    let rel = log
        .path()
        .strip_prefix(b.local_dir())
        .unwrap()
        .to_string_lossy()
        .to_string();
    l.publish_log(&rel).unwrap();
    l.transition("iam", StepStatus::Completed, |r| r.log = Some(rel.clone()))
        .unwrap();
    l.put_document("test-results.json", b"{\"ok\":true}")
        .unwrap();
    drop(l);
    let r = Ledger::open_read(b.clone()).unwrap();
    assert_eq!((r.warning_count(), r.error_count()), (1, 1));
    let (_, text) = r.step_log("iam").unwrap().expect("the step log is kept");
    assert!(
        String::from_utf8(text)
            .unwrap()
            .contains("hello from the step")
    );
    assert_eq!(
        r.document("test-results.json").unwrap().unwrap(),
        b"{\"ok\":true}"
    );
}

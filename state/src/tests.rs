use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

fn holder(cmd: &str) -> LockHolder {
    LockHolder::current(cmd)
}

fn locked(dir: &Path) -> Ledger {
    Ledger::open_locked(dir, &holder("deploy test"), None)
        .unwrap()
        .0
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// A pid that certainly belongs to no running process: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    assert!(!pid_alive(pid));
    pid
}

#[test]
fn transitions_are_saved_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path());
    l.transition("iam", StepStatus::InProgress, |r| r.attempts = 1)
        .unwrap();
    l.transition("iam", StepStatus::Completed, |r| {
        r.outputs.insert("policy".into(), "p".into());
    })
    .unwrap();
    drop(l);
    let state = load(dir.path()).unwrap();
    assert_eq!(state.step("iam").status, StepStatus::Completed);
    assert_eq!(state.step("iam").outputs["policy"], "p");
    let (entries, skipped) = audit::read(&dir.path().join(AUDIT_FILE)).unwrap();
    assert_eq!((entries.len(), skipped), (2, 0));
}

#[test]
fn crash_between_write_and_rename_leaves_the_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path());
    l.transition("preflight", StepStatus::Completed, |_| {})
        .unwrap();
    drop(l);
    // The first half of an atomic write of a newer state, then the process dies.
    let target = dir.path().join(STATE_FILE);
    let tmp = fsutil::temp_path(&target);
    fsutil::write_temp(
        &tmp,
        b"{\"schema_version\": 1, \"steps\": {\"preflight\": {\"status\"",
    )
    .unwrap();
    let state = load(dir.path()).unwrap();
    assert_eq!(state.step("preflight").status, StepStatus::Completed);
    // The next run cleans up the orphan and writes normally.
    let mut l = locked(dir.path());
    assert!(!tmp.exists());
    l.transition("iam", StepStatus::Completed, |_| {}).unwrap();
    assert_eq!(
        load(dir.path()).unwrap().step("iam").status,
        StepStatus::Completed
    );
}

#[test]
fn torn_last_audit_line_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path());
    l.transition("preflight", StepStatus::Completed, |_| {})
        .unwrap();
    drop(l);
    let audit_path = dir.path().join(AUDIT_FILE);
    let mut f = fsutil::append(&audit_path).unwrap();
    std::io::Write::write_all(
        &mut f,
        b"{\"at\":\"2026-11-23T00:00:00Z\",\"pid\":1,\"event\":\"tran",
    )
    .unwrap();
    let (entries, skipped) = audit::read(&audit_path).unwrap();
    assert_eq!((entries.len(), skipped), (1, 1));
}

#[test]
fn corrupt_state_is_reported_with_recovery_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path());
    l.transition("preflight", StepStatus::Completed, |r| r.attempts = 1)
        .unwrap();
    drop(l);
    let path = dir.path().join(STATE_FILE);
    std::fs::write(&path, b"{ not json").unwrap();
    let err = Ledger::open_locked(dir.path(), &holder("deploy all"), None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, LedgerError::Corrupt { .. }));
    assert!(msg.contains("state.json is corrupt"), "{msg}");
    assert!(msg.contains("deploy reset --rebuild"), "{msg}");
    assert!(msg.contains("checkpoints.log"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), b"{ not json");

    // Rebuild from the audit log restores the step.
    std::fs::remove_file(&path).unwrap();
    let mut l = locked(dir.path());
    assert_eq!(l.rebuild_from_audit().unwrap(), 0);
    assert_eq!(l.step("preflight").status, StepStatus::Completed);
    assert_eq!(l.step("preflight").attempts, 1);
}

#[test]
fn newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(STATE_FILE), b"{\"schema_version\": 99}").unwrap();
    let err = load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[test]
fn files_are_private() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join(".deployment-state");
    let mut l = locked(&dir);
    l.transition("preflight", StepStatus::Completed, |_| {})
        .unwrap();
    l.log(Level::Error, Some("preflight"), "boom");
    l.log(Level::Warn, None, "careful");
    let mut log = StepLog::create(&dir, "preflight").unwrap();
    log.line(Level::Info, "hello");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("logs")), 0o700);
    for f in [
        STATE_FILE,
        AUDIT_FILE,
        LOCK_FILE,
        "deployment.log",
        "errors.log",
        "warnings.log",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    assert_eq!(mode(log.path()), 0o600);
    assert_eq!(l.error_count(), 1);
    assert_eq!(l.warning_count(), 1);
}

#[test]
fn second_holder_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Ledger::open_locked(dir.path(), &holder("deploy all"), None).unwrap();
    let err = Ledger::open_locked(dir.path(), &holder("deploy run iam"), None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "deployment is locked by pid {} (deploy all) since ",
            std::process::id()
        )),
        "{msg}"
    );
}

#[test]
fn waiting_for_the_lock_gives_up_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Ledger::open_locked(dir.path(), &holder("deploy all"), None).unwrap();
    let start = Instant::now();
    let err = Ledger::open_locked(
        dir.path(),
        &holder("deploy all"),
        Some(Duration::from_millis(300)),
    )
    .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(err.to_string().contains("--wait-lock"), "{err}");
}

#[test]
fn waiting_for_the_lock_gets_it_when_released() {
    let dir = tempfile::tempdir().unwrap();
    let first = Ledger::open_locked(dir.path(), &holder("deploy all"), None).unwrap();
    let path = dir.path().to_path_buf();
    let waiter = std::thread::spawn(move || {
        Ledger::open_locked(&path, &holder("deploy all"), Some(Duration::from_secs(10))).map(|_| ())
    });
    drop(first);
    waiter.join().unwrap().unwrap();
}

#[test]
fn dead_holder_is_taken_over_and_its_step_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = Ledger::open_locked(dir.path(), &holder("deploy all"), None).unwrap();
    l.transition("infrastructure", StepStatus::InProgress, |r| r.attempts = 1)
        .unwrap();
    // The process dies: the kernel drops its flock, but the holder record stays behind.
    std::mem::forget(l);
    let dead = LockHolder {
        pid: dead_pid(),
        ..holder("deploy all")
    };
    // Simulate the kernel releasing a dead process's lock by using a fresh file description.
    let lock_path = dir.path().join(LOCK_FILE);
    std::fs::remove_file(&lock_path).unwrap();
    std::fs::write(&lock_path, serde_json::to_vec(&dead).unwrap()).unwrap();

    let (l, recovery) = Ledger::open_locked(dir.path(), &holder("deploy all"), None).unwrap();
    assert_eq!(
        recovery.previous_holder.as_ref().map(|h| h.pid),
        Some(dead.pid)
    );
    assert_eq!(recovery.interrupted, ["infrastructure"]);
    let rec = l.step("infrastructure");
    assert_eq!(rec.status, StepStatus::Interrupted);
    assert!(
        rec.last_error
            .unwrap()
            .contains(&format!("pid {}", dead.pid))
    );
}

#[test]
fn clean_release_leaves_no_holder() {
    let dir = tempfile::tempdir().unwrap();
    drop(locked(dir.path()));
    let (_, recovery) = Ledger::open_locked(dir.path(), &holder("deploy all"), None).unwrap();
    assert!(recovery.previous_holder.is_none());
}

#[test]
fn inventory_and_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path());
    l.record_resource(Resource::new("rule", "dev-a", "infrastructure").with_arn("arn:x"))
        .unwrap();
    l.record_resource(Resource::new("rule", "dev-a", "infrastructure").with_arn("arn:y"))
        .unwrap();
    assert_eq!(l.state().inventory.len(), 1);
    assert_eq!(l.state().inventory[0].arn.as_deref(), Some("arn:y"));
    l.forget_resource("rule", "dev-a").unwrap();
    assert!(l.state().inventory.is_empty());
    l.record_resource(Resource::new("queue", "q", "infrastructure"))
        .unwrap();
    l.transition("infrastructure", StepStatus::Completed, |_| {})
        .unwrap();
    l.mark_destroyed().unwrap();
    assert!(l.state().destroyed_at.is_some());
    assert!(l.state().steps.is_empty() && l.state().inventory.is_empty());
    let rebuilt = audit::replay(&audit::read(&dir.path().join(AUDIT_FILE)).unwrap().0);
    assert!(rebuilt.inventory.is_empty() && rebuilt.destroyed_at.is_some());
}

#[test]
fn pid_liveness() {
    assert!(pid_alive(std::process::id()));
    assert!(!pid_alive(dead_pid()));
}

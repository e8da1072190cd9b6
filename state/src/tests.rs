use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::backend::local::{LOCK_FILE, LocalBackend};

fn holder(cmd: &str) -> LockHolder {
    LockHolder::current(cmd)
}

fn backend(dir: &Path) -> Arc<dyn Full> {
    Arc::new(LocalBackend::new(dir))
}

fn id() -> DeploymentId {
    conformance::id()
}

async fn open(
    dir: &Path,
    cmd: &str,
    wait: Option<Duration>,
) -> Result<(Ledger, Recovery), LedgerError> {
    Ledger::open_locked(backend(dir), &holder(cmd), wait, &id(), OnCorrupt::Refuse).await
}

async fn locked(dir: &Path) -> Ledger {
    open(dir, "deploy test", None).await.unwrap().0
}

async fn load_dir(dir: &Path) -> Result<LedgerState, LedgerError> {
    load(backend(dir).as_ref()).await.map(|(s, _)| s)
}

async fn audit_entries(dir: &Path) -> (Vec<audit::AuditEntry>, usize) {
    audit::parse(&backend(dir).read_audit().await.unwrap())
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

/// A fresh local backend in a directory of its own, removed after the check.
async fn fresh() -> conformance::Fresh {
    let dir = tempfile::tempdir().unwrap();
    conformance::Fresh {
        backend: backend(dir.path()),
        keep: Box::new(dir),
    }
}

mod the_local_backend_conforms {
    use super::fresh;
    crate::conformance_tests!(fresh);
}

#[tokio::test]
async fn transitions_are_saved_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path()).await;
    l.transition("iam", StepStatus::InProgress, |r| r.attempts = 1)
        .await
        .unwrap();
    l.transition("iam", StepStatus::Completed, |r| {
        r.outputs.insert("policy".into(), "p".into());
    })
    .await
    .unwrap();
    drop(l);
    let state = load_dir(dir.path()).await.unwrap();
    assert_eq!(state.step("iam").status, StepStatus::Completed);
    assert_eq!(state.step("iam").outputs["policy"], "p");
    let (entries, skipped) = audit_entries(dir.path()).await;
    assert_eq!((entries.len(), skipped), (2, 0));
}

#[tokio::test]
async fn crash_between_write_and_rename_leaves_the_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path()).await;
    l.transition("preflight", StepStatus::Completed, |_| {})
        .await
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
    let state = load_dir(dir.path()).await.unwrap();
    assert_eq!(state.step("preflight").status, StepStatus::Completed);
    // The next run cleans up the orphan and writes normally.
    let mut l = locked(dir.path()).await;
    assert!(!tmp.exists());
    l.transition("iam", StepStatus::Completed, |_| {})
        .await
        .unwrap();
    assert_eq!(
        load_dir(dir.path()).await.unwrap().step("iam").status,
        StepStatus::Completed
    );
}

#[tokio::test]
async fn torn_last_audit_line_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path()).await;
    l.transition("preflight", StepStatus::Completed, |_| {})
        .await
        .unwrap();
    drop(l);
    let audit_path = dir.path().join(AUDIT_FILE);
    let mut f = fsutil::append(&audit_path).unwrap();
    std::io::Write::write_all(
        &mut f,
        b"{\"at\":\"2026-11-23T00:00:00Z\",\"pid\":1,\"event\":\"tran",
    )
    .unwrap();
    let (entries, skipped) = audit_entries(dir.path()).await;
    assert_eq!((entries.len(), skipped), (1, 1));
}

#[tokio::test]
async fn corrupt_state_names_the_file_and_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    drop(locked(dir.path()).await);
    std::fs::write(dir.path().join(STATE_FILE), b"{ not json").unwrap();
    let msg = open(dir.path(), "deploy all", None)
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("state.json is corrupt"), "{msg}");
    assert!(msg.contains("checkpoints.log"), "{msg}");
}

#[tokio::test]
async fn files_are_private() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join(".deployment-state");
    let mut l = locked(&dir).await;
    l.transition("preflight", StepStatus::Completed, |_| {})
        .await
        .unwrap();
    l.log(Level::Error, Some("preflight"), "boom").await;
    l.log(Level::Warn, None, "careful").await;
    l.transition("iam", StepStatus::Completed, |_| {})
        .await
        .unwrap();
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

#[tokio::test]
async fn second_holder_is_refused_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), "deploy all", None).await.unwrap();
    let err = open(dir.path(), "deploy run iam", None).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "deployment is locked by pid {} (deploy all) since ",
            std::process::id()
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn waiting_for_the_lock_gives_up_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), "deploy all", None).await.unwrap();
    let start = Instant::now();
    let err = open(dir.path(), "deploy all", Some(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert!(err.to_string().contains("--wait-lock"), "{err}");
}

#[tokio::test]
async fn waiting_for_the_lock_gets_it_when_released() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path(), "deploy all", None).await.unwrap();
    let path = dir.path().to_path_buf();
    let waiter = tokio::spawn(async move {
        open(&path, "deploy all", Some(Duration::from_secs(10)))
            .await
            .map(|_| ())
    });
    drop(first);
    waiter.await.unwrap().unwrap();
}

#[tokio::test]
async fn dead_holder_is_taken_over_and_its_step_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = open(dir.path(), "deploy all", None).await.unwrap();
    l.transition("infrastructure", StepStatus::InProgress, |r| r.attempts = 1)
        .await
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

    let (l, recovery) = open(dir.path(), "deploy all", None).await.unwrap();
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

#[tokio::test]
async fn clean_release_leaves_no_holder() {
    let dir = tempfile::tempdir().unwrap();
    drop(locked(dir.path()).await);
    let (_, recovery) = open(dir.path(), "deploy all", None).await.unwrap();
    assert!(recovery.previous_holder.is_none());
}

#[tokio::test]
async fn inventory_and_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path()).await;
    l.record_resource(
        Resource::new(ResourceKind::Rule, "dev-a", "infrastructure").with_arn("arn:x"),
    )
    .await
    .unwrap();
    l.record_resource(
        Resource::new(ResourceKind::Rule, "dev-a", "infrastructure").with_arn("arn:y"),
    )
    .await
    .unwrap();
    assert_eq!(l.state().inventory.len(), 1);
    assert_eq!(l.state().inventory[0].arn.as_deref(), Some("arn:y"));
    l.forget_resource(ResourceKind::Rule, "dev-a")
        .await
        .unwrap();
    assert!(l.state().inventory.is_empty());
    l.record_resource(Resource::new(ResourceKind::Queue, "q", "infrastructure"))
        .await
        .unwrap();
    l.transition("infrastructure", StepStatus::Completed, |_| {})
        .await
        .unwrap();
    l.mark_destroyed().await.unwrap();
    assert!(l.state().destroyed_at.is_some());
    assert!(l.state().steps.is_empty() && l.state().inventory.is_empty());
    let rebuilt = audit::replay(&audit_entries(dir.path()).await.0);
    assert!(rebuilt.inventory.is_empty() && rebuilt.destroyed_at.is_some());
}

#[tokio::test]
async fn many_resources_are_recorded_and_forgotten_with_one_write_each_and_audited_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = locked(dir.path()).await;
    let target = |rule: &str| {
        Resource::new(ResourceKind::Target, "inbox", "infrastructure").with(|a| {
            a.rule = Some(rule.to_string());
        })
    };
    let queues: Vec<Resource> = (0..100)
        .map(|i| {
            Resource::new(
                ResourceKind::ConsumerQueue,
                &format!("q{i}"),
                "infrastructure",
            )
        })
        .collect();
    let serial = l.state().serial;
    let mut all = queues.clone();
    all.extend([target("r1"), target("r2")]);
    l.record_resources(all).await.unwrap();
    assert_eq!(l.state().serial, serial + 1, "one write of the state");
    assert_eq!(l.state().inventory.len(), 102);
    let mut gone = queues[..60].to_vec();
    gone.push(target("r1"));
    gone.push(Resource::new(
        ResourceKind::Rule,
        "never-recorded",
        "infrastructure",
    ));
    l.forget_all(&gone).await.unwrap();
    assert_eq!(l.state().serial, serial + 2);
    assert_eq!(l.state().inventory.len(), 41, "the target on r2 stays");
    assert!(
        l.state()
            .inventory
            .iter()
            .any(|r| r.attributes.rule.as_deref() == Some("r2"))
    );
    l.forget_all(&gone).await.unwrap();
    assert_eq!(
        l.state().serial,
        serial + 2,
        "nothing to forget: nothing written"
    );
    l.record_resources(Vec::new()).await.unwrap();
    assert_eq!(l.state().serial, serial + 2);
    let (entries, _) = audit_entries(dir.path()).await;
    assert_eq!(entries.len(), 102 + 61, "an audit entry per resource");
    let rebuilt = audit::replay(&entries);
    assert_eq!(rebuilt.inventory.len(), 41);
}

#[test]
fn pid_liveness() {
    assert!(pid_alive(std::process::id()));
    assert!(!pid_alive(dead_pid()));
}

#[tokio::test]
async fn a_flat_ledger_of_the_earlier_release_moves_into_its_deployment_directory() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // What the earlier release left: a ledger directly in the root, with Terraform's files.
    std::fs::write(
        root.join(STATE_FILE),
        br#"{"schema_version":1,"steps":{"preflight":{"status":"completed","attempts":1}},
            "emulator":{"kind":"ministack","endpoint":"http://127.0.0.1:4566","pid":1,"port":4566,
            "started_at":"2026-11-01T00:00:00Z","started_by_deploy":true}}"#,
    )
    .unwrap();
    std::fs::write(root.join(AUDIT_FILE), b"{}\n").unwrap();
    std::fs::create_dir_all(root.join("terraform")).unwrap();
    std::fs::write(
        root.join("terraform/terraform.tfvars.json"),
        br#"{"project_name":"hub","environment":"dev","region":"us-east-1"}"#,
    )
    .unwrap();
    std::fs::write(
        root.join("terraform/terraform.tfstate"),
        b"{\"resources\":[1]}",
    )
    .unwrap();
    let legacy = find_legacy(root).expect("found");
    assert_eq!(legacy.identity, Some(id()));
    let target = root.join(id().slug());
    let moved = migrate_legacy(&legacy, &target).unwrap();
    assert!(moved.contains(&"terraform".to_string()), "{moved:?}");
    assert!(find_legacy(root).is_none());
    assert!(target.join("terraform/terraform.tfstate").is_file());
    assert_eq!(
        emulator_record::load(root).map(|e| e.port),
        Some(4566),
        "the emulator record is per machine: it stays in the root"
    );
    let l = locked(&target).await;
    assert_eq!(l.step("preflight").status, StepStatus::Completed);
    assert_eq!(l.terraform_resource_count().await.unwrap(), 1);
    assert_eq!(backend::local::deployment_dirs(root), [target]);
}

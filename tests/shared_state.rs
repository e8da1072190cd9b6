//! One deployment, one state, wherever the run happens: CI runners that each start from a fresh
//! checkout share the deployment's state through S3 (ministack) and real terraform.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use deploy_state::LockHolder;
use deploy_state::backend::s3::{S3Backend, S3Settings};
use deploy_state::backend::{AuditLog, Locker, Objects};
use predicates::prelude::*;
use support::aws::{fingerprint, leftovers};
use support::gate::{Gate, signal, spawn};
use support::{Kind, TestContext};

const TIMEOUT: Duration = Duration::from_secs(400);

fn bucket_for(ctx: &TestContext) -> String {
    format!("{}-state", ctx.environment)
}

/// `[state]` in S3, with a short lease so a dead holder is taken over quickly.
fn s3_config(bucket: &str) -> String {
    format!("[state]\nbucket = \"{bucket}\"\nlock_lease_seconds = 3\n")
}

/// The test's own view of the state bucket (to hold the lock, and to read the audit trail).
async fn backend(ctx: &TestContext, bucket: &str) -> Arc<S3Backend> {
    let endpoint = ctx.endpoint.clone().unwrap();
    let settings = S3Settings {
        bucket: bucket.to_string(),
        prefix: format!("hub/{}/", ctx.environment),
        region: "us-east-1".into(),
        kms_key_id: None,
        lease: Duration::from_secs(60),
        local_dir: tempfile::tempdir().unwrap().keep(),
        emulator: true,
    };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    Arc::new(S3Backend::connect(settings, &sdk))
}

async fn audit_text(b: &S3Backend) -> String {
    b.read_audit()
        .await
        .unwrap()
        .into_iter()
        .map(|l| String::from_utf8(l).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn ci_runners_with_fresh_checkouts_share_one_deployment_through_s3() {
    let template = TestContext::with(Kind::Ministack);
    let bucket = bucket_for(&template);
    let template = template.config(&s3_config(&bucket));

    // Runner 1 is killed (SIGKILL) while it holds the lock, inside its first step.
    let gate = Gate::new();
    let runner1 = gate.apply(template.fresh_copy(), support::gate::At::Invocation(1));
    let mut first = spawn(&runner1, &["all", "--auto-approve"]);
    gate.wait_closed(Duration::from_secs(60));
    signal(&first, rustix::process::Signal::KILL);
    first.wait().unwrap();
    gate.open();
    let state = backend(&template, &bucket).await;
    let holder = state
        .holder()
        .await
        .unwrap()
        .expect("the dead runner's lock is left behind");
    assert_eq!(holder.pid, first.id());

    // Runner 2, a fresh checkout, takes over once the lease has run out, and converges.
    let runner2 = template.fresh_copy();
    let out = runner2
        .deploy()
        .args(["all", "--auto-approve", "--wait-lock", "60s"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("pid {}", first.id())), "{err}");
    assert!(err.contains("taking over"), "{err}");
    let audit = audit_text(&state).await;
    assert!(audit.contains("\"event\":\"lock-taken-over\""), "{audit}");
    assert!(audit.contains("\"to\":\"interrupted\""), "{audit}");
    assert!(
        !runner2.state_dir().join("state.json").exists(),
        "nothing local"
    );
    let deployed = fingerprint(&runner2).await;

    // Runner 3, fresh: while another run holds the lock it is refused at once, naming it.
    let runner3 = template.fresh_copy();
    let held = state
        .lock(&LockHolder::current("deploy all (runner 9)"), None)
        .await
        .unwrap();
    let start = Instant::now();
    runner3
        .deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("(deploy all (runner 9))"));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // With --wait-lock it waits, then finds nothing to do: same resources, none replaced.
    let mut waiting = spawn(&runner3, &["all", "--auto-approve", "--wait-lock", "60s"]);
    held.0.release().await.unwrap();
    let waited = waiting.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(waiting.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(waited.success(), "{err}");
    assert!(err.contains("nothing to do"), "{err}");
    assert_eq!(fingerprint(&runner3).await, deployed);

    // Runner 4, fresh: destroys it all; the bucket and the audit trail stay.
    let runner4 = template.fresh_copy();
    runner4
        .deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(leftovers(&runner4).await, Vec::<String>::new());
    let audit = audit_text(&state).await;
    assert!(audit.contains("\"event\":\"destroyed\""), "{audit}");

    // Runner 5, fresh: the state says it was destroyed, when and by which command.
    let runner5 = template.fresh_copy();
    runner5
        .deploy()
        .args(["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("destroyed at"))
        .stdout(predicate::str::contains("by deploy destroy on"));
}

#[test]
fn a_lock_deleted_behind_a_running_deploy_stops_it_at_its_next_write() {
    let template = TestContext::with(Kind::Ministack);
    let bucket = bucket_for(&template);
    let gate = Gate::new();
    let ctx = gate.apply(
        template.config(&s3_config(&bucket)),
        support::gate::At::Invocation(1),
    );
    let mut run = spawn(&ctx, &["all", "--auto-approve"]);
    gate.wait_closed(Duration::from_secs(60));
    ctx.deploy()
        .args(["unlock", "--force"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("pid {}", run.id())));
    gate.open();
    let status = run.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(run.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{err}");
    assert!(err.contains("is no longer held by this run"), "{err}");
    assert!(!err.contains("Completed iam"), "no later step ran: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unlock_without_force_refuses_and_names_the_holder() {
    let ctx = TestContext::with(Kind::Ministack);
    let bucket = bucket_for(&ctx);
    let ctx = ctx.config(&s3_config(&bucket));
    ctx.deploy().args(["state", "bootstrap"]).assert().success();
    let state = backend(&ctx, &bucket).await;
    let _held = state
        .lock(&LockHolder::current("deploy all"), None)
        .await
        .unwrap();
    ctx.deploy()
        .args(["unlock"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"))
        .stderr(predicate::str::contains("(deploy all)"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_state_inputs_are_refused_and_lose_nothing() {
    let ctx = TestContext::with(Kind::Ministack);
    // An invalid bucket name: a configuration error naming the variable.
    ctx.deploy()
        .env("DEPLOY_STATE_BUCKET", "Bad_Bucket")
        .args(["status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("DEPLOY_STATE_BUCKET"))
        .stderr(predicate::str::contains("Bad_Bucket"));

    // A bucket of another account: access denied, nothing changed.
    let theirs = format!("{}-theirs", ctx.environment);
    let owner = ctx
        .fresh_copy()
        .env("AWS_ACCESS_KEY_ID", "111111111111")
        .config(&s3_config(&theirs));
    owner
        .deploy()
        .args(["state", "bootstrap"])
        .assert()
        .success();
    let intruder = ctx
        .fresh_copy()
        .env("AWS_ACCESS_KEY_ID", "222222222222")
        .config(&s3_config(&theirs));
    intruder
        .deploy()
        .args(["run", "preflight"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("access denied"))
        .stderr(predicate::str::contains(&theirs));

    // A corrupt state object, and one of a newer schema: refused, never overwritten.
    let bucket = bucket_for(&ctx);
    let ctx = ctx.config(&s3_config(&bucket));
    ctx.deploy().args(["state", "bootstrap"]).assert().success();
    let state = backend(&ctx, &bucket).await;
    for (content, says) in [
        (&b"{ torn"[..], "is corrupt"),
        (&br#"{"schema_version": 7}"#[..], "schema version 7"),
    ] {
        state
            .write(
                "state.json",
                content,
                deploy_state::backend::Precondition::None,
            )
            .await
            .unwrap();
        ctx.deploy()
            .args(["all", "--auto-approve"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
        let stored = state.read("state.json").await.unwrap().unwrap();
        assert_eq!(stored.bytes, content);
    }
}

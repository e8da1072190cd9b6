//! A deployment is (account, region, project, environment), not a directory: environments side
//! by side in one checkout, a changed region, two projects with one environment name, the
//! upgrade from the flat layout, another account's credentials, and a fresh checkout that must
//! not believe nothing is deployed. Local backend, ministack, real terraform.

mod support;

use std::time::Duration;

use predicates::prelude::*;
use support::aws::{fingerprint, leftovers};
use support::{Kind, TestContext};

const TIMEOUT: Duration = Duration::from_secs(400);

fn deploy_all(ctx: &TestContext) {
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
}

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn environments_live_side_by_side_in_one_checkout() {
    let a = TestContext::with(Kind::Ministack);
    deploy_all(&a);
    let a_before = fingerprint(&a).await;
    // The same checkout, another environment through the CI override.
    let b_env = support::unique_environment();
    let b_cmd = |args: &[&str]| {
        let mut c = a.deploy();
        c.env("DEPLOY_ENVIRONMENT", &b_env)
            .args(args)
            .timeout(TIMEOUT);
        c
    };
    b_cmd(&["all", "--auto-approve"]).assert().success();
    assert!(
        a.state_root()
            .join(format!("hub-{b_env}-us-east-1"))
            .is_dir()
    );
    a.deploy()
        .args(["status", "--live"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Healthy"));
    b_cmd(&["status", "--live"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Healthy"));
    assert_eq!(fingerprint(&a).await, a_before, "nothing of a was replaced");
    a.deploy()
        .args(["status", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("hub/{}", a.environment)))
        .stdout(predicate::str::contains(format!("hub/{b_env}")));

    b_cmd(&["destroy", "--auto-approve"]).assert().success();
    a.deploy()
        .args(["status", "--live"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Healthy"));
    assert_eq!(fingerprint(&a).await, a_before);

    // A fresh checkout of a (no state here) must not claim that nothing is deployed.
    let fresh = a.fresh_copy();
    let destroy = fresh
        .deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let text = out(&destroy);
    assert_eq!(destroy.status.code(), Some(5), "{text}");
    assert!(
        text.contains(&format!("queue {}-eventbridge-dlq", a.environment)),
        "{text}"
    );
    assert!(text.contains("Nothing was changed"), "{text}");
    fresh
        .deploy()
        .args(["status", "--live"])
        .assert()
        .code(5)
        .stdout(predicate::str::contains(format!(
            "{}-application-events",
            a.environment
        )));
    assert_eq!(fingerprint(&a).await, a_before, "nothing was deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_region_is_a_second_deployment_with_its_own_state() {
    let east = TestContext::with(Kind::Ministack);
    deploy_all(&east);
    // deploy.toml's region changed in the same checkout.
    let west_cmd = |args: &[&str]| {
        let mut c = east.deploy();
        c.env("DEPLOY_REGION", "us-west-2")
            .args(args)
            .timeout(TIMEOUT);
        c
    };
    let run = west_cmd(&["all", "--auto-approve"]).output().unwrap();
    let text = out(&run);
    assert!(
        text.contains(&format!(
            "a deployment of hub/{} also exists in us-east-1",
            east.environment
        )),
        "{text}"
    );
    // IAM is global: the roles the new region would create are the old region's. Stopped before
    // any change, naming them and their owner.
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(text.contains("stopped before any change"), "{text}");
    assert!(
        text.contains(&format!("role {}-event-publisher-role", east.environment)),
        "{text}"
    );
    assert!(text.contains("in us-east-1"), "{text}");
    east.deploy()
        .args(["status", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "hub/{} in us-east-1",
            east.environment
        )))
        .stdout(predicate::str::contains(format!(
            "hub/{} in us-west-2",
            east.environment
        )));

    west_cmd(&["destroy", "--auto-approve"]).assert().success();
    east.deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(leftovers(&east).await, Vec::<String>::new());
    let west = east.fresh_copy().region("us-west-2");
    assert_eq!(leftovers(&west).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgraded_ledger_is_picked_up_and_another_project_cannot_take_it_over() {
    let a = TestContext::with(Kind::Ministack);
    deploy_all(&a);
    let before = fingerprint(&a).await;
    // Make it what the previous release left: the ledger flat in .deployment-state/, without
    // the identity fields this release adds, and the emulator record inside it.
    let root = a.state_root();
    let dir = a.state_dir();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::rename(entry.path(), root.join(entry.file_name())).unwrap();
    }
    std::fs::remove_dir(&dir).unwrap();
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("state.json")).unwrap()).unwrap();
    for key in [
        "identity",
        "lineage",
        "serial",
        "log_counts",
        "updated_by",
        "destroyed_by",
    ] {
        state.as_object_mut().unwrap().remove(key);
    }
    std::fs::write(root.join("state.json"), serde_json::to_vec(&state).unwrap()).unwrap();

    a.deploy()
        .args(["status"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "moved the ledger of the earlier layout",
        ))
        .stdout(predicate::str::is_match("test-events +completed").unwrap());
    a.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing to do"));
    assert_eq!(fingerprint(&a).await, before);

    // Another team's checkout: another project, the same environment name, the same account.
    let b = a.fresh_copy().project("billing");
    let run = b
        .deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let text = out(&run);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(text.contains("stopped before any change"), "{text}");
    assert!(
        text.contains(&format!("queue {}-eventbridge-dlq", a.environment)),
        "{text}"
    );
    b.deploy()
        .args(["destroy", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(
        fingerprint(&a).await,
        before,
        "nothing of project hub was touched"
    );
    a.deploy()
        .args(["status", "--live"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Healthy"));

    // The team moves the deployment's state to S3 for CI, without redeploying.
    let bucket = format!("{}-moved", a.environment);
    let on_s3 = |args: &[&str]| {
        let mut c = a.deploy();
        c.env("DEPLOY_STATE_BUCKET", &bucket)
            .args(args)
            .timeout(TIMEOUT);
        c
    };
    on_s3(&["state", "migrate", "--to", "s3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("and Terraform's state"));
    // The local ledger is retired: pointed at it, deploy finds no state, and says what exists.
    a.deploy().args(["status", "--live"]).assert().code(5);
    on_s3(&["all", "--auto-approve"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing to do"));
    on_s3(&["run", "infrastructure", "--force"])
        .assert()
        .success();
    // Terraform found its state in the bucket: a plan with no changes, nothing applied.
    on_s3(&["logs", "infrastructure"])
        .assert()
        .success()
        .stdout(predicate::str::contains("plan: no changes"));
    assert_eq!(fingerprint(&a).await, before);
}

#[test]
fn credentials_of_another_account_are_refused_before_any_change() {
    let ctx = TestContext::with(Kind::Ministack).env("AWS_ACCESS_KEY_ID", "111111111111");
    ctx.deploy().args(["run", "preflight"]).assert().success();
    let state = ctx.state_json();
    assert_eq!(state["identity"]["account"], "111111111111");
    let serial = state["serial"].clone();
    ctx.deploy()
        .env("AWS_ACCESS_KEY_ID", "222222222222")
        .args(["all", "--auto-approve"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("111111111111"))
        .stderr(predicate::str::contains("222222222222"))
        .stderr(predicate::str::contains(
            ctx.state_dir().display().to_string(),
        ));
    assert_eq!(ctx.state_json()["serial"], serial, "nothing was written");
}

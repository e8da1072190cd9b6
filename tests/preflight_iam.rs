//! `preflight` and `iam` against a real emulator (ministack, on a free loopback port).

mod support;

use predicates::prelude::*;
use support::{Kind, TestContext};

#[test]
fn preflight_passes_and_prints_the_table() {
    let ctx = TestContext::with(Kind::Ministack);
    ctx.deploy()
        .args(["run", "preflight"])
        .assert()
        .success()
        .stderr(predicate::str::contains("ok    terraform"))
        .stderr(predicate::str::contains(
            "ok    credentials      account 000000000000",
        ))
        .stderr(predicate::str::contains("ok    disk space"))
        .stderr(predicate::str::contains("ok    sources"));
    assert_eq!(ctx.step_status("preflight"), "completed");
    let outputs = &ctx.state_json()["steps"]["preflight"]["outputs"];
    assert_eq!(outputs["account"], "000000000000");
}

#[test]
fn bogus_terraform_fails_naming_terraform_and_the_fix() {
    let ctx = TestContext::with(Kind::Ministack)
        .terraform_binary("/nonexistent/terraform-that-is-not-there");
    ctx.deploy()
        .args(["run", "preflight"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("FAIL  terraform"))
        .stderr(predicate::str::contains("fix: install Terraform >= 1.5"));
    assert_eq!(ctx.step_status("preflight"), "failed");
}

#[test]
fn missing_credentials_fail_naming_credentials_and_are_recorded() {
    let home = tempfile::tempdir().unwrap();
    let ctx = TestContext::with(Kind::Ministack)
        .remove_env("AWS_ACCESS_KEY_ID")
        .remove_env("AWS_SECRET_ACCESS_KEY")
        .env("HOME", home.path().to_str().unwrap())
        .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    ctx.deploy()
        .args(["run", "preflight"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("FAIL  credentials"))
        .stderr(predicate::str::contains("AWS_PROFILE"));
    let rec = &ctx.state_json()["steps"]["preflight"];
    assert_eq!(rec["status"], "failed");
    assert!(rec["last_error"].as_str().unwrap().contains("credentials"));
}

/// Creates an IAM user with an access key in the emulator; returns (user, key id, secret).
async fn emulator_user(ctx: &TestContext) -> (String, String, String) {
    let iam = aws_sdk_iam::Client::new(&ctx.sdk().await);
    let user = format!("{}-deployer", ctx.environment);
    iam.create_user().user_name(&user).send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        user,
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_user_gets_a_scoped_policy_once() {
    let ctx = TestContext::with(Kind::Ministack);
    let (user, key, secret) = emulator_user(&ctx).await;
    let ctx = ctx
        .env("AWS_ACCESS_KEY_ID", &key)
        .env("AWS_SECRET_ACCESS_KEY", &secret);
    ctx.deploy().args(["run", "iam"]).assert().success();

    let iam = aws_sdk_iam::Client::new(&ctx.sdk().await);
    let policy_name = format!("hub-{}-deployer", ctx.environment);
    let got = iam
        .get_user_policy()
        .user_name(&user)
        .policy_name(&policy_name)
        .send()
        .await
        .expect("the deployer policy exists");
    let raw = got.policy_document();
    let text = if raw.starts_with('%') || raw.contains("%22") {
        urlencoding_decode(raw)
    } else {
        raw.to_string()
    };
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let statements = doc["Statement"].as_array().unwrap();
    let resources: Vec<String> = statements
        .iter()
        .flat_map(|s| s["Resource"].as_array().unwrap().clone())
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert!(
        resources
            .iter()
            .any(|r| r.contains(&format!("event-bus/{}-application-events", ctx.environment))),
        "{resources:?}"
    );
    for s in statements {
        let all_events = s["Action"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "events:*" || a == "*");
        let everything = s["Resource"].as_array().unwrap().iter().any(|r| r == "*");
        assert!(!(all_events && everything), "events:* on *: {s}");
    }
    let inventory = ctx.state_json()["inventory"].clone();
    assert!(
        inventory
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "user-policy" && r["name"] == policy_name.as_str()),
        "{inventory}"
    );

    // Same inputs: skipped, nothing changed.
    ctx.deploy()
        .args(["run", "iam"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Skipped iam: up to date"));
    assert_eq!(ctx.state_json()["steps"]["iam"]["attempts"], 1);

    // Teardown removes the policy it put, and only that.
    ctx.deploy()
        .args(["destroy", "--auto-approve"])
        .assert()
        .success()
        .stderr(predicate::str::contains("Completed destroy"));
    let gone = iam
        .get_user_policy()
        .user_name(&user)
        .policy_name(&policy_name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_iam::error::ProvideErrorMetadata::code(&gone),
        Some("NoSuchEntity")
    );
    iam.get_user()
        .user_name(&user)
        .send()
        .await
        .expect("the user itself stays");
}

fn urlencoding_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn root_identity_changes_nothing_and_records_a_warning() {
    let ctx = TestContext::with(Kind::Ministack);
    ctx.deploy()
        .args(["run", "iam"])
        .assert()
        .success()
        .stderr(predicate::str::contains("no policy was changed"));
    let warnings = std::fs::read_to_string(ctx.state_dir().join("warnings.log")).unwrap();
    assert!(warnings.contains("account root"), "{warnings}");
    let inventory = ctx.state_json()["inventory"].clone();
    assert_eq!(inventory.as_array().unwrap().len(), 0);
}

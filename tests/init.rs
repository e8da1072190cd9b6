//! `deploy init`: with `--defaults`, and interactively through a pseudo-terminal.

mod support;

use std::time::Duration;

use expectrl::{Expect, Session};
use predicates::prelude::*;
use support::{Kind, TestContext, emulator};

#[test]
fn init_defaults_writes_a_file_that_plan_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let shared = emulator::shared(Kind::Ministack);
    let mut cmd = assert_cmd::Command::cargo_bin("deploy").unwrap();
    cmd.current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args(["init", "--defaults", "--environment", "qa"])
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join("deploy.toml")).unwrap();
    assert!(text.contains("environment = \"qa\""), "{text}");
    // Derived names are not written, so DEPLOY_ENVIRONMENT later changes all of them.
    assert!(!text.contains("application-events"), "{text}");
    assert_eq!(resolved(&text).eventbus.name, "qa-application-events");
    // A second --defaults does not clobber it.
    assert_cmd::Command::cargo_bin("deploy")
        .unwrap()
        .current_dir(dir.path())
        .args(["init", "--defaults"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_cmd::Command::cargo_bin("deploy")
        .unwrap()
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", &shared.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .args(["plan"])
        .assert()
        .success()
        .stdout(predicate::str::contains("run   preflight"));
}

#[test]
fn init_rejects_an_invalid_environment() {
    let dir = tempfile::tempdir().unwrap();
    assert_cmd::Command::cargo_bin("deploy")
        .unwrap()
        .current_dir(dir.path())
        .args(["init", "--defaults", "--environment", "Prod!"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--environment"));
    assert!(!dir.path().join("deploy.toml").exists());
}

#[test]
fn init_interactive_answers_two_questions_and_takes_defaults() {
    let ctx = TestContext::offline();
    std::fs::remove_file(ctx.config_path()).unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("deploy"));
    cmd.current_dir(ctx.path())
        .env("NO_COLOR", "1")
        .env("AWS_REGION", "eu-west-1")
        .env(
            "AWS_ENDPOINT_URL",
            &emulator::shared(Kind::Ministack).endpoint,
        )
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        // No shared config files: no profile to offer.
        .env("AWS_CONFIG_FILE", ctx.path().join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            ctx.path().join("no-aws-credentials"),
        )
        .arg("init");
    let mut p = Session::spawn(cmd).expect("spawn in a pty");
    p.set_expect_timeout(Some(Duration::from_secs(30)));
    p.expect("account 000000000000").unwrap();
    p.expect("Environment").unwrap();
    p.send_line("qa2").unwrap();
    p.expect("Project name").unwrap();
    p.send_line("media").unwrap();
    for question in [
        "AWS region",
        "Event bus name",
        "schema registry",
        "IAM mode",
    ] {
        p.expect(question).unwrap();
        p.send_line("").unwrap();
    }
    // A non-number is asked again, naming the question and the range.
    p.expect("event-logger: memory in MB").unwrap();
    p.send_line("lots").unwrap();
    p.expect(
        "event-logger: memory in MB: `lots` is not allowed; give a whole number from 128 to 10240",
    )
    .unwrap();
    p.send_line("512").unwrap();
    for question in [
        "event-logger: timeout",
        "dead-letter-processor: memory",
        "dead-letter-processor: timeout",
        "Archive retention",
    ] {
        p.expect(question).unwrap();
        p.send_line("").unwrap();
    }
    p.expect("Wrote").unwrap();
    p.expect("next: `deploy plan`").unwrap();
    let text = std::fs::read_to_string(ctx.config_path()).unwrap();
    assert!(text.contains("environment = \"qa2\""), "{text}");
    assert!(text.contains("name = \"media\""), "{text}");
    assert!(text.contains("region = \"eu-west-1\""), "{text}");
    // The bus name was taken as offered: it is derived, so it is not written.
    assert!(!text.contains("application-events"), "{text}");
    assert!(
        text.trim_start_matches(|c: char| c == '#' || c != '[')
            .starts_with("[project]"),
        "{text}"
    );
    assert!(
        text.contains("[lambdas.event-logger]\nmemory = 512\n"),
        "{text}"
    );
    let config = resolved(&text);
    assert_eq!(config.project.name, "media");
    assert_eq!(config.eventbus.name, "qa2-application-events");
    assert_eq!(config.lambdas[0].memory_mb, 512);
}

/// The configuration the written file resolves to, with no overrides.
fn resolved(text: &str) -> deploy_config::Config {
    deploy_config::parse(
        std::path::Path::new("deploy.toml"),
        text,
        &deploy_config::Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

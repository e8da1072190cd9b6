//! A change Terraform can only make by replacement (the bus renamed: the bus, its rules, their
//! targets and the archive deleted, then made again) loses what is published in between. Under
//! `--auto-approve` it is refused before anything changes, naming what would be replaced, and
//! applied with `--allow-replace`. Against ministack with real terraform: the expansion is
//! applied by one terraform process with every resource under `prevent_destroy`, so this is
//! Terraform refusing first, then the reviewed plan naming the replacements.

mod support;

use support::{Kind, TestContext};

async fn bus_exists(ctx: &TestContext, name: &str) -> bool {
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk().await);
    events.describe_event_bus().name(name).send().await.is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_bus_is_refused_under_auto_approve_and_applied_with_allow_replace() {
    let ctx = TestContext::with(Kind::Ministack);
    let (code, text) = ctx.deploy_all(&[]);
    assert_eq!(code, Some(0), "{text}");
    let outputs = &ctx.state_json()["steps"]["infrastructure"]["outputs"];
    let old = outputs["event_bus_name"].as_str().unwrap().to_string();
    let renamed = format!("{}-renamed-bus", ctx.environment);
    let ctx = ctx.config(&format!("[eventbus]\nname = \"{renamed}\"\n"));

    let (code, text) = ctx.deploy_all(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("stopped before any change: the plan replaces")
            && text.contains("aws_cloudwatch_event_bus.this")
            && text.contains("--allow-replace"),
        "{text}"
    );
    assert!(bus_exists(&ctx, &old).await, "the old bus is untouched");
    assert!(!bus_exists(&ctx, &renamed).await, "nothing was made");
    let log = String::from_utf8(
        ctx.deploy()
            .args(["logs", "infrastructure"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(
        log.contains("would delete or replace something: planning it for review"),
        "Terraform refused the one-process apply first:\n{log}"
    );

    let (code, text) = ctx.deploy_all(&["--allow-replace"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(bus_exists(&ctx, &renamed).await, "the renamed bus is made");
    assert!(!bus_exists(&ctx, &old).await, "the old bus is gone");
}

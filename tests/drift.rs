//! Truthful status and real repair: on one deployed stack, break one thing behind the tool's back
//! (through the SDK), then `status --live` must say what is wrong, `plan` which step will repair
//! it and why, and `deploy all` must repair it. ministack, real terraform.
//!
//! The stack is deployed once per test process ([`stack::STACK`]); each break is a test of its
//! own that holds the stack alone and leaves it repaired and healthy.

#[path = "drift/stack.rs"]
mod stack;
mod support;

use stack::{STACK, TIMEOUT};

#[tokio::test(flavor = "multi_thread")]
async fn deleted_rule_is_reported_and_recreated() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let audio = format!("{}-audio-uploaded-to-transcription", s.env());
    c.events
        .delete_rule()
        .name(&audio)
        .event_bus_name(s.bus())
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "rule deleted",
        &audio,
        "infrastructure",
        "resources missing",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_rule_is_reported_and_enabled_again() {
    let s = STACK.write().await;
    let c = s.clients().await;
    c.events
        .disable_rule()
        .name(s.logger_rule())
        .event_bus_name(s.bus())
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("rule disabled", "DISABLED", "infrastructure", "drifted");
    assert_eq!(s.rule_state(&c.events, &s.logger_rule()).await, "ENABLED");
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_rule_pattern_is_reported_and_put_back() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let video = format!("{}-video-uploaded-to-thumbnail", s.env());
    c.events
        .put_rule()
        .name(&video)
        .event_bus_name(s.bus())
        .event_pattern(r#"{"source":["somebody.else"]}"#)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "pattern changed",
        "event pattern",
        "infrastructure",
        "drifted",
    );
    let rule = c
        .events
        .describe_rule()
        .name(&video)
        .event_bus_name(s.bus())
        .send()
        .await
        .unwrap();
    assert!(rule.event_pattern().unwrap().contains("Video Uploaded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn removed_logger_target_is_reported_and_restored() {
    let s = STACK.write().await;
    let c = s.clients().await;
    c.events
        .remove_targets()
        .rule(s.logger_rule())
        .event_bus_name(s.bus())
        .ids("event-logger")
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "target removed",
        "event-logger",
        "lambdas",
        "resources missing",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn removed_invoke_permission_is_reported_and_restored() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let logger = s.logger();
    let policy = c
        .lambda
        .get_policy()
        .function_name(&logger)
        .qualifier("live")
        .send()
        .await
        .unwrap();
    let sid =
        serde_json::from_str::<serde_json::Value>(policy.policy().unwrap()).unwrap()["Statement"]
            [0]["Sid"]
            .as_str()
            .unwrap()
            .to_string();
    c.lambda
        .remove_permission()
        .function_name(&logger)
        .qualifier("live")
        .statement_id(&sid)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("permission removed", &sid, "lambdas", "resources missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_function_is_reported_and_recreated() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let logger = s.logger();
    c.lambda
        .delete_function()
        .function_name(&logger)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("function deleted", &logger, "lambdas", "resources missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_dead_letter_mapping_is_reported_and_enabled_again() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let uuid = s.mapping(&c.lambda).await;
    c.lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("mapping disabled", &uuid, "lambdas", "drifted");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_dead_letter_mapping_is_reported_and_recreated_without_keeping_a_stale_id() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let uuid = s.mapping(&c.lambda).await;
    c.lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("mapping deleted", &uuid, "lambdas", "resources missing");
    let recorded: Vec<String> = s.ctx.state_json()["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "event-source-mapping")
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        recorded,
        [s.mapping(&c.lambda).await],
        "no stale mapping id is kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_inline_policy_is_reported_and_restored() {
    let s = STACK.write().await;
    let c = s.clients().await;
    c.iam
        .delete_role_policy()
        .role_name(format!("{}-event-processor-role", s.env()))
        .policy_name("event-processing")
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "inline policy deleted",
        "inline policy event-processing",
        "infrastructure",
        "drifted",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_archive_is_reported_and_recreated() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let archive = format!("{}-event-archive", s.env());
    c.events
        .delete_archive()
        .archive_name(&archive)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "archive deleted",
        &archive,
        "infrastructure",
        "resources missing",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_dead_letter_queue_is_reported_and_recreated() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let dlq = s.dlq();
    let url = c.sqs.get_queue_url().queue_name(&dlq).send().await.unwrap();
    c.sqs
        .delete_queue()
        .queue_url(url.queue_url().unwrap())
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("queue deleted", &dlq, "infrastructure", "resources missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_bus_is_reported_and_recreated() {
    let s = STACK.write().await;
    let c = s.clients().await;
    let bus = s.bus();
    c.events.delete_event_bus().name(&bus).send().await.unwrap();
    s.diagnose_and_repair("bus deleted", &bus, "infrastructure", "resources missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_in_the_dead_letter_queue_degrade_the_deployment() {
    let s = STACK.write().await;
    let c = s.clients().await;
    // Keep the processor from consuming what lands in the queue.
    let uuid = s.mapping(&c.lambda).await;
    c.lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    let url = c
        .sqs
        .get_queue_url()
        .queue_name(s.dlq())
        .send()
        .await
        .unwrap();
    let url = url.queue_url().unwrap();
    for i in 0..2 {
        c.sqs
            .send_message()
            .queue_url(url)
            .message_body(format!("{{\"lost\":{i}}}"))
            .send()
            .await
            .unwrap();
    }
    let (code, text) = s.output(&["status", "--live"]);
    assert_eq!(code, Some(7), "{text}");
    assert!(text.contains("2 message(s) waiting"), "{text}");
    assert!(text.contains("the oldest"), "{text}");
    let out = s
        .ctx
        .deploy()
        .args(["status", "--live", "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let queue = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "queue")
        .unwrap()
        .clone();
    assert_eq!(queue["depth"], 2);
    assert!(queue["oldest_age_seconds"].is_u64(), "{queue}");

    // Put back: the queue emptied, the mapping recreated.
    c.sqs.purge_queue().queue_url(url).send().await.unwrap();
    let (code, text) = s.output(&["all", "--auto-approve"]);
    assert_eq!(code, Some(0), "{text}");
    s.assert_healthy("messages purged, mapping recreated");
}

/// Own stacks: a destroy takes the stack away.
#[tokio::test(flavor = "multi_thread")]
async fn a_pre_destroy_followed_by_a_deploy_never_makes_destroy_skip_work() {
    for first in [
        &["destroy", "--phase", "pre", "--auto-approve"][..],
        &["run", "998", "--auto-approve"],
    ] {
        let ctx = stack::deployed();
        ctx.deploy().args(first).timeout(TIMEOUT).assert().success();
        ctx.deploy()
            .args(["all", "--auto-approve"])
            .timeout(TIMEOUT)
            .assert()
            .success();
        ctx.deploy()
            .args(["destroy", "--auto-approve"])
            .timeout(TIMEOUT)
            .assert()
            .success();
        assert_eq!(
            support::aws::leftovers(&ctx).await,
            Vec::<String>::new(),
            "after {first:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alias_pointed_elsewhere_is_reported_and_pointed_back() {
    let s = STACK.write().await;
    let c = s.clients().await;
    c.lambda
        .update_alias()
        .function_name(s.logger())
        .name("live")
        .function_version("$LATEST")
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "alias moved",
        "points at version $LATEST, not the deployed version",
        "lambdas",
        "drifted",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_on_failure_destination_is_reported_and_restored() {
    let s = STACK.write().await;
    let c = s.clients().await;
    c.lambda
        .delete_function_event_invoke_config()
        .function_name(s.logger())
        .qualifier("live")
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "on-failure destination removed",
        "failed asynchronous invocations go to nowhere",
        "lambdas",
        "drifted",
    );
}

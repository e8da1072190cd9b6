//! Truthful status and real repair: on one deployed stack, break one thing at a time behind the
//! tool's back (through the SDK), then `status --live` must say what is wrong, `plan` which
//! step will repair it and why, and `deploy all` must repair it. ministack, real terraform.

mod support;

use std::time::Duration;

use aws_sdk_eventbridge::Client as Events;
use predicates::prelude::*;
use support::{Kind, TestContext};

const TIMEOUT: Duration = Duration::from_secs(400);

struct Stack {
    ctx: TestContext,
    events: Events,
    lambda: aws_sdk_lambda::Client,
    sqs: aws_sdk_sqs::Client,
    iam: aws_sdk_iam::Client,
}

impl Stack {
    fn env(&self) -> &str {
        &self.ctx.environment
    }

    fn bus(&self) -> String {
        format!("{}-application-events", self.env())
    }

    fn logger_rule(&self) -> String {
        format!("{}-all-events-to-logger", self.env())
    }

    fn output(&self, cmd: &[&str]) -> (Option<i32>, String) {
        let out = self
            .ctx
            .deploy()
            .args(cmd)
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    }

    /// `status --live` exits 1 naming `what`; `plan` names `step` and `why`; `all` repairs.
    fn diagnose_and_repair(&self, case: &str, what: &str, step: &str, why: &str) {
        let (code, text) = self.output(&["status", "--live"]);
        assert_eq!(code, Some(7), "{case}: status --live\n{text}");
        assert!(
            text.contains(what),
            "{case}: status --live names `{what}`\n{text}"
        );
        let (code, text) = self.output(&["plan"]);
        assert_eq!(code, Some(0), "{case}: plan\n{text}");
        let line = text
            .lines()
            .find(|l| l.contains(&format!("run   {step}")))
            .unwrap_or_else(|| panic!("{case}: plan runs {step}\n{text}"));
        assert!(line.contains(why), "{case}: plan says `{why}`\n{text}");
        let (code, text) = self.output(&["all", "--auto-approve"]);
        assert_eq!(code, Some(0), "{case}: all\n{text}");
        let (code, text) = self.output(&["status", "--live"]);
        assert_eq!(code, Some(0), "{case}: healthy after the repair\n{text}");
    }

    async fn rule_state(&self, rule: &str) -> String {
        self.events
            .describe_rule()
            .name(rule)
            .event_bus_name(self.bus())
            .send()
            .await
            .unwrap()
            .state()
            .unwrap()
            .as_str()
            .to_string()
    }

    async fn mapping(&self) -> String {
        let f = format!("{}-dead-letter-processor", self.env());
        let list = self
            .lambda
            .list_event_source_mappings()
            .function_name(&f)
            .send()
            .await
            .unwrap();
        list.event_source_mappings()[0].uuid().unwrap().to_string()
    }
}

async fn deploy() -> Stack {
    let ctx = TestContext::with(Kind::Ministack);
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let sdk = ctx.sdk().await;
    Stack {
        events: Events::new(&sdk),
        lambda: aws_sdk_lambda::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        iam: aws_sdk_iam::Client::new(&sdk),
        ctx,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_break_is_seen_and_repaired() {
    let s = deploy().await;
    let env = s.env().to_string();
    let bus = s.bus();
    let logger_rule = s.logger_rule();
    let logger = format!("{env}-event-logger");

    // A rule deleted.
    let audio = format!("{env}-audio-uploaded-to-transcription");
    s.events
        .delete_rule()
        .name(&audio)
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair(
        "rule deleted",
        &audio,
        "infrastructure",
        "resources missing",
    );

    // The logger rule disabled.
    s.events
        .disable_rule()
        .name(&logger_rule)
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("rule disabled", "DISABLED", "infrastructure", "drifted");
    assert_eq!(s.rule_state(&logger_rule).await, "ENABLED");

    // A rule's pattern changed.
    let video = format!("{env}-video-uploaded-to-thumbnail");
    s.events
        .put_rule()
        .name(&video)
        .event_bus_name(&bus)
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
    let pattern = s
        .events
        .describe_rule()
        .name(&video)
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    assert!(pattern.event_pattern().unwrap().contains("Video Uploaded"));

    // The logger's target removed.
    s.events
        .remove_targets()
        .rule(&logger_rule)
        .event_bus_name(&bus)
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

    // The events permission removed from the logger.
    let policy = s
        .lambda
        .get_policy()
        .function_name(&logger)
        .send()
        .await
        .unwrap();
    let sid =
        serde_json::from_str::<serde_json::Value>(policy.policy().unwrap()).unwrap()["Statement"]
            [0]["Sid"]
            .as_str()
            .unwrap()
            .to_string();
    s.lambda
        .remove_permission()
        .function_name(&logger)
        .statement_id(&sid)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("permission removed", &sid, "lambdas", "resources missing");

    // The logger function deleted.
    s.lambda
        .delete_function()
        .function_name(&logger)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("function deleted", &logger, "lambdas", "resources missing");

    // The dead-letter mapping disabled, then deleted.
    let uuid = s.mapping().await;
    s.lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("mapping disabled", &uuid, "lambdas", "drifted");
    let uuid = s.mapping().await;
    s.lambda
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
    assert_eq!(recorded, [s.mapping().await], "no stale mapping id is kept");

    // A role's inline policy deleted.
    let role = format!("{env}-event-processor-role");
    s.iam
        .delete_role_policy()
        .role_name(&role)
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

    // The archive deleted.
    let archive = format!("{env}-event-archive");
    s.events
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

    // The dead-letter queue deleted.
    let dlq = format!("{env}-eventbridge-dlq");
    let url = s.sqs.get_queue_url().queue_name(&dlq).send().await.unwrap();
    s.sqs
        .delete_queue()
        .queue_url(url.queue_url().unwrap())
        .send()
        .await
        .unwrap();
    s.diagnose_and_repair("queue deleted", &dlq, "infrastructure", "resources missing");

    // The bus deleted.
    s.events.delete_event_bus().name(&bus).send().await.unwrap();
    s.diagnose_and_repair("bus deleted", &bus, "infrastructure", "resources missing");

    s.ctx
        .deploy()
        .args(["status", "--live"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Healthy"));
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_in_the_dead_letter_queue_degrade_the_deployment() {
    let s = deploy().await;
    let env = s.env().to_string();
    // Keep the processor from consuming what lands in the queue.
    let uuid = s.mapping().await;
    s.lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    let url = s
        .sqs
        .get_queue_url()
        .queue_name(format!("{env}-eventbridge-dlq"))
        .send()
        .await
        .unwrap();
    for i in 0..2 {
        s.sqs
            .send_message()
            .queue_url(url.queue_url().unwrap())
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
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pre_destroy_followed_by_a_deploy_never_makes_destroy_skip_work() {
    for first in [
        &["destroy", "--phase", "pre", "--auto-approve"][..],
        &["run", "998", "--auto-approve"],
    ] {
        let s = deploy().await;
        s.ctx
            .deploy()
            .args(first)
            .timeout(TIMEOUT)
            .assert()
            .success();
        s.ctx
            .deploy()
            .args(["all", "--auto-approve"])
            .timeout(TIMEOUT)
            .assert()
            .success();
        s.ctx
            .deploy()
            .args(["destroy", "--auto-approve"])
            .timeout(TIMEOUT)
            .assert()
            .success();
        assert_eq!(
            support::aws::leftovers(&s.ctx).await,
            Vec::<String>::new(),
            "after {first:?}"
        );
    }
}

//! The `test-events` step against ministack with real terraform: examples validated before
//! anything is sent; routing proved through a probe queue; every published event's
//! `EVENT_RECEIVED` line found in the logger's log group; no probe left behind (also after an
//! interrupt or a killed run); a missing logger target fails the step naming the events; and a
//! message on the dead-letter queue consumed by the deployed processor.
//!
//! One stack is deployed (one terraform apply) and the phases run in order on it: the later
//! ones change it (they remove the logger target).

#[path = "test_events/replay.rs"]
mod replay;
mod support;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use predicates::prelude::*;
use serde_json::Value;
use support::{Kind, TestContext, repo_root};

struct Stack {
    ctx: TestContext,
    bus: String,
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl Stack {
    fn output(&self, key: &str) -> String {
        self.ctx.state_json()["steps"]["infrastructure"]["outputs"][key]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn probe_prefix(&self) -> String {
        format!("{}-deploy-probe-", self.ctx.environment)
    }

    fn results(&self) -> Value {
        let text = std::fs::read_to_string(self.ctx.state_dir().join("test-results.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Probe rules and queues of this environment that exist.
    async fn probes(&self) -> Vec<String> {
        let prefix = self.probe_prefix();
        let rules = self
            .events
            .list_rules()
            .event_bus_name(&self.bus)
            .name_prefix(&prefix)
            .send()
            .await
            .unwrap();
        let mut found: Vec<String> = rules
            .rules()
            .iter()
            .map(|r| format!("rule {}", r.name().unwrap()))
            .collect();
        let queues = self
            .sqs
            .list_queues()
            .queue_name_prefix(&prefix)
            .send()
            .await
            .unwrap();
        found.extend(queues.queue_urls().iter().map(|u| format!("queue {u}")));
        found
    }

    /// Probe pieces the ledger's inventory still lists.
    fn recorded_probes(&self) -> Vec<Value> {
        self.ctx.state_json()["inventory"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"].as_str().unwrap().starts_with("probe-"))
            .cloned()
            .collect()
    }

    /// A probe rule (with a target) and queue as a killed run would leave them.
    async fn plant_leftover(&self, suffix: &str) {
        let name = format!("{}{suffix}", self.probe_prefix());
        let pattern = r#"{"source":["custom.deploy-probe"]}"#;
        self.rule_to_queue(&name, pattern, "probe-queue").await;
    }

    /// A rule on the bus named `name` whose one target (`target_id`) is a new queue of the same
    /// name; returns the queue's URL.
    async fn rule_to_queue(&self, name: &str, pattern: &str, target_id: &str) -> String {
        self.events
            .put_rule()
            .name(name)
            .event_bus_name(&self.bus)
            .event_pattern(pattern)
            .send()
            .await
            .unwrap();
        let url = self
            .sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id(target_id)
            .arn(format!("arn:aws:sqs:us-east-1:000000000000:{name}"))
            .build()
            .unwrap();
        self.events
            .put_targets()
            .rule(name)
            .event_bus_name(&self.bus)
            .targets(target)
            .send()
            .await
            .unwrap();
        url
    }

    /// The structured lines of `log_type` in a function's log group.
    async fn log_lines(&self, function: &str, log_type: &str) -> Vec<Value> {
        let out = self
            .logs
            .filter_log_events()
            .log_group_name(format!("/aws/lambda/{function}"))
            .filter_pattern(format!("\"{log_type}\""))
            .send()
            .await;
        let Ok(out) = out else { return Vec::new() };
        out.events()
            .iter()
            .filter_map(|e| e.message())
            .filter_map(|m| serde_json::from_str::<Value>(&m[m.find('{')?..]).ok())
            .filter(|v| v["logType"] == log_type)
            .collect()
    }
}

async fn deploy_stack() -> Stack {
    let ctx = TestContext::with(Kind::Ministack).config("[tests]\ndelivery_timeout_seconds = 8\n");
    ctx.deploy()
        .args(["run", "infrastructure"])
        .assert()
        .success();
    ctx.deploy().args(["run", "lambdas"]).assert().success();
    let sdk = ctx.sdk().await;
    let mut stack = Stack {
        bus: String::new(),
        events: aws_sdk_eventbridge::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
        ctx,
    };
    stack.bus = stack.output("event_bus_name");
    stack
}

/// `<event type>/<file>` of every example in the repository.
fn example_labels() -> Vec<String> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(repo_root().join("examples")).unwrap() {
        let dir = dir.unwrap();
        for f in std::fs::read_dir(dir.path()).unwrap() {
            out.push(format!(
                "{}/{}",
                dir.file_name().to_string_lossy(),
                f.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    out
}

/// Where the logger's deliveries are recorded in `test-results.json`: `route/target`.
const LOGGER_ROUTE: &str = "all-events-to-logger/event-logger";

#[tokio::test(flavor = "multi_thread")]
async fn test_events_on_a_deployed_stack() {
    let stack = deploy_stack().await;
    routing_and_logger_receipt_are_confirmed(&stack).await;
    dead_letter_message_is_consumed_by_the_deployed_processor(&stack).await;
    replay::redelivers_the_archived_events_and_counts_them(&stack).await;
    let logger_rule = format!("{}-all-events-to-logger", stack.ctx.environment);
    stack
        .events
        .remove_targets()
        .rule(&logger_rule)
        .event_bus_name(&stack.bus)
        .ids("event-logger")
        .send()
        .await
        .unwrap();
    interrupt_removes_every_probe(&stack).await;
    missing_logger_target_fails_naming_the_events(&stack).await;
}

async fn routing_and_logger_receipt_are_confirmed(stack: &Stack) {
    let ctx = &stack.ctx;
    // A probe left by a killed run is removed first.
    stack.plant_leftover("killedrun001").await;
    ctx.deploy()
        .args(["run", "test-events"])
        .assert()
        .success()
        .stderr(predicate::str::contains("routing confirmed"))
        .stderr(predicate::str::contains("removed probe leftovers"));
    assert_eq!(ctx.step_status("test-events"), "completed");

    let results = stack.results();
    assert_eq!(results["passed"], true, "{results:#}");
    assert_eq!(results["event_bus"], stack.bus.as_str());
    for check in results["checks"].as_array().unwrap() {
        assert_eq!(check["passed"], true, "{check}");
        assert!(check["duration_ms"].is_u64());
        assert!(!check["detail"].as_str().unwrap().is_empty());
    }
    let events = results["events"].as_array().unwrap();
    let examples = example_labels();
    assert_eq!(
        events.len(),
        examples.len() + 1,
        "every example and the probe"
    );
    for name in &examples {
        assert!(events.iter().any(|e| e["label"] == name.as_str()), "{name}");
    }

    // Seen independently: each event id has its EVENT_RECEIVED line in the logger's group.
    let logger = format!("{}-event-logger", ctx.environment);
    let lines = stack.log_lines(&logger, "EVENT_RECEIVED").await;
    for e in events {
        assert!(
            e["delivered_to"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d == LOGGER_ROUTE),
            "{e}"
        );
        assert!(
            lines.iter().any(|l| l["eventId"] == e["event_id"]),
            "no EVENT_RECEIVED for {e}"
        );
    }
    assert_eq!(
        stack.probes().await,
        Vec::<String>::new(),
        "probe left behind"
    );
}

async fn dead_letter_message_is_consumed_by_the_deployed_processor(stack: &Stack) {
    let dlq_url = stack.output("dlq_url");
    let event_id = format!("dlq-test-{}", stack.ctx.environment);
    let body = serde_json::json!({
        "version": "0", "id": event_id, "source": "custom.upload-service",
        "detail-type": "Audio Uploaded", "account": "000000000000",
        "time": "2024-05-01T12:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"userId": "u-1"}
    });
    let attr = |v: &str| {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(v)
            .build()
            .unwrap()
    };
    stack
        .sqs
        .send_message()
        .queue_url(&dlq_url)
        .message_body(body.to_string())
        .message_attributes("ERROR_CODE", attr("NO_PERMISSIONS"))
        .message_attributes("ERROR_MESSAGE", attr("not authorized to invoke"))
        .message_attributes(
            "RULE_ARN",
            attr("arn:aws:events:us-east-1:000000000000:rule/x"),
        )
        .send()
        .await
        .unwrap();

    let processor = format!("{}-dead-letter-processor", stack.ctx.environment);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = stack.log_lines(&processor, "DLQ_RECORD").await;
        let record = lines.iter().find(|l| l["eventId"] == event_id.as_str());
        let depth = stack
            .sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let attrs = depth.attributes().unwrap();
        let empty = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .all(|k| attrs.get(k).map(String::as_str) == Some("0"));
        if let Some(record) = record
            && empty
        {
            assert_eq!(record["classification"], "not_retryable", "{record}");
            assert_eq!(record["action"], "dropped", "{record}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "DLQ message not consumed: record {record:?}, queue {attrs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Ctrl-C while the step waits for the logger: the engine's cleanup removes every probe
/// resource of this environment (here one planted while the step ran).
async fn interrupt_removes_every_probe(stack: &Stack) {
    let ctx = &stack.ctx;
    let log = ctx.state_dir().join("logs/test-events.log");
    let before = std::fs::read_link(&log).unwrap();
    let mut child = ctx
        .std_command()
        .args(["run", "test-events", "--force"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (polling, with a deadline) until this run's probe is set up and removed: the step
    // is then waiting for logger lines that will not come.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = std::fs::read_link(&log).unwrap_or_default();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if now != before && text.contains("probe removed") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "test-events never got past the probe"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stack.plant_leftover("interrupt001").await;
    assert_eq!(stack.probes().await.len(), 2);
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success(), "{stderr}");
    assert_eq!(ctx.step_status("test-events"), "interrupted", "{stderr}");
    assert_eq!(stack.probes().await, Vec::<String>::new(), "{stderr}");
    assert_eq!(stack.recorded_probes(), Vec::<Value>::new(), "{stderr}");
}

async fn missing_logger_target_fails_naming_the_events(stack: &Stack) {
    let ctx = &stack.ctx;
    let out = ctx
        .deploy()
        .args(["run", "test-events", "--force"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("events never arrived"), "{stderr}");
    assert!(
        stderr.contains("audio-uploaded/v1.json (event "),
        "{stderr}"
    );
    assert!(stderr.contains("routing confirmed"), "{stderr}");
    assert_eq!(ctx.step_status("test-events"), "failed");
    let results = stack.results();
    assert_eq!(results["passed"], false);
    let failed: Vec<&str> = results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        failed.contains(&"route all-events-to-logger -> lambda event-logger"),
        "{failed:?}"
    );
    assert!(results["events"].as_array().unwrap().iter().all(|e| {
        !e["delivered_to"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == LOGGER_ROUTE)
    }));
    assert_eq!(stack.probes().await, Vec::<String>::new());
}

#[test]
fn broken_example_fails_naming_file_and_pointer_before_anything_is_sent() {
    let ctx = TestContext::offline();
    let examples = ctx.path().join("examples");
    std::fs::create_dir_all(examples.join("audio-uploaded")).unwrap();
    let good =
        std::fs::read_to_string(repo_root().join("examples/audio-uploaded/v1.json")).unwrap();
    let mut doc: Value = serde_json::from_str(&good).unwrap();
    doc["detail"]["fileId"] = Value::String("not-a-uuid".into());
    std::fs::write(examples.join("audio-uploaded/v1.json"), &good).unwrap();
    std::fs::write(
        examples.join("audio-uploaded/v1-broken.json"),
        doc.to_string(),
    )
    .unwrap();
    let text = std::fs::read_to_string(ctx.config_path()).unwrap();
    let text = text.replace(
        &format!("{}/examples", repo_root().display()),
        &examples.display().to_string(),
    );
    std::fs::write(ctx.config_path(), text).unwrap();

    ctx.deploy()
        .args(["run", "test-events"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "audio-uploaded/v1-broken.json at /detail/fileId",
        ))
        .stderr(predicate::str::contains("audio-uploaded/v1.json").not());
    assert_eq!(ctx.step_status("test-events"), "failed");
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(ctx.state_dir().join("test-results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(results["passed"], false);
    assert_eq!(results["checks"][0]["name"], "examples valid");
    assert_eq!(results["events"], serde_json::json!([]));
}

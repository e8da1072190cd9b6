//! The stack the `dlq` tests share: the hub with one more route, from the test events' source
//! to a queue the deployment creates (`redrive-inbox`), so that what a redrive re-publishes can
//! be counted where the route delivers it. Dead letters are written as EventBridge writes them
//! (the original event as the body, `RULE_ARN`, `TARGET_ARN`, `ERROR_CODE` and `ERROR_MESSAGE`
//! string attributes), with the dead-letter processor's mapping paused so it does not take them
//! first.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use serde_json::{Value, json};

use crate::support::shared::{Fixture, block_on};
use crate::support::{Kind, TestContext};

/// The source of the test events: matched by the inbox route only (not by the logger's
/// `custom.` prefix, so no function runs for them).
pub const SOURCE: &str = "dlqtest.redrive";
pub const DETAIL_TYPE: &str = "Dlq Test";

const ROUTE: &str = r#"
[routes.redrive-inbox]
description = "The dlq tests' events, to a queue they read"
pattern = '{"source":["dlqtest.redrive"]}'
targets = [{ sqs = "redrive-inbox" }]
"#;

pub struct Stack {
    pub ctx: TestContext,
    pub bus: String,
    pub dlq_url: String,
    pub inbox_url: String,
}

impl Fixture for Stack {
    fn deploy() -> Self {
        let ctx = TestContext::with(Kind::Ministack).config(ROUTE);
        for step in ["infrastructure", "lambdas"] {
            ctx.deploy().args(["run", step]).assert().success();
        }
        let outputs = ctx.state_json()["steps"]["infrastructure"]["outputs"].clone();
        let output = |k: &str| outputs[k].as_str().unwrap().to_string();
        let inbox = format!("{}-redrive-inbox", ctx.environment);
        let inbox_url = block_on(async {
            let sqs = aws_sdk_sqs::Client::new(&ctx.sdk().await);
            let got = sqs.get_queue_url().queue_name(&inbox).send().await;
            got.unwrap().queue_url.unwrap()
        });
        Stack {
            bus: output("event_bus_name"),
            dlq_url: output("dlq_url"),
            inbox_url,
            ctx,
        }
    }

    /// Empty queues, and the processor's mapping enabled.
    fn repair(&self) {
        block_on(async {
            let aws = self.aws().await;
            aws.purge(&self.dlq_url).await;
            aws.purge(&self.inbox_url).await;
            self.set_mapping(true).await;
        });
    }
}

/// Clients of the stack's emulator, made in the caller's runtime.
pub struct Aws {
    pub sqs: aws_sdk_sqs::Client,
}

impl Stack {
    pub async fn aws(&self) -> Aws {
        let sdk = self.ctx.sdk().await;
        Aws {
            sqs: aws_sdk_sqs::Client::new(&sdk),
        }
    }

    /// `deploy dlq ARGS --json` in the stack's project: its exit code and document.
    pub fn dlq_json(&self, args: &[&str]) -> (i32, Value) {
        let mut cmd = self.ctx.deploy();
        let out = cmd.arg("dlq").args(args).arg("--json").output().unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: {e}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), doc)
    }

    /// `deploy dlq ARGS`: its exit code, stdout and stderr.
    pub fn dlq_text(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.ctx.deploy().arg("dlq").args(args).output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
        (
            out.status.code().unwrap(),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    /// The ARN of the stack's rule of the route `key`, as EventBridge puts it in `RULE_ARN`.
    pub fn rule_arn(&self, rule: &str) -> String {
        let env = &self.ctx.environment;
        format!(
            "arn:aws:events:us-east-1:000000000000:rule/{}/{env}-{rule}",
            self.bus
        )
    }

    /// Enables or disables the dead-letter processor's event source mapping.
    pub async fn set_mapping(&self, enabled: bool) {
        self.paused_mapping().set(enabled).await;
    }

    fn paused_mapping(&self) -> Paused {
        Paused {
            endpoint: self.ctx.endpoint.clone().unwrap(),
            function: format!("{}-dead-letter-processor", self.ctx.environment),
        }
    }

    /// Pauses the processor's mapping and empties both queues; the mapping is enabled again
    /// when the value is dropped (also when the test fails).
    pub async fn quiet(&self) -> Paused {
        let paused = self.paused_mapping();
        paused.set(false).await;
        let aws = self.aws().await;
        aws.purge(&self.dlq_url).await;
        aws.purge(&self.inbox_url).await;
        paused
    }
}

/// The dead-letter processor's mapping, paused while the value lives.
pub struct Paused {
    endpoint: String,
    function: String,
}

impl Paused {
    /// Enables or disables it, with clients of its own (made in the caller's runtime).
    async fn set(&self, enabled: bool) {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .load()
            .await;
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        let listed = lambda
            .list_event_source_mappings()
            .function_name(&self.function)
            .send()
            .await
            .unwrap();
        for m in listed.event_source_mappings() {
            lambda
                .update_event_source_mapping()
                .uuid(m.uuid().unwrap())
                .enabled(enabled)
                .send()
                .await
                .unwrap();
        }
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        block_on(self.set(true));
    }
}

/// A test event, `n` of a run tagged `tag`, as a producer published it.
pub fn event(tag: &str, n: usize, detail: Value) -> Value {
    json!({
        "version": "0", "id": format!("{tag}-{n:03}"), "source": SOURCE,
        "detail-type": DETAIL_TYPE, "account": "000000000000",
        "time": "2024-05-01T12:00:00Z", "region": "us-east-1", "resources": [],
        "detail": detail,
    })
}

/// The events' ids.
pub fn ids(events: &[Value]) -> BTreeSet<String> {
    let id = |e: &Value| e["id"].as_str().unwrap().to_string();
    events.iter().map(id).collect()
}

/// The counts of a report: `counts(&doc, ["sent", "refused"])`.
pub fn counts<const N: usize>(doc: &Value, keys: [&str; N]) -> [u64; N] {
    keys.map(|k| doc[k].as_u64().unwrap_or_else(|| panic!("no {k}: {doc:#}")))
}

/// A delivery that failed for throttling.
pub fn throttled(rule_arn: &str) -> Failure<'_> {
    Failure {
        rule_arn,
        error_code: "THROTTLING",
        error_message: "Rate exceeded",
    }
}

/// What EventBridge writes into a target's dead-letter queue with the event.
pub struct Failure<'a> {
    pub rule_arn: &'a str,
    pub error_code: &'a str,
    pub error_message: &'a str,
}

impl Aws {
    /// Writes `events` into the queue as dead letters of `failure`.
    pub async fn dead_letters(&self, url: &str, events: &[Value], failure: &Failure<'_>) {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .unwrap()
        };
        for (c, chunk) in events.chunks(10).enumerate() {
            let entries = chunk.iter().enumerate().map(|(i, e)| {
                SendMessageBatchRequestEntry::builder()
                    .id(format!("{c}-{i}"))
                    .message_body(e.to_string())
                    .message_attributes("RULE_ARN", attr(failure.rule_arn))
                    .message_attributes("TARGET_ARN", attr("arn:aws:sqs:us-east-1:0:gone"))
                    .message_attributes("ERROR_CODE", attr(failure.error_code))
                    .message_attributes("ERROR_MESSAGE", attr(failure.error_message))
                    .build()
                    .unwrap()
            });
            let sent = self
                .sqs
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .unwrap();
            assert!(sent.failed().is_empty(), "{:?}", sent.failed());
        }
    }

    /// (visible, in flight).
    pub async fn depth(&self, url: &str) -> (u64, u64) {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let a = out.attributes().unwrap();
        let n = |k| a.get(&k).unwrap().parse().unwrap();
        (
            n(QueueAttributeName::ApproximateNumberOfMessages),
            n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    pub async fn purge(&self, url: &str) {
        self.sqs.purge_queue().queue_url(url).send().await.unwrap();
    }

    /// The bodies of every visible message, left where they are (received with a visibility
    /// timeout of 0).
    pub async fn peek_bodies(&self, url: &str) -> Vec<Value> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        let bodies = out.messages().iter().filter_map(|m| m.body());
        bodies.map(|b| serde_json::from_str(b).unwrap()).collect()
    }

    /// Takes what arrived in the inbox: the events the route delivered.
    pub async fn take_delivered(&self, url: &str) -> Vec<Value> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let mut got = Vec::new();
        for m in out.messages() {
            got.push(serde_json::from_str(m.body().unwrap()).unwrap());
            let handle = m.receipt_handle().unwrap();
            let deleted = self
                .sqs
                .delete_message()
                .queue_url(url)
                .receipt_handle(handle);
            deleted.send().await.unwrap();
        }
        got
    }

    /// Takes delivered events until every one of `ids` (original event ids) arrived, at most
    /// `timeout`; returns everything taken.
    pub async fn delivered(
        &self,
        url: &str,
        ids: &BTreeSet<String>,
        timeout: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut all = Vec::new();
        loop {
            all.extend(self.take_delivered(url).await);
            let arrived = original_ids(&all);
            if arrived.is_superset(ids) {
                return all;
            }
            let missing: Vec<_> = ids.difference(&arrived).collect();
            assert!(
                Instant::now() < deadline,
                "not delivered within {timeout:?}: {missing:?}"
            );
        }
    }
}

/// The original event ids of re-published events (`detail._replay.originalEventId`).
pub fn original_ids(delivered: &[Value]) -> BTreeSet<String> {
    delivered
        .iter()
        .filter_map(|e| e["detail"]["_replay"]["originalEventId"].as_str())
        .map(str::to_string)
        .collect()
}

/// Checks `check` until it gives a value, at most `timeout` (polling with a deadline).
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "not within {timeout:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

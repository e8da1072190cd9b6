//! The stack `drift.rs` breaks and repairs: `deploy all` once per test process, shared by the
//! tests that break one thing each (one at a time: each holds it alone, and leaves it repaired
//! and healthy), and what they diagnose it with.

use std::time::Duration;

use aws_sdk_eventbridge::Client as Events;

use crate::support::shared::{Fixture, Shared};
use crate::support::{Kind, TestContext, code_and_text};

pub const TIMEOUT: Duration = Duration::from_secs(400);

pub static STACK: Shared<Stack> = Shared::new();

pub struct Stack {
    pub ctx: TestContext,
}

pub struct Clients {
    pub events: Events,
    pub lambda: aws_sdk_lambda::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub iam: aws_sdk_iam::Client,
}

impl Fixture for Stack {
    fn deploy() -> Stack {
        Stack { ctx: deployed() }
    }

    /// `deploy all` repairs whatever a test left broken; then the stack must be healthy.
    fn repair(&self) {
        let (code, text) = self.output(&["all", "--auto-approve"]);
        assert_eq!(code, Some(0), "repairing the shared stack: all\n{text}");
        self.assert_healthy("repairing the shared stack");
    }
}

/// A new project on the process's ministack, deployed with `deploy all`.
pub fn deployed() -> TestContext {
    let ctx = TestContext::with(Kind::Ministack);
    ctx.deploy()
        .args(["all", "--auto-approve"])
        .timeout(TIMEOUT)
        .assert()
        .success();
    ctx
}

impl Stack {
    pub fn env(&self) -> &str {
        &self.ctx.environment
    }

    pub fn bus(&self) -> String {
        format!("{}-application-events", self.env())
    }

    pub fn logger_rule(&self) -> String {
        format!("{}-all-events-to-logger", self.env())
    }

    pub fn logger(&self) -> String {
        format!("{}-event-logger", self.env())
    }

    pub fn dlq(&self) -> String {
        format!("{}-eventbridge-dlq", self.env())
    }

    pub async fn clients(&self) -> Clients {
        let sdk = self.ctx.sdk().await;
        Clients {
            events: Events::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
        }
    }

    /// Exit code, and stdout then stderr.
    pub fn output(&self, cmd: &[&str]) -> (Option<i32>, String) {
        let out = self
            .ctx
            .deploy()
            .args(cmd)
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        code_and_text(&out)
    }

    /// `status --live` exits 0 and says "Healthy" on stdout.
    pub fn assert_healthy(&self, case: &str) {
        let out = self
            .ctx
            .deploy()
            .args(["status", "--live"])
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{case}: healthy after the repair\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("Healthy"),
            "{case}: status --live\n{stdout}"
        );
    }

    /// `status --live` exits 7 naming `what`; `plan` names `step` and `why`; `all` repairs, and
    /// the stack is healthy again.
    pub fn diagnose_and_repair(&self, case: &str, what: &str, step: &str, why: &str) {
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
        self.assert_healthy(case);
    }

    pub async fn rule_state(&self, events: &Events, rule: &str) -> String {
        events
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

    /// The id of the dead-letter processor's (first) event source mapping.
    pub async fn mapping(&self, lambda: &aws_sdk_lambda::Client) -> String {
        let f = format!("{}-dead-letter-processor", self.env());
        let list = lambda
            .list_event_source_mappings()
            .function_name(&f)
            .send()
            .await
            .unwrap();
        list.event_source_mappings()[0].uuid().unwrap().to_string()
    }
}

//! The stack `lambdas.rs` shares: `run infrastructure` then `run lambdas`, once per test process,
//! on a project whose Lambda sources are its own copy (a test edits them), and what the tests
//! look at it with.

use std::path::PathBuf;

use aws_sdk_lambda::types::{LastUpdateStatus, State};

use crate::support::shared::{Fixture, Shared};
use crate::support::{Kind, TestContext, repo_root};

pub static STACK: Shared<Stack> = Shared::new();

pub struct Stack {
    pub ctx: TestContext,
    /// The project's own copy of `lambdas/`.
    pub lambdas: PathBuf,
    pub logger: String,
    pub processor: String,
    pub bus: String,
    pub dlq_arn: String,
    pub logger_rule: String,
    pub logger_rule_arn: String,
    /// The statement id of the logger's invoke permission (on its alias `live`).
    pub sid: String,
}

impl Fixture for Stack {
    fn deploy() -> Stack {
        let (ctx, lambdas) = context_with_own_lambdas();
        ctx.deploy()
            .args(["run", "infrastructure"])
            .assert()
            .success();
        ctx.deploy().args(["run", "lambdas"]).assert().success();
        let env = ctx.environment.clone();
        let logger_rule = format!("{env}-all-events-to-logger");
        let rule_arns: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&output(&ctx, "infrastructure", "rule_arns")).unwrap();
        Stack {
            logger: format!("{env}-event-logger"),
            processor: format!("{env}-dead-letter-processor"),
            bus: output(&ctx, "infrastructure", "event_bus_name"),
            dlq_arn: output(&ctx, "infrastructure", "dlq_arn"),
            logger_rule_arn: rule_arns[&logger_rule].clone(),
            sid: format!("deploy-live-{logger_rule}"),
            logger_rule,
            lambdas,
            ctx,
        }
    }

    /// The repository's code again, and a forced run (which puts back permissions and targets).
    fn repair(&self) {
        crate::support::copy_dir(&repo_root().join("lambdas"), &self.lambdas);
        self.ctx
            .deploy()
            .args(["run", "lambdas", "--force"])
            .assert()
            .success();
    }
}

impl Stack {
    pub async fn clients(&self) -> (aws_sdk_lambda::Client, aws_sdk_eventbridge::Client) {
        let sdk = self.ctx.sdk().await;
        (
            aws_sdk_lambda::Client::new(&sdk),
            aws_sdk_eventbridge::Client::new(&sdk),
        )
    }

    /// The latest log of the `lambdas` step.
    pub fn step_log(&self) -> String {
        std::fs::read_to_string(self.ctx.state_dir().join("logs/lambdas.log")).unwrap()
    }

    /// The ids of the logger rule's targets.
    pub async fn logger_rule_targets(&self, events: &aws_sdk_eventbridge::Client) -> Vec<String> {
        events
            .list_targets_by_rule()
            .rule(&self.logger_rule)
            .event_bus_name(&self.bus)
            .send()
            .await
            .unwrap()
            .targets()
            .iter()
            .map(|t| t.id().to_string())
            .collect()
    }

    /// Still exactly one mapping from the dead-letter queue: every run reuses the existing one.
    pub async fn assert_one_mapping(&self, lambda: &aws_sdk_lambda::Client) {
        let mappings = lambda
            .list_event_source_mappings()
            .function_name(&self.processor)
            .send()
            .await
            .unwrap();
        assert_eq!(mappings.event_source_mappings().len(), 1, "{mappings:?}");
    }
}

/// A project on ministack whose Lambda sources are its own copy (the test edits them).
fn context_with_own_lambdas() -> (TestContext, PathBuf) {
    let ctx = TestContext::with(Kind::Ministack);
    let lambdas = ctx.path().join("lambdas");
    crate::support::copy_dir(&repo_root().join("lambdas"), &lambdas);
    let text = std::fs::read_to_string(ctx.config_path()).unwrap();
    let from = format!("{}/lambdas/", repo_root().display());
    assert!(text.contains(&from));
    let text = text.replace(&from, &format!("{}/", lambdas.display()));
    std::fs::write(ctx.config_path(), text).unwrap();
    (ctx, lambdas)
}

pub fn output(ctx: &TestContext, step: &str, key: &str) -> String {
    ctx.state_json()["steps"][step]["outputs"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no output {key} of {step}"))
        .to_string()
}

pub struct Function {
    pub sha: String,
    pub revision: String,
}

/// A function's code hash and revision, checking that it is Active and its last update
/// succeeded.
pub async fn function(client: &aws_sdk_lambda::Client, name: &str) -> Function {
    let c = client
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .configuration
        .unwrap();
    assert_eq!(c.state(), Some(&State::Active), "{name}");
    assert_eq!(
        c.last_update_status(),
        Some(&LastUpdateStatus::Successful),
        "{name}"
    );
    Function {
        sha: c.code_sha256().unwrap().to_string(),
        revision: c.revision_id().unwrap_or_default().to_string(),
    }
}

/// The source ARN of the invoke permission `sid` of `function`'s alias `live`, checking whom it
/// lets in.
pub async fn permission_source(
    client: &aws_sdk_lambda::Client,
    function: &str,
    sid: &str,
) -> String {
    let policy = client
        .get_policy()
        .function_name(function)
        .qualifier("live")
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let stmt = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {policy}"));
    assert_eq!(stmt["Principal"]["Service"], "events.amazonaws.com");
    assert_eq!(stmt["Action"], "lambda:InvokeFunction");
    stmt["Condition"]["ArnLike"]["AWS:SourceArn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The version the alias `live` of `function` points at.
pub async fn alias_version(client: &aws_sdk_lambda::Client, function: &str) -> String {
    client
        .get_alias()
        .function_name(function)
        .name("live")
        .send()
        .await
        .unwrap()
        .function_version()
        .unwrap()
        .to_string()
}

/// The published versions of `function` (not `$LATEST`).
pub async fn versions(client: &aws_sdk_lambda::Client, function: &str) -> Vec<String> {
    client
        .list_versions_by_function()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .filter_map(|v| v.version().filter(|v| *v != "$LATEST").map(str::to_string))
        .collect()
}

//! The deploy `machine_output.rs` shares: `deploy all --json --outputs-file` as GitHub Actions
//! runs it, whose first apply times out (a stand-in), once per test process; what it printed and
//! wrote is kept, and the tests read it (and the stack it made). Also how the tests read a
//! stream and `$GITHUB_OUTPUT`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::support::shared::{Fixture, Shared};
use crate::support::{Kind, TestContext, repo_root};

pub const TIMEOUT: Duration = Duration::from_secs(400);

pub static CI: Shared<CiDeploy> = Shared::new();

pub struct CiDeploy {
    pub ctx: TestContext,
    _dirs: [tempfile::TempDir; 2],
    /// The exit code of the deploy, its stdout (the stream) and stderr (for people).
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// `$GITHUB_STEP_SUMMARY` and `$GITHUB_OUTPUT` as the deploy left them.
    pub summary: String,
    pub github_output: String,
    /// The `--outputs-file` document.
    pub outputs: Value,
    /// `deploy.toml` as deployed.
    config: String,
}

impl Fixture for CiDeploy {
    fn deploy() -> CiDeploy {
        let counter = tempfile::tempdir().unwrap();
        let gh = tempfile::tempdir().unwrap();
        let summary = gh.path().join("summary.md");
        let github_output = gh.path().join("outputs.txt");
        let outputs_file = gh.path().join("deploy-outputs.json");
        // The first apply fails with a timeout (a stand-in): the stream shows the retry. The
        // product's default retry budget (120 s), so the retry comes whatever init and plan
        // cost under the suite's load (with the harness's 20 s, a loaded machine gave up).
        let ctx = TestContext::with(Kind::Ministack)
            .terraform_binary(&standin("terraform-standin-timeout-once"))
            .retry_seconds(120)
            .env("STANDIN_STATE_DIR", counter.path().to_str().unwrap())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
            .env("GITHUB_OUTPUT", github_output.to_str().unwrap());
        let out = ctx
            .deploy()
            .args(["all", "--auto-approve", "--json", "--outputs-file"])
            .arg(&outputs_file)
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stderr}");
        CiDeploy {
            code: out.status.code().unwrap(),
            stdout: out.stdout,
            stderr,
            summary: std::fs::read_to_string(&summary).unwrap(),
            github_output: std::fs::read_to_string(&github_output).unwrap(),
            outputs: serde_json::from_slice(&std::fs::read(&outputs_file).unwrap()).unwrap(),
            config: std::fs::read_to_string(ctx.config_path()).unwrap(),
            _dirs: [counter, gh],
            ctx,
        }
    }

    /// `deploy.toml` as deployed, and `deploy all` (after a teardown, a deploy again: the same
    /// names, so the same ARNs).
    fn repair(&self) {
        std::fs::write(self.ctx.config_path(), &self.config).unwrap();
        self.ctx
            .deploy()
            .args(["all", "--auto-approve"])
            .timeout(TIMEOUT)
            .assert()
            .success();
    }
}

pub fn standin(name: &str) -> String {
    repo_root()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Every line of `stdout` parsed and validated against docs/events.schema.json.
pub fn stream(stdout: &[u8]) -> Vec<Value> {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("docs/events.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for l in &lines {
        let errors: Vec<String> = validator.iter_errors(l).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{l}\n{errors:?}");
    }
    assert_eq!(lines.first().unwrap()["type"], "version");
    assert_eq!(lines.last().unwrap()["type"], "run_finished");
    let run_ids: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(run_ids.len(), 1, "one run id");
    lines
}

pub fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

/// `$GITHUB_OUTPUT` read the way the runner reads it: `name=value`, or `name<<DELIM` ... `DELIM`.
pub fn github_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some((name, delim)) = l.split_once("<<") {
            let mut value = Vec::new();
            for v in lines.by_ref() {
                if v == delim {
                    break;
                }
                value.push(v);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = l.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

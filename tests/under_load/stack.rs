//! The stack `under_load.rs` shares: the checked-in hub plus routes of its own, one per kind of
//! change, fed by events from the source `load.producer` (which the hub's `custom.` logger route
//! does not match, so what the event-logger logs of them came through these routes only).
//! Deployed with `deploy all` once per test process, with its own copy of `lambdas/` (a test
//! edits the logger's code) and of the contracts (two event types of its own, and an example
//! per route so that `test-events` proves every route of a change before its contraction).
//!
//! The stack remembers the configuration it has deployed ([`Stack::hub`]). Each test changes
//! routes of its own (the `logged` route and the `renamed-inbox` queue, which carry a steady
//! load through several tests, no test changes in a way they notice), so a test starts from
//! what is deployed — the base, plus the changes of the tests before it, none of which touches
//! its routes — and its change, once `deploy all` has made it, is what is deployed from then on:
//! nothing is put back, since no later test needs it, and a deploy to undo each change would
//! double the binary's time. A test that fails half-way leaves the stack to be repaired: the
//! next one redeploys the last configuration known deployed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::support::shared::{Fixture, Shared};
use crate::support::{Kind, TestContext, code_and_text, repo_root};

pub static STACK: Shared<Stack> = Shared::new();

/// The source of every event the tests publish.
pub const SOURCE: &str = "load.producer";
/// The detail type of the events the pattern routes match (by `detail.kind`).
pub const EVENT: &str = "Load Event";
/// The detail type of the events of the route that gets a detail filter.
pub const FILTERED: &str = "Load Filtered";

const TIMEOUT: Duration = Duration::from_secs(600);

/// A pattern matching the load events whose `detail.kind` is one of `kinds`.
pub fn kinds(kinds: &[&str]) -> String {
    let list: Vec<String> = kinds.iter().map(|k| format!("\"{k}\"")).collect();
    format!(
        "pattern = '{{\"source\":[\"{SOURCE}\"],\"detail-type\":[\"{EVENT}\"],\
         \"detail\":{{\"kind\":[{}]}}}}'",
        list.join(",")
    )
}

pub const LOGGER: &str = "targets = [{ lambda = \"event-logger\" }]";

pub fn queue(key: &str) -> String {
    format!("targets = [{{ sqs = \"{key}\" }}]")
}

/// The test routes (key → body) and the logger's memory: what the tests change.
#[derive(Debug, Clone)]
pub struct Hub {
    routes: BTreeMap<String, String>,
    logger_memory: Option<u32>,
}

impl Hub {
    /// The base: one route per kind of change, and two that carry load through every test.
    pub fn base() -> Hub {
        let mut routes = BTreeMap::new();
        let mut add = |k: &str, body: String| routes.insert(k.to_string(), body);
        add(
            "filtered",
            format!("events = [\"load-filtered\"]\n{}", queue("filtered-inbox")),
        );
        add(
            "patterned",
            format!("{}\n{}", kinds(&["p1", "p2"]), queue("patterned-inbox")),
        );
        add(
            "renamed-queue",
            format!("{}\n{}", kinds(&["rq"]), queue("renamed-inbox")),
        );
        add("renamed-function", format!("{}\n{LOGGER}", kinds(&["rf"])));
        add(
            "swapped",
            format!("{}\n{}", kinds(&["sw"]), queue("swapped-inbox")),
        );
        add("moved-from", format!("{}\n{LOGGER}", kinds(&["mv", "mva"])));
        add("moved-to", kinds(&["mv", "mvb"]));
        add("logged", format!("{}\n{LOGGER}", kinds(&["log"])));
        add(
            "removed",
            format!("{}\n{}", kinds(&["rm"]), queue("removed-inbox")),
        );
        Hub {
            routes,
            logger_memory: None,
        }
    }

    /// The route `key` set to `body` (added or replaced).
    pub fn route(mut self, key: &str, body: &str) -> Hub {
        self.routes.insert(key.to_string(), body.to_string());
        self
    }

    pub fn without(mut self, key: &str) -> Hub {
        self.routes.remove(key);
        self
    }

    /// The body of route `key`.
    pub fn body(&self, key: &str) -> String {
        self.routes[key].clone()
    }

    pub fn logger_memory(mut self, mb: u32) -> Hub {
        self.logger_memory = Some(mb);
        self
    }
}

pub struct Stack {
    pub ctx: TestContext,
    /// The project's own copy of `lambdas/`.
    pub lambdas: PathBuf,
    /// `deploy.toml` without the test routes (the checked-in hub included).
    header: String,
    /// What is deployed.
    deployed: Mutex<Hub>,
}

impl Fixture for Stack {
    fn deploy() -> Stack {
        let ctx = TestContext::with(Kind::Ministack).own_contracts();
        add_contracts(ctx.path());
        let lambdas = ctx.path().join("lambdas");
        crate::support::copy_dir(&repo_root().join("lambdas"), &lambdas);
        let text = std::fs::read_to_string(ctx.config_path()).unwrap();
        let from = format!("{}/lambdas/", repo_root().display());
        assert!(text.contains(&from));
        let header = text.replace(&from, &format!("{}/", lambdas.display()));
        let stack = Stack {
            ctx,
            lambdas,
            header,
            deployed: Mutex::new(Hub::base()),
        };
        stack.write_config(&Hub::base());
        let (code, text, _) = stack.deploy_all(&[]);
        assert_eq!(code, Some(0), "the base deploy: {text}");
        stack
    }

    /// The last configuration known deployed, deployed again; messages a failed test left in a
    /// queue it no longer has are discarded.
    fn repair(&self) {
        self.write_config(&self.hub());
        let (code, text, _) = self.deploy_all(&["--discard-messages"]);
        assert_eq!(code, Some(0), "the repair: {text}");
    }
}

impl Stack {
    pub fn env(&self) -> &str {
        &self.ctx.environment
    }

    /// What is deployed.
    pub fn hub(&self) -> Hub {
        self.deployed.lock().unwrap().clone()
    }

    /// `hub` is deployed now.
    pub fn deployed(&self, hub: Hub) {
        *self.deployed.lock().unwrap() = hub;
    }

    pub fn write_config(&self, hub: &Hub) {
        let mut text = self.header.clone();
        if let Some(mb) = hub.logger_memory {
            let table = format!(
                "[lambdas.event-logger]\nsource = \"{}\"\n",
                self.lambdas.join("event-logger").display()
            );
            assert!(text.contains(&table), "{text}");
            text = text.replace(&table, &format!("{table}memory = {mb}\n"));
        }
        text.push_str("\n[tests]\ndelivery_timeout_seconds = 30\n\n");
        text.push_str(&format!(
            "[events.load-event]\nsource = \"{SOURCE}\"\ndetail_type = \"{EVENT}\"\n\n\
             [events.load-filtered]\nsource = \"{SOURCE}\"\ndetail_type = \"{FILTERED}\"\n\n"
        ));
        for (key, body) in &hub.routes {
            text.push_str(&format!("[routes.{key}]\n{body}\n\n"));
        }
        std::fs::write(self.ctx.config_path(), text).unwrap();
    }

    /// `deploy all --auto-approve ARGS`: its exit code, its output, and how long it took.
    pub fn deploy_all(&self, args: &[&str]) -> (Option<i32>, String, Duration) {
        let start = Instant::now();
        let out = self
            .ctx
            .deploy()
            .args(["all", "--auto-approve"])
            .args(args)
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        let took = start.elapsed();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text, took)
    }

    /// `deploy status --live`: its exit code and output.
    pub fn status_live(&self) -> (Option<i32>, String) {
        let out = self
            .ctx
            .deploy()
            .args(["status", "--live"])
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        code_and_text(&out)
    }

    /// What `deploy logs STEP` prints (the step's latest log).
    pub fn step_log(&self, step: &str) -> String {
        let out = self.ctx.deploy().args(["logs", step]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// The deployed name of the queue `key`.
    pub fn queue_name(&self, key: &str) -> String {
        format!("{}-{key}", self.env())
    }

    /// The event-logger's source file, in the project's copy.
    pub fn logger_source(&self) -> PathBuf {
        self.lambdas.join("event-logger/index.mjs")
    }
}

/// The two event types of the tests: their schemas and an example for every route (`v1.json`
/// and `v1-<kind>.json`), so that `test-events` proves each.
fn add_contracts(root: &Path) {
    let schema = |detail_type: &str| {
        serde_json::json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "type": "object",
            "required": ["source", "detail-type", "detail"],
            "properties": {
                "source": {"type": "string", "enum": [SOURCE]},
                "detail-type": {"type": "string", "enum": [detail_type]},
                "detail": {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {"kind": {"type": "string"}, "marker": {"type": "string"}}
                }
            }
        })
    };
    let example = |detail_type: &str, kind: &str| serde_json::json!({"source": SOURCE, "detail-type": detail_type, "detail": {"kind": kind}});
    let write = |rel: &str, v: serde_json::Value| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    };
    write("schemas/load-event/v1.json", schema(EVENT));
    write("schemas/load-filtered/v1.json", schema(FILTERED));
    write("examples/load-filtered/v1.json", example(FILTERED, "big"));
    write("examples/load-event/v1.json", example(EVENT, "log"));
    for kind in ["p2", "rq", "rf", "sw", "mv", "rm", "nw"] {
        write(
            &format!("examples/load-event/v1-{kind}.json"),
            example(EVENT, kind),
        );
    }
}

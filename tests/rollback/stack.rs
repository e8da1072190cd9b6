//! The stack `rollback.rs` shares: the checked-in hub, deployed once per test process with its
//! own copy of `lambdas/` (the tests break the event-logger's code) and the logger's failed
//! asynchronous invocations retried 0 times (so that one reaches the dead-letter queue at once).
//! Each test changes it, has it rolled back (or deploys the fix), and puts the files back; a test
//! that fails half-way leaves it to be repaired: the base configuration deployed again.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::shared::{FileEdit, Fixture, Shared};
use crate::support::{Kind, TestContext, repo_root};

pub static STACK: Shared<Stack> = Shared::new();

const TIMEOUT: Duration = Duration::from_secs(600);

/// The error the broken logger throws.
pub const BROKEN: &str = "rollback-test: broken on purpose";

/// The logger route's pattern, as deployed, and one its examples no longer match.
pub const LOGGER_PATTERN: &str = r#"{"source":[{"prefix":"custom."}]}"#;
pub const UNMATCHED_PATTERN: &str = r#"{"source":[{"prefix":"nomatch."}]}"#;

pub struct Stack {
    pub ctx: TestContext,
    /// The project's own copy of `lambdas/`.
    pub lambdas: PathBuf,
    /// The base `deploy.toml`.
    base: String,
}

impl Fixture for Stack {
    fn deploy() -> Stack {
        let ctx = TestContext::with(Kind::Ministack);
        let lambdas = ctx.path().join("lambdas");
        crate::support::copy_dir(&repo_root().join("lambdas"), &lambdas);
        let text = std::fs::read_to_string(ctx.config_path()).unwrap();
        let from = format!("{}/lambdas/", repo_root().display());
        assert!(text.contains(&from));
        let logger = format!("source = \"{}\"\n", lambdas.join("event-logger").display());
        let mut base = text.replace(&from, &format!("{}/", lambdas.display()));
        assert!(base.contains(&logger), "{base}");
        base = base.replace(&logger, &format!("{logger}async_retry_attempts = 0\n"));
        base.push_str("\n[tests]\ndelivery_timeout_seconds = 25\n");
        let stack = Stack { ctx, lambdas, base };
        stack.repair();
        stack
    }

    fn repair(&self) {
        std::fs::write(self.ctx.config_path(), &self.base).unwrap();
        let (code, text) = self.run(&["all", "--auto-approve", "--discard-messages"]);
        assert_eq!(code, Some(0), "the base deploy: {text}");
    }
}

impl Stack {
    pub fn env(&self) -> &str {
        &self.ctx.environment
    }

    pub fn logger(&self) -> String {
        format!("{}-event-logger", self.env())
    }

    /// `deploy ARGS`: its exit code and its output (stdout, then stderr).
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = self
            .ctx
            .deploy()
            .args(args)
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

    /// The event-logger's code throwing on every event (until the value is dropped).
    pub fn break_logger(&self) -> FileEdit {
        let head = "export const handler = async (event) => {\n";
        FileEdit::new(&self.lambdas.join("event-logger/index.mjs"), |code| {
            assert!(code.contains(head), "{code}");
            code.replace(head, &format!("{head}  throw new Error(\"{BROKEN}\");\n"))
        })
    }

    /// The event-logger's code throwing for events of `detail_type` only (one no example
    /// has, so the verification passes), until the value is dropped.
    pub fn poison_logger(&self, detail_type: &str) -> FileEdit {
        let head = "export const handler = async (event) => {\n";
        FileEdit::new(&self.lambdas.join("event-logger/index.mjs"), |code| {
            assert!(code.contains(head), "{code}");
            let throw = format!(
                "  if (event?.[\"detail-type\"] === \"{detail_type}\") throw new Error(\"{BROKEN}\");\n"
            );
            code.replace(head, &format!("{head}{throw}"))
        })
    }

    /// The event-logger's code changed without breaking it (a new version).
    pub fn touch_logger(&self, note: &str) -> FileEdit {
        FileEdit::new(&self.lambdas.join("event-logger/index.mjs"), |code| {
            format!("{code}\n// {note}\n")
        })
    }

    /// The logger route's pattern changed so that no example matches it.
    pub fn unmatch_logger_route(&self) -> FileEdit {
        let from = format!("pattern = '{LOGGER_PATTERN}'");
        FileEdit::new(&self.ctx.config_path(), |text| {
            assert!(text.contains(&from), "{text}");
            text.replace(&from, &format!("pattern = '{UNMATCHED_PATTERN}'"))
        })
    }

    /// A document kept with the state (`rollback/last-good.json`), if present.
    pub fn document(&self, name: &str) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.ctx.state_dir().join(name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

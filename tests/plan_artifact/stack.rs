//! The deployment the plan-artifact tests share: the default hub on the process's ministack,
//! its state in S3, deployed once. Every command runs in a checkout of its own — a new
//! directory holding a copy of the project (`deploy.toml` with relative paths, the stack, the
//! schemas, the examples, the Lambda sources), as a CI runner's fresh clone does — so what one
//! runner leaves on its disk is never seen by another.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use deploy_state::backend::s3::{S3Backend, S3Settings};
use deploy_state::backend::{Locker, Objects};

use crate::support::shared::{Fixture, Shared};
use crate::support::{Kind, TestContext, repo_root};

pub const TIMEOUT: Duration = Duration::from_secs(400);

pub static STACK: Shared<Stack> = Shared::new();

/// Held by every test for its whole length: one deployment changes at a time (two at once on a
/// small machine make the emulator's deliveries late, and `test-events` fails).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

/// The project's directories a checkout holds (`terraform/` with its provider lock file).
const PROJECT: [&str; 4] = ["terraform", "schemas", "examples", "lambdas"];

/// The route whose rule [`widen`] changes in place.
pub const ROUTE: &str = "document-uploaded-to-ocr";
const NARROW: &str = r#"detail = '{"metadata":{"format":["pdf"]}}'"#;
const WIDE: &str = r#"detail = '{"metadata":{"format":["pdf","docx"]}}'"#;

pub struct Stack {
    /// The project's settings (environment, S3 state, endpoint, credentials); never run itself.
    pub template: TestContext,
}

impl Fixture for Stack {
    fn deploy() -> Stack {
        let stack = Stack {
            template: template(),
        };
        let out = run(&stack.checkout(|_| {}), &["all", "--auto-approve"]);
        assert_eq!(out.status.code(), Some(0), "deploying: {}", text(&out));
        stack
    }

    /// `deploy all` of the project as it is: whatever a test left changed goes back.
    fn repair(&self) {
        let out = run(&self.checkout(|_| {}), &["all", "--auto-approve"]);
        assert_eq!(out.status.code(), Some(0), "repairing: {}", text(&out));
    }
}

/// A project of its own on the process's ministack, its state in an S3 bucket of its own, and
/// credentials no other test uses (so that the artifact can be searched for them).
pub fn template() -> TestContext {
    let ctx = TestContext::with(Kind::Ministack);
    let bucket = format!("{}-state", ctx.environment);
    let unique = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    ctx.config(&format!(
        "[state]\nbucket = \"{bucket}\"\nlock_lease_seconds = 3\n"
    ))
    .env("AWS_SECRET_ACCESS_KEY", &format!("secret{unique}"))
    .env("AWS_SESSION_TOKEN", &format!("token{unique}"))
}

impl Stack {
    /// A fresh checkout of the project, `edit` applied to it (a commit on the branch).
    pub fn checkout(&self, edit: impl FnOnce(&Path)) -> TestContext {
        checkout(self.template.fresh_copy(), edit)
    }

    pub fn rule(&self) -> String {
        format!("{}-{ROUTE}", self.template.environment)
    }
}

/// `ctx`'s directory made a checkout of the project: its files copied in, `deploy.toml` naming
/// them by relative paths (so that it is the same file in every checkout), then `edit` applied.
pub fn checkout(ctx: TestContext, edit: impl FnOnce(&Path)) -> TestContext {
    let root = repo_root();
    for dir in PROJECT {
        for entry in walkdir::WalkDir::new(root.join(dir)) {
            let entry = entry.unwrap();
            let rel = entry.path().strip_prefix(&root).unwrap();
            let to = ctx.path().join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&to).unwrap();
            } else {
                std::fs::copy(entry.path(), &to).unwrap();
            }
        }
    }
    assert_eq!(
        ctx.contracts_root, root,
        "a checkout copies the repository's"
    );
    edit_file(&ctx.config_path(), |config| {
        PROJECT.iter().fold(config.to_string(), |t, dir| {
            t.replace(&format!("\"{}/{dir}", root.display()), &format!("\"{dir}"))
        })
    });
    edit(ctx.path());
    ctx
}

/// The change the tests plan: the OCR route also takes `.docx` documents (its rule's pattern is
/// updated in place; the examples still match it).
pub fn widen(dir: &Path) {
    edit_file(&dir.join("deploy.toml"), |t| {
        assert!(t.contains(NARROW), "the route is in the hub");
        t.replace(NARROW, WIDE)
    });
}

/// Another change: a new route (a rule of its own, no target).
pub fn add_route(dir: &Path) {
    edit_file(&dir.join("deploy.toml"), |t| {
        format!("{t}\n[routes.{ADDED}]\nevents = [\"user-registered\"]\n")
    });
}

const ADDED: &str = "users-to-audit";

/// The rule [`add_route`] adds.
pub fn added_rule(ctx: &TestContext) -> String {
    format!("{}-{ADDED}", ctx.environment)
}

/// Replaces the text of `path` with `change(old text)`.
pub fn edit_file(path: &Path, change: impl FnOnce(&str) -> String) {
    let old = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, change(&old)).unwrap();
}

/// Runs `deploy ARGS` in `ctx`'s checkout.
pub fn run(ctx: &TestContext, args: &[&str]) -> Output {
    ctx.deploy().args(args).timeout(TIMEOUT).output().unwrap()
}

/// stdout and stderr, for a failure message.
pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `deploy plan --out FILE` in `ctx`'s checkout; FILE is in `into` (the artifact store a CI
/// workflow uploads to and downloads from).
pub fn plan(ctx: &TestContext, into: &Path, name: &str) -> std::path::PathBuf {
    let file = into.join(name);
    let out = run(ctx, &["plan", "--out", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "plan --out: {}", text(&out));
    file
}

/// `deploy all --plan FILE --auto-approve` in `ctx`'s checkout, FILE first copied into it (as a
/// job downloads an artifact).
pub fn apply(ctx: &TestContext, file: &Path) -> Output {
    let local = ctx.path().join("reviewed.plan");
    std::fs::copy(file, &local).unwrap();
    let local = local.to_str().unwrap();
    run(ctx, &["all", "--plan", local, "--auto-approve"])
}

/// `apply`, refused as stale (exit 10) naming `cause`, and naming the command to plan again.
pub fn assert_refused(out: &Output, cause: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(10),
        "refused as stale: {}",
        text(out)
    );
    assert!(err.contains(cause), "names `{cause}`: {}", text(out));
    assert!(err.contains("nothing was changed"), "{}", text(out));
    assert!(err.contains("deploy plan --out"), "{}", text(out));
    assert!(!err.contains("panicked"), "{}", text(out));
}

/// The deployment's state in S3, read by the test itself.
pub async fn state(ctx: &TestContext) -> Arc<S3Backend> {
    let settings = S3Settings {
        bucket: bucket(ctx),
        prefix: format!("{}/{}/", ctx.project, ctx.environment),
        region: ctx.region.clone(),
        kms_key_id: None,
        lease: Duration::from_secs(60),
        local_dir: tempfile::tempdir().unwrap().keep(),
        emulator: true,
    };
    Arc::new(S3Backend::connect(settings, &ctx.sdk().await))
}

/// The state bucket `[state]` names.
fn bucket(ctx: &TestContext) -> String {
    let line = ctx
        .extra_config
        .lines()
        .find(|l| l.starts_with("bucket = "));
    let line = line.expect("[state] bucket");
    line.trim_start_matches("bucket = \"")
        .trim_end_matches('"')
        .to_string()
}

/// `state.json` as stored (bytes and serial), or `None`; and whether a run holds the lock.
pub async fn ledger(ctx: &TestContext) -> (Option<(Vec<u8>, u64)>, bool) {
    let s3 = state(ctx).await;
    let stored = s3.read("state.json").await.unwrap().map(|o| {
        let doc: serde_json::Value = serde_json::from_slice(&o.bytes).unwrap();
        let serial = doc["serial"].as_u64().unwrap();
        (o.bytes, serial)
    });
    (stored, s3.holder().await.unwrap().is_some())
}

/// The serial of the deployment's `state.json`.
pub async fn serial(ctx: &TestContext) -> u64 {
    ledger(ctx).await.0.expect("a state").1
}

/// Every object of the state bucket (every deployment's), by key, with its ETag.
pub async fn objects(ctx: &TestContext) -> std::collections::BTreeMap<String, String> {
    let config = aws_sdk_s3::config::Builder::from(&ctx.sdk().await)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket(ctx))
        .into_paginator()
        .send();
    let mut out = std::collections::BTreeMap::new();
    while let Some(page) = pages.next().await {
        for o in page.unwrap().contents() {
            let key = o.key().unwrap_or_default().to_string();
            out.insert(key, o.e_tag().unwrap_or_default().to_string());
        }
    }
    out
}

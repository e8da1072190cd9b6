//! The test harness shared by the end-to-end tests: a temporary project with its own
//! `deploy.toml` and ledger, a unique environment name (so tests sharing one emulator never see
//! each other's resources), and the real `deploy` binary.

#![allow(dead_code)]

pub mod aws;
pub mod emulator;
pub mod faults;
pub mod gate;
pub mod shared;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use assert_cmd::Command;
pub use emulator::Kind;

pub struct TestContext {
    pub dir: tempfile::TempDir,
    pub environment: String,
    pub project: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub extra_config: String,
    pub terraform_binary: Option<String>,
    /// Where `schemas/` and `examples/` are: the repository's, or a copy of the test's own.
    pub contracts_root: PathBuf,
    /// `[retry] max_elapsed_seconds`: short, so that a test of a failure does not wait long.
    pub retry_seconds: u32,
    env: Vec<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A finished command's exit code, and its stdout then stderr as one text.
pub fn code_and_text(out: &std::process::Output) -> (Option<i32>, String) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// A copy of the directory `from` (files and subdirectories) at `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A unique, valid environment name: `t<pid><n>`.
pub fn unique_environment() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("t{}x{n}", std::process::id() % 100_000)
}

impl TestContext {
    /// A project with no emulator: for tests that never reach AWS.
    pub fn offline() -> Self {
        Self::build(None)
    }

    /// A project whose AWS endpoint is this process's shared emulator of `kind`.
    pub fn with(kind: Kind) -> Self {
        Self::build(Some(emulator::shared(kind).endpoint.clone()))
    }

    fn build(endpoint: Option<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ctx = TestContext {
            dir,
            environment: unique_environment(),
            project: "hub".into(),
            region: "us-east-1".into(),
            endpoint,
            extra_config: String::new(),
            terraform_binary: None,
            contracts_root: repo_root(),
            retry_seconds: 20,
            env: vec![
                ("AWS_ACCESS_KEY_ID".into(), "test".into()),
                ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
                ("AWS_REGION".into(), "us-east-1".into()),
            ],
        };
        ctx.write_config();
        ctx
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The local state root: one directory per deployment, and per-machine records.
    pub fn state_root(&self) -> PathBuf {
        self.path().join(".deployment-state")
    }

    /// This deployment's ledger directory (local backend).
    pub fn state_dir(&self) -> PathBuf {
        self.state_root().join(self.slug())
    }

    /// `<project>-<environment>-<region>`.
    pub fn slug(&self) -> String {
        format!("{}-{}-{}", self.project, self.environment, self.region)
    }

    /// A ledger of this deployment's identity, opened and locked by the test itself.
    pub async fn lock_ledger(&self, command: &str) -> deploy_state::Ledger {
        let backend = std::sync::Arc::new(deploy_state::backend::local::LocalBackend::new(
            self.state_dir(),
        ));
        let id = deploy_state::DeploymentId::new(&self.project, &self.environment, &self.region);
        deploy_state::Ledger::open_locked(
            backend,
            &deploy_state::LockHolder::current(command),
            None,
            &id,
            deploy_state::OnCorrupt::Refuse,
        )
        .await
        .unwrap()
        .0
    }

    /// The emulator record `--local` keeps on this machine.
    pub fn emulator_json(&self) -> serde_json::Value {
        std::fs::read(self.state_root().join("emulator.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("deploy.toml")
    }

    /// Replaces what `config` appended, and rewrites the file.
    pub fn replace_config(mut self, extra: &str) -> Self {
        self.extra_config = format!("{extra}\n");
        self.write_config();
        self
    }

    /// Appends TOML to the generated configuration.
    pub fn config(mut self, extra: &str) -> Self {
        self.extra_config.push_str(extra);
        self.extra_config.push('\n');
        self.write_config();
        self
    }

    /// Schemas and examples of the test's own: a copy of the repository's in the project
    /// directory, which the test may then change.
    pub fn own_contracts(mut self) -> Self {
        for dir in ["schemas", "examples"] {
            for entry in walkdir::WalkDir::new(repo_root().join(dir)) {
                let entry = entry.unwrap();
                let rel = entry.path().strip_prefix(repo_root()).unwrap();
                let to = self.path().join(rel);
                if entry.file_type().is_dir() {
                    std::fs::create_dir_all(&to).unwrap();
                } else {
                    std::fs::copy(entry.path(), &to).unwrap();
                }
            }
        }
        self.contracts_root = self.path().to_path_buf();
        self.write_config();
        self
    }

    /// Another checkout of the same project: a new directory (no `.deployment-state`) with the
    /// same configuration, environment, credentials and endpoint; the real terraform.
    pub fn fresh_copy(&self) -> TestContext {
        let ctx = TestContext {
            dir: tempfile::tempdir().unwrap(),
            environment: self.environment.clone(),
            project: self.project.clone(),
            region: self.region.clone(),
            endpoint: self.endpoint.clone(),
            extra_config: self.extra_config.clone(),
            contracts_root: self.contracts_root.clone(),
            retry_seconds: self.retry_seconds,
            terraform_binary: None,
            env: self
                .env
                .iter()
                .filter(|(k, _)| !k.starts_with("STANDIN_"))
                .cloned()
                .collect(),
        };
        ctx.write_config();
        ctx
    }

    pub fn project_name(&self) -> String {
        self.project.clone()
    }

    /// `[project] name`.
    pub fn project(mut self, name: &str) -> Self {
        self.project = name.to_string();
        self.write_config();
        self
    }

    /// `[project] region`.
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_string();
        self.write_config();
        self
    }

    /// `[terraform] binary` (a stand-in script, or a path that does not exist).
    pub fn terraform_binary(mut self, path: &str) -> Self {
        self.terraform_binary = Some(path.to_string());
        self.write_config();
        self
    }

    /// `[retry] max_elapsed_seconds` (20 unless set): the budget counts from a step's start, so a
    /// test that needs a second attempt after a slow first one (init and plan under load) sets
    /// more.
    pub fn retry_seconds(mut self, seconds: u32) -> Self {
        self.retry_seconds = seconds;
        self.write_config();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }

    /// The value this context gives `key` in every command's environment.
    pub fn env_value(&self, key: &str) -> String {
        let found = self.env.iter().find(|(k, _)| k == key);
        found.map(|(_, v)| v.clone()).unwrap_or_default()
    }

    pub fn remove_env(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    pub fn write_config(&self) {
        let root = repo_root();
        let mut text = format!(
            "[project]\nname = \"{project}\"\nenvironment = \"{}\"\nregion = \"{region}\"\n\n\
             [retry]\ninitial_delay_ms = 50\nmax_delay_seconds = 1\nmax_elapsed_seconds = {retry}\n\n\
             [schemas]\nregistry = false\ndir = \"{contracts}/schemas\"\nexamples_dir = \"{contracts}/examples\"\n\n\
             [terraform]\ndir = \"{root}/terraform\"\n{binary}\n\
             [lambdas.event-logger]\nsource = \"{root}/lambdas/event-logger\"\n\n\
             [lambdas.dead-letter-processor]\nsource = \"{root}/lambdas/dead-letter-processor\"\n\n",
            self.environment,
            project = self.project,
            region = self.region,
            retry = self.retry_seconds,
            root = root.display(),
            contracts = self.contracts_root.display(),
            binary = self
                .terraform_binary
                .as_ref()
                .map(|b| format!("binary = \"{b}\"\n"))
                .unwrap_or_default(),
        );
        if let Some(e) = &self.endpoint {
            text.push_str(&format!("[aws]\nendpoint_url = \"{e}\"\n\n"));
        }
        text.push_str(&self.extra_config);
        // The checked-in hub, as a project made by `deploy init` has it.
        text.push('\n');
        text.push_str(deploy_config::starter_hub());
        std::fs::write(self.config_path(), text).unwrap();
    }

    /// `deploy all --auto-approve` with `extra` arguments, to its end: exit code and output.
    pub fn deploy_all(&self, extra: &[&str]) -> (Option<i32>, String) {
        let out = self
            .deploy()
            .args(["all", "--auto-approve"])
            .args(extra)
            .timeout(std::time::Duration::from_secs(600))
            .output()
            .unwrap();
        code_and_text(&out)
    }

    /// The real binary, run in the project directory with a clean environment.
    pub fn deploy(&self) -> Command {
        Command::from_std(self.std_command())
    }

    /// The same, as a plain `std::process::Command` (to spawn and signal it).
    pub fn std_command(&self) -> std::process::Command {
        self.command_of(&assert_cmd::cargo::cargo_bin("deploy"))
    }

    /// Another `deploy` binary (an older release), run the same way.
    pub fn command_of(&self, program: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        cmd.current_dir(self.path());
        for var in [
            "DEPLOY_ENVIRONMENT",
            "DEPLOY_REGION",
            "DEPLOY_CONFIG",
            "DEPLOY_STATE_DIR",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn state_json(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state_dir().join("state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    pub fn step_status(&self, step: &str) -> String {
        self.state_json()["steps"][step]["status"]
            .as_str()
            .unwrap_or("not_started")
            .to_string()
    }

    /// The SDK configuration for this context's emulator.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        let endpoint = self.endpoint.clone().expect("an emulator-backed context");
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(self.region.clone()))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "test", "test", None, None, "tests",
            ))
            .load()
            .await
    }
}

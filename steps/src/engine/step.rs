//! The `Step` trait and what a running step can reach.

use std::collections::BTreeMap;

use async_trait::async_trait;
use deploy_config::Config;
use deploy_state::{Fingerprint, Ledger, LedgerState, Level, Resource, ResourceKind, StepLog};

use super::error::StepError;
use super::events::{Event, Reporter};
use crate::env::Env;

/// What a live check found for a completed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    /// The step has nothing to check, or could not check (offline): believe the ledger.
    Unknown,
    Healthy,
    /// Resources the step made that are gone.
    Missing(Vec<String>),
    /// Resources the step made that no longer look the way it made them (how, each).
    Drifted(Vec<String>),
    /// What the step is there to remove still exists (a teardown step that completed before a
    /// later deploy made it again).
    Pending(Vec<String>),
}

#[async_trait]
pub trait Step: Send + Sync {
    /// The name used on the command line and in the ledger, e.g. `infrastructure`.
    fn name(&self) -> &'static str;
    /// The old script number accepted as an alias, e.g. `020`.
    fn number(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// Whether a failure stops the pipeline.
    fn critical(&self) -> bool;
    /// Digest of everything that, when changed, means the step must run again.
    /// `state` is the ledger as it is now (the outputs earlier steps recorded).
    async fn fingerprint(&self, env: &Env, state: &LedgerState) -> Result<Fingerprint, StepError>;
    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError>;
    /// Whether what this step made still exists (used before skipping a completed step).
    async fn live_check(&self, _env: &Env, _state: &LedgerState) -> Live {
        Live::Unknown
    }
    /// What running the step would change, for a person to approve (Terraform's plan): one
    /// line each. `None` when the step has nothing to show.
    async fn preview(&self, _env: &Env) -> Option<Vec<String>> {
        None
    }

    /// Called after the step was interrupted, to remove temporary resources it made.
    async fn cleanup_after_interrupt(&self, _ctx: &mut StepContext<'_>) {}
}

/// Everything a running step may use: configuration and AWS (through `env`), the ledger, its
/// own log, and the output sink.
pub struct StepContext<'a> {
    pub env: &'a Env,
    pub(crate) ledger: &'a mut Ledger,
    pub(crate) reporter: &'a dyn Reporter,
    pub(crate) step: &'static str,
    pub(crate) log: StepLog,
    pub(crate) outputs: BTreeMap<String, String>,
    pub(crate) summary: Option<String>,
    pub attempt: u32,
}

impl<'a> StepContext<'a> {
    pub fn new(
        env: &'a Env,
        ledger: &'a mut Ledger,
        reporter: &'a dyn Reporter,
        step: &'static str,
        log: StepLog,
        attempt: u32,
    ) -> Self {
        StepContext {
            env,
            ledger,
            reporter,
            step,
            log,
            outputs: BTreeMap::new(),
            summary: None,
            attempt,
        }
    }

    pub fn config(&self) -> &Config {
        &self.env.config
    }

    pub fn step_name(&self) -> &'static str {
        self.step
    }

    /// A line in the step log, also shown as progress.
    pub fn info(&mut self, message: &str) {
        self.log.line(Level::Info, message);
        self.reporter.event(Event::Progress {
            step: self.step,
            message,
        });
    }

    /// A block of text for the operator (a table), also in the step log.
    pub fn print(&mut self, text: &str) {
        self.log.raw(text.as_bytes());
        self.log.raw(b"\n");
        self.reporter.event(Event::Output {
            step: self.step,
            text,
        });
    }

    /// The one line that sums the step up once it completes (`16 added, 0 changed, 0
    /// destroyed`, `code unchanged`): shown after `Completed`, kept as the step's note.
    pub fn summary(&mut self, line: impl Into<String>) {
        self.summary = Some(line.into());
    }

    /// A resource being changed (a Terraform hook, or an SDK create): the step log and the
    /// progress events (a line each when the output is not a terminal, NDJSON with `--json`).
    pub fn resource(&mut self, address: &str, action: &str, phase: &str, elapsed: Option<u64>) {
        let when = elapsed.map(|s| format!(" after {s}s")).unwrap_or_default();
        self.log
            .line(Level::Info, &format!("{address}: {action} {phase}{when}"));
        self.reporter.event(Event::Resource {
            step: self.step,
            address,
            action,
            phase,
            elapsed_seconds: elapsed,
        });
    }

    /// A line in the step log only (detail nobody needs on the terminal).
    pub fn detail(&mut self, message: &str) {
        self.log.line(Level::Info, message);
    }

    /// Raw bytes (a subprocess's output) into the step log.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.log.raw(bytes);
    }

    /// A warning: step log, `warnings.log`, and the terminal.
    pub async fn warn(&mut self, message: &str) {
        self.log.line(Level::Warn, message);
        self.ledger.log(Level::Warn, Some(self.step), message).await;
        self.reporter.event(Event::Warning {
            step: self.step,
            message,
        });
    }

    /// An output of this step, kept in the ledger when it completes.
    pub fn output(&mut self, key: &str, value: impl Into<String>) {
        self.outputs.insert(key.to_string(), value.into());
    }

    /// The outputs an earlier step recorded.
    pub fn outputs_of(&self, step: &str) -> BTreeMap<String, String> {
        self.ledger.step(step).outputs
    }

    pub fn state(&self) -> &LedgerState {
        self.ledger.state()
    }

    /// Records a resource this step created (and so this deployment owns).
    pub async fn record(&mut self, mut resource: Resource) -> Result<(), StepError> {
        resource.created_by = self.step.to_string();
        self.detail(&format!("owned: {} {}", resource.kind, resource.name));
        Ok(self.ledger.record_resource(resource).await?)
    }

    /// Records several resources with one write of the ledger.
    pub async fn record_all(&mut self, resources: Vec<Resource>) -> Result<(), StepError> {
        let mut mine = Vec::with_capacity(resources.len());
        for mut r in resources {
            r.created_by = self.step.to_string();
            self.detail(&format!("owned: {} {}", r.kind, r.name));
            mine.push(r);
        }
        Ok(self.ledger.record_resources(mine).await?)
    }

    /// Forgets each of `resources` exactly (a target on its rule only) with one write of the
    /// ledger.
    pub async fn forget_all(&mut self, resources: &[Resource]) -> Result<(), StepError> {
        Ok(self.ledger.forget_all(resources).await?)
    }

    pub async fn forget(&mut self, kind: ResourceKind, name: &str) -> Result<(), StepError> {
        Ok(self.ledger.forget_resource(kind, name).await?)
    }

    /// Forgets exactly `r` (a target on its rule only).
    pub async fn forget_exactly(&mut self, r: &Resource) -> Result<(), StepError> {
        Ok(self.ledger.forget(r).await?)
    }

    pub fn ledger_mut(&mut self) -> &mut Ledger {
        self.ledger
    }
}

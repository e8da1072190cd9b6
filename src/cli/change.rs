//! The arguments of the commands that change a deployment: `all`, `destroy`, `rollback`, and
//! what they may lose or replace.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::global::Global;
use crate::durations::parse_duration;

#[derive(Debug, Args)]
pub struct AllArgs {
    /// Do not ask before each step (required without a terminal).
    #[arg(long, short = 'y')]
    pub auto_approve: bool,
    /// Forget the ledger's step records first (the audit log is kept).
    #[arg(long)]
    pub fresh_start: bool,
    /// Do not run the preflight checks (marked skipped).
    #[arg(long)]
    pub skip_preflight: bool,
    /// Start at this step.
    #[arg(long, value_name = "STEP")]
    pub from: Option<String>,
    /// Run only this step.
    #[arg(long, value_name = "STEP", conflicts_with = "from")]
    pub only: Option<String>,
    /// Stream machine-readable events (NDJSON, see docs/events.schema.json) on stdout; human
    /// text goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// After a successful run, write the deployment's outputs (ARNs, names, URLs) to PATH as
    /// JSON.
    #[arg(long, value_name = "PATH")]
    pub outputs_file: Option<PathBuf>,
    /// When the change fails its verification (`test-events`), keep the failed state for
    /// debugging (exit 1) instead of returning to the last good deployment (exit 11).
    #[arg(long)]
    pub no_rollback: bool,
    /// Apply exactly the plan artifact FILE (`deploy plan --out FILE`), or refuse with exit 10
    /// naming what changed since it was made.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "only", "fresh_start"])]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub _global: Global,
}

/// What a run that deletes queues may do about their messages (the default: lose none).
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct QueueConsentArgs {
    /// Wait up to this long for a queue that would be deleted to be read empty (`30s`, `5m`).
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub drain_timeout: Duration,
    /// Delete queues that hold messages anyway (the audit log records how many messages went).
    #[arg(long)]
    pub discard_messages: bool,
}

/// What a change may lose or replace.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct ChangeArgs {
    #[command(flatten)]
    pub queues: QueueConsentArgs,
    /// Let Terraform replace resources (a bus renamed, a rule moved to another bus: events
    /// published meanwhile are lost) under --auto-approve.
    #[arg(long)]
    pub allow_replace: bool,
}

impl ChangeArgs {
    /// The consent the steps see; an operator who approves the plan shown consents to its
    /// replacements.
    pub fn consent(&self, prompted: bool) -> deploy_steps::change::Consent {
        deploy_steps::change::Consent {
            allow_replace: self.allow_replace || prompted,
            ..self.queues.consent()
        }
    }
}

impl QueueConsentArgs {
    pub fn consent(&self) -> deploy_steps::change::Consent {
        deploy_steps::change::Consent {
            drain_timeout: self.drain_timeout,
            discard_messages: self.discard_messages,
            allow_replace: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Phase {
    Pre,
    Infra,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Do not ask for the environment name.
    #[arg(long, short = 'y')]
    pub auto_approve: bool,
    /// Run one phase only.
    #[arg(long, value_enum, conflicts_with = "discover")]
    pub phase: Option<Phase>,
    /// No state for this deployment: remove everything that carries its ownership tags (and
    /// nothing else), in the order AWS enforces.
    #[arg(long)]
    pub discover: bool,
    /// Stream machine-readable events (NDJSON) on stdout; human text goes to stderr.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub queues: QueueConsentArgs,
    #[command(flatten)]
    pub _global: Global,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub auto_approve: bool,
    /// Stream machine-readable events (NDJSON) on stdout; human text goes to stderr.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub queues: QueueConsentArgs,
    #[command(flatten)]
    pub _global: Global,
}

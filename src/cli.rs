//! The command line: clap definitions only.
//!
//! Each command flattens the groups of global flags it uses, and the others as `Ignored` (see
//! [`global`]); their values are read in one place, [`Cli::global`], whatever the command.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::{SignedDuration, Timestamp};

use crate::durations::{lookback, parse_duration, time};

mod change;
mod dlq;
mod global;
mod plan;
#[cfg(test)]
mod tests;

pub use change::{AllArgs, ChangeArgs, DestroyArgs, Phase, RollbackArgs};
pub use dlq::{DlqAction, DlqArgs};
pub use plan::{PlanArgs, PlanFormat, ShowPlanArgs};

pub use global::{ColorChoice, Global, for_completions};
use global::{Ignored, NoLock, NoState, Offline};

pub const EXIT_CODES: &str = "\
Exit codes:
  0    success (`status --live`: healthy; `plan --detailed-exitcode`: nothing would run)
  1    a step failed (`dlq`: an event not re-published, a message not deleted)
  2    usage or configuration error
  3    the deployment is locked by another run
  4    nothing is deployed (`status --live`, `outputs`, `logs`, `dlq`, `rollback`)
  5    no state for this deployment here, but resources with its names exist
  6    some live checks could not be made (`status --live`: unknown)
  7    drifted or degraded (`status --live`)
  8    changes pending (`plan --detailed-exitcode`)
  9    a queue that would be deleted holds messages (nothing of that phase deleted)
  10   the plan artifact is stale (`all --plan`): nothing was changed
  11   rolled back (`all`): the change failed its verification (the checks are named); the
       last good deployment is live again and verified
  130  interrupted (Ctrl-C / SIGTERM)";

#[derive(Debug, Parser)]
#[command(
    name = "deploy",
    version,
    about = "Deploys, verifies and tears down the EventBridge hub stack as checkpointed steps",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write deploy.toml: interactively, or with --defaults.
    Init(InitArgs),
    /// Run the deploy pipeline: preflight, iam, infrastructure, lambdas, test-events, contract; a
    /// change that fails its verification is rolled back to the last good deployment (exit 11).
    All(AllArgs),
    /// Run one step (by name or old number), honouring the ledger unless --force.
    Run(RunArgs),
    /// Show which steps would run, and why; with --out, write a plan artifact that `deploy all
    /// --plan` applies exactly (or refuses when it is stale).
    Plan(PlanArgs),
    /// Show what a plan artifact holds (`deploy plan --out FILE`).
    ShowPlan(ShowPlanArgs),
    /// Show what ran, when, what failed, and what to do next.
    Status(StatusArgs),
    /// Tear down what this deployment owns: pre-destroy, then destroy.
    Destroy(DestroyArgs),
    /// Rebuild a lost state from the ownership tags: import what Terraform manages, record the
    /// rest, and deploy, so that the next `deploy all` has nothing to do.
    Adopt(AdoptArgs),
    /// Forget one step's record (or all of them); logs and the audit log are kept.
    Reset(ResetArgs),
    /// Print the latest log of a step.
    Logs(LogsArgs),
    /// Manage the local emulator that `--local` started.
    Emulator(EmulatorArgs),
    /// Where this deployment's state lives: create the S3 bucket, or move the state.
    State(StateArgs),
    /// Print the deployment's outputs (bus, rules, archive, queue, functions, roles) from its
    /// state, without calling AWS; one value raw with NAME.
    Outputs(OutputsArgs),
    /// Print a shell completion script (`deploy completions bash > /etc/bash_completion.d/deploy`).
    Completions(CompletionsArgs),
    /// Event contracts: check every event type's schema versions for compatibility (no AWS).
    Contracts(ContractsArgs),
    /// Replay archived events into the bus, wait until the replay completes, and report how many
    /// events it replayed.
    Replay(ReplayArgs),
    /// The dead-letter queue: look at it without consuming it, export it to a file, or
    /// re-publish its events to their bus.
    Dlq(DlqArgs),
    /// Return to the last good deployment (the last `deploy all` whose verification passed):
    /// aliases back, Terraform's inputs applied again, what was added since removed; verified.
    Rollback(RollbackArgs),
    /// Remove the run lock whoever holds it (a runner that died, when its lease is too long to
    /// wait for). Refused without --force.
    Unlock(UnlockArgs),
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub action: StateAction,
    #[command(flatten)]
    pub _global: Global,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    Local,
    S3,
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Create the state bucket (versioned, encrypted, private, TLS only) if it does not exist,
    /// or check it: for people who prepare accounts before CI runs.
    Bootstrap,
    /// Move this deployment's state (ledger, audit log, logs, Terraform state) to the other
    /// backend, without redeploying.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The backend to move the state to.
    #[arg(long, value_enum)]
    pub to: BackendKind,
}

#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// One output, printed raw (for `$(deploy outputs bus_arn)`); maps print as JSON.
    pub name: Option<String>,
    /// Every output as one JSON document.
    #[arg(long, conflicts_with = "name")]
    pub json: bool,
    // It never takes the lock.
    #[command(flatten)]
    pub _global: NoLock,
}

#[derive(Debug, Args)]
pub struct ContractsArgs {
    #[command(subcommand)]
    pub action: ContractsAction,
    // Reads the local ledger only (with S3 state the shipped versions are "unknown here").
    #[command(flatten)]
    pub _global: Offline,
}

#[derive(Debug, Subcommand)]
pub enum ContractsAction {
    /// Compare each new schema version with the earlier ones under its event type's mode, and
    /// check the versions this deployment shipped are unchanged. Exit 2 on a breaking change.
    Check(ContractsCheckArgs),
}

#[derive(Debug, Args)]
pub struct ContractsCheckArgs {
    /// The report as one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Replay events archived this long ago and since (`10m`, `2h`, `1d`).
    #[arg(long, value_parser = lookback)]
    pub since: SignedDuration,
    /// Replay events archived up to this time (RFC 3339, e.g. `2026-11-25T12:00:00Z`); now when
    /// absent.
    #[arg(long, value_parser = time)]
    pub until: Option<Timestamp>,
    /// Only events of this event type (a key of `[events]`).
    #[arg(long)]
    pub event: Option<String>,
    /// Give up waiting for the replay after this long (it keeps running in the service).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub _global: Global,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, elvish, fish, powershell or zsh.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
    // Prints a script: no global flag changes it.
    #[command(flatten)]
    pub _global: Ignored<Global>,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// Really remove it: a run still going would lose its lock (it stops at its next write).
    #[arg(long)]
    pub force: bool,
    // It never takes the lock.
    #[command(flatten)]
    pub _global: NoLock,
}

impl Command {
    /// Whether the command streams NDJSON on stdout (`--json` of a long-running command).
    pub fn json_stream(&self) -> bool {
        match self {
            Command::All(a) => a.json,
            Command::Run(a) => a.json,
            Command::Destroy(a) => a.json,
            Command::Adopt(a) => a.json,
            Command::Rollback(a) => a.json,
            _ => false,
        }
    }

    /// `deploy all`, `deploy destroy`...: the title of a run (GitHub summary).
    pub fn title(&self) -> String {
        let name = match self {
            Command::Init(_) => "init",
            Command::All(_) => "all",
            Command::Run(a) => return format!("deploy run {}", a.step),
            Command::Plan(_) => "plan",
            Command::ShowPlan(_) => "show-plan",
            Command::Status(_) => "status",
            Command::Destroy(_) => "destroy",
            Command::Adopt(_) => "adopt",
            Command::Reset(_) => "reset",
            Command::Logs(_) => "logs",
            Command::Emulator(_) => "emulator",
            Command::State(_) => "state",
            Command::Unlock(_) => "unlock",
            Command::Rollback(_) => "rollback",
            Command::Outputs(_) => "outputs",
            Command::Completions(_) => "completions",
            Command::Contracts(_) => "contracts check",
            Command::Replay(_) => "replay",
            Command::Dlq(a) => return format!("deploy dlq {}", a.action.name()),
        };
        format!("deploy {name}")
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Write the defaults without asking.
    #[arg(long)]
    pub defaults: bool,
    /// The environment (dev, staging, prod...): the default offered, or the one written with
    /// --defaults.
    #[arg(long)]
    pub environment: Option<String>,
    /// The AWS region (default: AWS_REGION, then us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// Overwrite an existing file (it is backed up first).
    #[arg(long)]
    pub force: bool,
    // It writes deploy.toml only.
    #[command(flatten)]
    pub _global: NoState,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// preflight, iam, infrastructure, lambdas, test-events, pre-destroy, destroy (or 001 ... 999).
    pub step: String,
    /// Run even when the ledger says it is up to date.
    #[arg(long)]
    pub force: bool,
    /// For a teardown step: do not ask for the environment name (required without a terminal).
    #[arg(long, short = 'y')]
    pub auto_approve: bool,
    /// Stream machine-readable events (NDJSON) on stdout; human text goes to stderr.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub _global: Global,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Check every owned resource against AWS.
    #[arg(long)]
    pub live: bool,
    /// List every deployment the state holds (this checkout's directories, or the bucket), one
    /// line each.
    #[arg(long, conflicts_with = "live")]
    pub all: bool,
    // It never takes the lock.
    #[command(flatten)]
    pub _global: NoLock,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Do not ask before adopting (required without a terminal).
    #[arg(long, short = 'y')]
    pub auto_approve: bool,
    /// Stream machine-readable events (NDJSON) on stdout; human text goes to stderr.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub _global: Global,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// The step whose record to forget (all of them when omitted).
    pub step: Option<String>,
    /// Rebuild state.json from the audit log instead (after corruption).
    #[arg(long, conflicts_with = "step")]
    pub rebuild: bool,
    #[command(flatten)]
    pub _global: Global,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The step (name or old number) whose latest log to print.
    pub step: String,
    /// Print the log file's path instead of its content.
    #[arg(long)]
    pub path: bool,
    // It never takes the lock.
    #[command(flatten)]
    pub _global: NoLock,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    #[command(subcommand)]
    pub action: EmulatorAction,
    // The emulator's record lives under the state directory; it takes no lock.
    #[command(flatten)]
    pub _global: Offline,
}

#[derive(Debug, Subcommand)]
pub enum EmulatorAction {
    /// Stop the emulator `deploy --local` started (no teardown; its state is lost).
    Stop,
    /// Show the recorded emulator and whether it answers.
    Status,
}

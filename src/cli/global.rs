//! The global flags, in small groups: [`ConfigFile`], [`StateDir`], [`Output`], [`Local`],
//! [`WaitLock`]. The top level flattens them all ([`Global`], the one place the binary reads them
//! from); each command flattens the groups that change what it does, and the others as
//! [`Ignored`]: accepted (a script may pass `--local` or `--wait-lock` to every command) but
//! hidden from its help, and left out of its completions. [`NoLock`], [`Offline`] and
//! [`NoState`] are the combinations the commands share.
//!
//! Every flag is `global`, so a value given anywhere on the command line (`deploy --local
//! status`, `deploy status --local`, `deploy contracts check --config x`) reaches
//! [`Cli::global`](super::Cli): clap copies a global flag's value to every level of the matches,
//! the most explicit one (command line, then environment, then default) winning.
//!
//! Each flag has the display order it has at the top level, wherever it is shown, so a command's
//! help lists its own options and the global ones interleaved as they always were.

use std::cell::Cell;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, Command, FromArgMatches, Id, ValueEnum};

use crate::durations::parse_duration;

/// Every global flag.
#[derive(Debug, Clone, Default, Args)]
pub struct Global {
    #[command(flatten)]
    pub config: ConfigFile,
    #[command(flatten)]
    pub state_dir: StateDir,
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub local: Local,
    #[command(flatten)]
    pub wait_lock: WaitLock,
}

/// Where the configuration and the state are: `--config`, `--state-dir` (for a command's
/// flags; [`Global`] has them apart, as `deploy init` uses the first only).
#[derive(Debug, Clone, Default, Args)]
pub struct Location {
    #[command(flatten)]
    pub _config: ConfigFile,
    #[command(flatten)]
    pub _state_dir: StateDir,
}

/// A command that never takes the lock: every flag but `--wait-lock`.
#[derive(Debug, Clone, Default, Args)]
pub struct NoLock {
    #[command(flatten)]
    pub _location: Location,
    #[command(flatten)]
    pub _output: Output,
    #[command(flatten)]
    pub _local: Local,
    #[command(flatten)]
    pub _wait_lock: Ignored<WaitLock>,
}

/// A command that calls no AWS API and takes no lock: neither `--local` nor `--wait-lock`.
#[derive(Debug, Clone, Default, Args)]
pub struct Offline {
    #[command(flatten)]
    pub _location: Location,
    #[command(flatten)]
    pub _output: Output,
    #[command(flatten)]
    pub _local: Ignored<Local>,
    #[command(flatten)]
    pub _wait_lock: Ignored<WaitLock>,
}

/// A command that has no state (`deploy init`): `--config`, `--color`, `-v`, `-q` only.
#[derive(Debug, Clone, Default, Args)]
pub struct NoState {
    #[command(flatten)]
    pub _config: ConfigFile,
    #[command(flatten)]
    pub _output: Output,
    #[command(flatten)]
    pub _state_dir: Ignored<StateDir>,
    #[command(flatten)]
    pub _local: Ignored<Local>,
    #[command(flatten)]
    pub _wait_lock: Ignored<WaitLock>,
}

/// `--config`.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigFile {
    /// Configuration file.
    #[arg(
        id = "config",
        long = "config",
        display_order = 0,
        global = true,
        value_name = "PATH",
        env = "DEPLOY_CONFIG"
    )]
    pub path: Option<PathBuf>,
}

/// `--state-dir`.
#[derive(Debug, Clone, Default, Args)]
pub struct StateDir {
    /// Ledger directory.
    #[arg(
        id = "state_dir",
        long = "state-dir",
        display_order = 1,
        global = true,
        value_name = "DIR",
        env = "DEPLOY_STATE_DIR"
    )]
    pub path: Option<PathBuf>,
}

/// What is printed: `--color`, `-v`, `-q`.
#[derive(Debug, Clone, Default, Args)]
pub struct Output {
    /// When to use colours (NO_COLOR is honoured under `auto`).
    #[arg(long, global = true, display_order = 2, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More detail (step log lines on the terminal).
    #[arg(
        short,
        long,
        global = true,
        display_order = 3,
        conflicts_with = "quiet"
    )]
    pub verbose: bool,
    /// Only errors and the final result.
    #[arg(short, long, global = true, display_order = 4)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// `--local`.
#[derive(Debug, Clone, Default, Args)]
pub struct Local {
    /// Run against a local AWS emulator (http://127.0.0.1:4566 unless [aws] endpoint_url says
    /// otherwise), starting ministack if nothing answers there.
    #[arg(id = "local", long = "local", global = true, display_order = 5)]
    pub enabled: bool,
}

/// `--wait-lock`.
#[derive(Debug, Clone, Default, Args)]
pub struct WaitLock {
    /// Wait this long for another run's lock instead of failing at once (e.g. 30s, 5m).
    #[arg(
        id = "wait_lock",
        long = "wait-lock",
        display_order = 6,
        global = true,
        value_name = "DURATION",
        value_parser = parse_duration
    )]
    pub duration: Option<Duration>,
}

thread_local! {
    /// Whether [`Ignored`] groups add their flags: yes to parse and for help; no for completion
    /// scripts, whose generators list hidden flags too.
    static WITH_IGNORED: Cell<bool> = const { Cell::new(true) };
}

/// The flags of `T`, accepted by a command that ignores them: hidden from its help. Their values
/// are read through [`Global`] only.
#[derive(Debug, Clone, Default)]
pub struct Ignored<T>(PhantomData<T>);

impl<T: Args> Args for Ignored<T> {
    fn augment_args(cmd: Command) -> Command {
        if !WITH_IGNORED.get() {
            return cmd;
        }
        let before: Vec<Id> = cmd.get_arguments().map(|a| a.get_id().clone()).collect();
        T::augment_args(cmd).mut_args(|a| {
            if before.contains(a.get_id()) {
                a
            } else {
                a.hide(true)
            }
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<T> FromArgMatches for Ignored<T> {
    fn from_arg_matches(_: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Ignored(PhantomData))
    }

    fn update_from_arg_matches(&mut self, _: &ArgMatches) -> Result<(), clap::Error> {
        Ok(())
    }
}

/// The command line for completion scripts: each command lists only the global flags it uses.
pub fn for_completions() -> Command {
    use clap::CommandFactory;
    WITH_IGNORED.set(false);
    let cmd = super::Cli::command();
    WITH_IGNORED.set(true);
    // The top level's flags stay there: a command that does not use one has no copy of it, and
    // a global one would be copied into it.
    cmd.mut_args(|a| a.global(false))
}

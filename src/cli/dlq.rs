//! `deploy dlq show|export|redrive`: the arguments, and the value parsers of `--max` and
//! `--rate` (an error names the value and says what is allowed; clap exits 2).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::global::NoLock;

/// The most `--rate` allows: well under a region's `PutEvents` quota.
pub const MAX_RATE: f64 = 10_000.0;

#[derive(Debug, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    pub action: DlqAction,
    // They change the queue, not the ledger: they never take the lock.
    #[command(flatten)]
    pub _global: NoLock,
}

#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// Depth, oldest message's age, counts by source, detail type, rule and error code, and a
    /// few messages; reads without consuming (what is read is made visible again at once).
    Show(DlqShowArgs),
    /// Write every message's original event to FILE, one JSON line each (a new file; each line
    /// flushed to disk before anything is deleted); deletes nothing without --delete.
    Export(DlqExportArgs),
    /// Re-publish each event to the bus it was meant for, deleting a message only once
    /// PutEvents accepted its event; refuses events re-published MAX_REPUBLISH times already.
    Redrive(DlqRedriveArgs),
}

impl DlqAction {
    /// `show`, `export`, `redrive`.
    pub fn name(&self) -> &'static str {
        match self {
            DlqAction::Show(_) => "show",
            DlqAction::Export(_) => "export",
            DlqAction::Redrive(_) => "redrive",
        }
    }
}

#[derive(Debug, Args)]
pub struct DlqShowArgs {
    /// The report as one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DlqExportArgs {
    /// The file to write (JSONL); it must not exist.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Delete each message once its line is written and flushed to FILE.
    #[arg(long)]
    pub delete: bool,
    /// The report as one JSON document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DlqRedriveArgs {
    /// Handle at most N messages.
    #[arg(long, value_name = "N", value_parser = count)]
    pub max: Option<usize>,
    /// At most R PutEvents entries a second (e.g. 10, 0.5).
    #[arg(long, value_name = "R", default_value = "10", value_parser = rate)]
    pub rate: f64,
    /// Read and report what would be sent; send and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The report as one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// A whole number of messages, at least 1.
pub fn count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a number of messages: use a whole number from 1"
        )),
    }
}

/// Entries a second: a number above 0, at most [`MAX_RATE`].
pub fn rate(s: &str) -> Result<f64, String> {
    let allowed = format!("use a number above 0 and at most {MAX_RATE}, e.g. 10 or 0.5");
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= MAX_RATE => Ok(r),
        _ => Err(format!("`{s}` is not a rate: {allowed}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_whole_and_positive() {
        assert_eq!(count("50").unwrap(), 50);
        for bad in ["0", "-1", "1.5", "many", ""] {
            assert!(count(bad).unwrap_err().contains("not a number"), "{bad}");
        }
    }

    #[test]
    fn help_and_completions_show_the_global_flags_but_the_lock_wait() {
        use clap::CommandFactory;
        let mut cmd = crate::cli::Cli::command();
        cmd.build();
        let dlq = cmd.find_subcommand_mut("dlq").unwrap();
        for action in ["show", "export", "redrive"] {
            let help = dlq
                .find_subcommand_mut(action)
                .unwrap()
                .render_long_help()
                .to_string();
            for flag in ["--config", "--state-dir", "--local", "--json"] {
                assert!(
                    help.contains(flag),
                    "dlq {action} --help lacks {flag}:\n{help}"
                );
            }
            assert!(!help.contains("--wait-lock"), "dlq {action}:\n{help}");
        }
        let mut script = Vec::new();
        let mut completions = crate::cli::for_completions();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut completions,
            "deploy",
            &mut script,
        );
        let script = String::from_utf8(script).unwrap();
        let at = script
            .find("deploy__subcmd__dlq__subcmd__redrive)")
            .unwrap();
        let opts = script[at..].lines().find(|l| l.contains("opts=")).unwrap();
        for flag in ["--max", "--rate", "--dry-run", "--local"] {
            assert!(opts.contains(flag), "{opts}");
        }
        assert!(!opts.contains("--wait-lock"), "{opts}");
    }

    #[test]
    fn rates_are_positive_finite_and_bounded() {
        assert_eq!(rate("10").unwrap(), 10.0);
        assert_eq!(rate("0.5").unwrap(), 0.5);
        for bad in ["0", "-3", "NaN", "inf", "fast", "10001"] {
            let err = rate(bad).unwrap_err();
            assert!(err.contains(&format!("`{bad}` is not a rate")), "{err}");
        }
    }
}

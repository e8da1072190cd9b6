//! Failures of the binary, each with the exit code documented in `--help`.

use std::fmt;

pub const OK: u8 = 0;
pub const STEP_FAILED: u8 = 1;
pub const USAGE: u8 = 2;
pub const LOCKED: u8 = 3;
pub const NOTHING_DEPLOYED: u8 = 4;
/// No state for this deployment here, but resources with its names exist in the account.
pub const STATE_MISSING: u8 = 5;
/// `status --live`: some checks could not be made (and nothing was found wrong).
pub const UNKNOWN: u8 = 6;
/// `status --live`: drifted or degraded (missing, changed, orphaned, unhealthy).
pub const DRIFTED: u8 = 7;
/// `plan --detailed-exitcode`: something would run.
pub const CHANGES: u8 = 8;
/// A queue that would be deleted holds messages: stopped before deleting anything of that
/// phase (`--drain-timeout`, `--discard-messages`).
pub const QUEUE_NOT_EMPTY: u8 = 9;
/// `all --plan`: the plan artifact no longer holds (named differences); nothing was changed.
pub const PLAN_STALE: u8 = 10;
/// `all`: the change's verification failed, and the last good deployment was restored and
/// verified (the message names the checks that failed).
pub const ROLLED_BACK: u8 = 11;
pub const INTERRUPTED: u8 = 130;

#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    /// Where in a file the problem is: file, line, key (for annotations and diagnostics).
    pub at: Option<(String, usize, String)>,
}

impl CliError {
    pub fn new(code: u8, message: impl fmt::Display) -> Self {
        CliError {
            code,
            message: message.to_string(),
            at: None,
        }
    }

    pub fn usage(message: impl fmt::Display) -> Self {
        CliError::new(USAGE, message)
    }

    pub fn failed(message: impl fmt::Display) -> Self {
        CliError::new(STEP_FAILED, message)
    }
}

/// A path as a CI annotation wants it: relative to the working directory when inside it.
fn relative(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.and_then(|c| path.strip_prefix(c).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

impl From<deploy_config::ConfigError> for CliError {
    fn from(e: deploy_config::ConfigError) -> Self {
        use deploy_config::ConfigError as C;
        let at = match &e {
            C::Invalid {
                path,
                position,
                key,
                ..
            } => Some((relative(path), position.map_or(1, |p| p.line), key.clone())),
            C::Syntax { path, position, .. } => {
                Some((relative(path), position.line, String::new()))
            }
            C::Read { .. } => None,
        };
        CliError {
            at,
            ..CliError::usage(e)
        }
    }
}

impl From<deploy_state::LedgerError> for CliError {
    fn from(e: deploy_state::LedgerError) -> Self {
        use deploy_state::LedgerError as L;
        let code = match e {
            L::Locked { .. } => LOCKED,
            L::Corrupt { .. }
            | L::SchemaVersion { .. }
            | L::IdentityMismatch { .. }
            | L::AccountMismatch { .. }
            | L::Denied { .. } => USAGE,
            L::Io { .. } | L::Storage { .. } | L::Conflict { .. } | L::LockLost { .. } => {
                STEP_FAILED
            }
        };
        CliError::new(code, e)
    }
}

impl From<deploy_steps::emulator::EmulatorError> for CliError {
    fn from(e: deploy_steps::emulator::EmulatorError) -> Self {
        CliError::failed(e)
    }
}

pub type CliResult = Result<u8, CliError>;

impl From<deploy_steps::replay::ReplayError> for CliError {
    fn from(e: deploy_steps::replay::ReplayError) -> Self {
        use deploy_steps::replay::ReplayError as R;
        match e {
            R::NothingDeployed(why) => CliError::new(NOTHING_DEPLOYED, why),
            R::Refused(why) => CliError::usage(why),
            R::Failed(e) => CliError::failed(e),
        }
    }
}

impl From<deploy_steps::dlq::DlqError> for CliError {
    fn from(e: deploy_steps::dlq::DlqError) -> Self {
        use deploy_steps::dlq::DlqError as D;
        match e {
            D::NothingDeployed(why) => CliError::new(NOTHING_DEPLOYED, why),
            D::BadInput(why) => CliError::usage(why),
            D::Failed(e) => CliError::failed(e),
        }
    }
}

/// Every exit code, for the documentation check.
#[cfg(test)]
const ALL: [u8; 13] = [
    OK,
    STEP_FAILED,
    USAGE,
    LOCKED,
    NOTHING_DEPLOYED,
    STATE_MISSING,
    UNKNOWN,
    DRIFTED,
    CHANGES,
    QUEUE_NOT_EMPTY,
    PLAN_STALE,
    ROLLED_BACK,
    INTERRUPTED,
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn doc(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
            .unwrap()
    }

    /// The codes of the rows of a `| code | meaning |` table.
    fn table(text: &str) -> BTreeSet<u8> {
        text.lines()
            .filter_map(|l| l.strip_prefix("| ")?.split(" |").next()?.parse().ok())
            .collect()
    }

    /// The codes of `--help`'s list: lines `  N    meaning`.
    fn help(text: &str) -> BTreeSet<u8> {
        text.lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect()
    }

    /// Every number that follows "exit", "exits" or "exit code" in prose: `exit 2`,
    /// `exits 0 when ..., 8 when ...`, `exit 0 healthy, 7 drifted or degraded, 4 ...`.
    fn named_in_prose(text: &str) -> BTreeSet<u8> {
        let mut out = BTreeSet::new();
        for (i, _) in text.match_indices("exit") {
            let rest = &text[i..];
            let rest = rest.trim_start_matches(char::is_alphabetic).trim_start();
            let mut run = rest;
            // The number right after, then any `, N word` that continue the list.
            while let Some(n) = leading_number(run) {
                out.insert(n);
                let after = &run[n.to_string().len()..];
                let Some(next) = after
                    .find(',')
                    .filter(|&c| !after[..c].contains(['.', ';', '|', '(']))
                else {
                    break;
                };
                run = after[next + 1..].trim_start();
            }
        }
        out
    }

    fn leading_number(s: &str) -> Option<u8> {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }

    #[test]
    fn the_documented_exit_codes_are_the_codes() {
        let all: BTreeSet<u8> = ALL.into_iter().collect();
        assert_eq!(table(&doc("README.md")), all, "README.md's exit code table");
        assert_eq!(table(&doc("docs/EXIT_CODES.md")), all, "docs/EXIT_CODES.md");
        assert_eq!(
            help(crate::cli::EXIT_CODES),
            all,
            "the exit codes of `--help`"
        );
        let named = named_in_prose(&doc("README.md"));
        assert!(
            named.is_subset(&all),
            "README names {named:?}; the codes are {all:?}"
        );
    }

    #[test]
    fn prose_lists_of_codes_are_read_whole() {
        let named = named_in_prose("exit 0 healthy, 7 drifted or degraded, 4 nothing deployed.");
        assert_eq!(named, BTreeSet::from([0, 7, 4]));
        assert_eq!(
            named_in_prose("exits 0 when nothing, 8 when"),
            BTreeSet::from([0, 8])
        );
        assert_eq!(named_in_prose("the exit code) appended"), BTreeSet::new());
    }
}

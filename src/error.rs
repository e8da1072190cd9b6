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
pub const INTERRUPTED: u8 = 130;

#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn usage(message: impl fmt::Display) -> Self {
        CliError {
            code: USAGE,
            message: message.to_string(),
        }
    }

    pub fn failed(message: impl fmt::Display) -> Self {
        CliError {
            code: STEP_FAILED,
            message: message.to_string(),
        }
    }
}

impl From<deploy_config::ConfigError> for CliError {
    fn from(e: deploy_config::ConfigError) -> Self {
        CliError::usage(e)
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
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

impl From<deploy_steps::emulator::EmulatorError> for CliError {
    fn from(e: deploy_steps::emulator::EmulatorError) -> Self {
        CliError::failed(e)
    }
}

pub type CliResult = Result<u8, CliError>;

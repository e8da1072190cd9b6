//! `deploy contracts check`, and the same check as the gate every deploy and plan passes first.

use deploy_state::LedgerState;
use deploy_steps::contracts::{self, Report};

use crate::cli::{ContractsAction, ContractsArgs};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &ContractsArgs) -> CliResult {
    let ContractsAction::Check(check) = &args.action;
    // The shipped versions are in the ledger: read it when that needs no AWS.
    let ledger = if session.uses_s3() {
        None
    } else {
        Some(session.read_ledger().await?)
    };
    let report = contracts::check(
        &session.config,
        ledger.as_ref().map(|l| &l.state().contracts),
    );
    if check.json {
        let doc = serde_json::json!({"passed": report.passed(), "report": report,
                                     "problems": report.problems()});
        session
            .printer
            .out(&serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(if report.passed() {
            error::OK
        } else {
            error::USAGE
        });
    }
    if !report.passed() {
        return Err(failure(&report));
    }
    session
        .printer
        .status("Checked", console::Style::new().green(), &report.summary());
    if !report.shipped_known {
        session.printer.info(
            "shipped versions: unknown here (the state is in S3, which needs AWS); `deploy \
             plan` and `deploy all` check them",
        );
    }
    Ok(error::OK)
}

/// The gate: refuses (exit 2) a breaking or edited contract before anything runs.
pub fn gate(session: &Session, state: &LedgerState) -> Result<(), CliError> {
    let report = contracts::check(&session.config, Some(&state.contracts));
    if report.passed() {
        return Ok(());
    }
    Err(failure(&report))
}

fn failure(report: &Report) -> CliError {
    let problems = report.problems();
    CliError::usage(format!(
        "contracts: {} problem(s); nothing was deployed:\n  {}",
        problems.len(),
        problems.join("\n  ")
    ))
}

//! `deploy status --live`: every owned resource checked against AWS, concurrently.

use deploy_state::StepStatus;

use crate::error::{self, CliError, CliResult};
use crate::session::Session;
use crate::views;

pub async fn exec(session: &Session, as_json: bool) -> CliResult {
    let opened = session.open_read_live().await?;
    if let Some(code) = super::unowned::report_if_stateless(session, &opened, as_json).await? {
        return Ok(code);
    }
    let (env, ledger) = (&opened.env, &opened.ledger);
    let report = deploy_steps::live::report(env, ledger.state())
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS: {e}")))?;
    if let Some(why) = &report.orphans_unknown {
        session
            .printer
            .warn(&format!("could not look for orphans by their tags: {why}"));
    }
    let wrong = not_verified(&opened).await;
    let text = if as_json {
        let mut v = views::live::json(&report, &env.target);
        v["verification"] = serde_json::json!(wrong);
        serde_json::to_string_pretty(&v).expect("json")
    } else {
        let mut t = views::live::text(&report, &session.config.project.environment, &env.target);
        for w in &wrong {
            t.push_str(&format!("\nDegraded: {w}."));
        }
        t
    };
    session.printer.out(&text);
    let code = views::live::code(report.verdict);
    if !wrong.is_empty() && matches!(code, error::OK | error::UNKNOWN) {
        return Ok(error::DRIFTED);
    }
    Ok(code)
}

/// What the ledger knows is wrong though every resource is as deployed: the last verification
/// failed (a change kept with `--no-rollback`), or a rollback did not finish.
async fn not_verified(opened: &crate::session::Opened) -> Vec<String> {
    let mut out = Vec::new();
    let verification = opened.ledger.state().step("test-events");
    if verification.status == StepStatus::Failed {
        out.push(format!(
            "the last verification (test-events) failed: {}; `deploy rollback` returns to the \
             last good deployment",
            verification
                .last_error
                .as_deref()
                .unwrap_or("see `deploy logs test-events`")
        ));
    }
    let pending = match opened.env.state.as_deref() {
        Some(objects) => deploy_steps::rollback::Pending::load(objects).await,
        None => None,
    };
    if let Some(p) = pending {
        out.push(format!(
            "a rollback did not finish ({}); `deploy rollback` finishes it",
            p.why.describe()
        ));
    }
    out
}

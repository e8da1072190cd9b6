//! What `deploy all` and `deploy rollback` do about the last good deployment: record it after a
//! verified run, and return to it (a rollback pipeline run under the same lock) when a
//! verification failed or the operator asks.

use crate::run::Run;
use crate::session::Session;

/// After a `deploy all` whose verification passed: the deployment becomes the last good one,
/// and versions older than the one before it are removed. A failure here is a warning (the run
/// did deploy; the next successful one records it again).
pub async fn record_last_good(session: &Session, run: &Run) {
    let (env, ledger) = (&run.opened.env, &run.opened.ledger);
    if !deploy_steps::rollback::verified(ledger.state()) {
        return;
    }
    match deploy_steps::rollback::record(env, ledger).await {
        Ok(r) => {
            session.printer.verbose(
                "recorded as the last good deployment (a failed verification returns to it)",
            );
            if !r.pruned.is_empty() {
                session
                    .printer
                    .info(&format!("removed old versions: {}", r.pruned.join(", ")));
            }
            for w in r.warnings {
                session.printer.warn(&w);
            }
        }
        Err(e) => session.printer.warn(&format!(
            "the last good deployment was not recorded: {e}; a failed verification rolls back to \
             the one recorded before"
        )),
    }
}

//! `deploy rollback`: return to the last good deployment on demand (or finish a rollback a
//! killed run left).

use deploy_steps::rollback::Why;

use crate::cli::RollbackArgs;
use crate::error::{self, CliError, CliResult};
use crate::rollback::{self, RolledBack};
use crate::session::Session;

pub async fn exec(session: &Session, args: &RollbackArgs) -> CliResult {
    if !args.auto_approve {
        super::require_terminal_or("--auto-approve")?;
    }
    let mut run = super::open_run(session, "deploy rollback").await?;
    run.opened.env.consent = args.queues.consent();
    let rolled = if let Some(pending) = rollback::pending(&run).await {
        session.printer.warn(&format!(
            "a rollback did not finish ({}): finishing it",
            pending.why.describe()
        ));
        rollback::finish(session, &mut run, &pending).await?
    } else {
        let Some(target) = rollback::last_good(&run).await else {
            return Err(CliError::new(
                error::NOTHING_DEPLOYED,
                "no last good deployment is recorded (one is after a `deploy all` whose \
                 verification passed): there is nothing to roll back to",
            ));
        };
        confirm(&target.describe(), args.auto_approve)?;
        let why = Why::Requested;
        rollback::start(session, &mut run, "deploy rollback", why, target).await?
    };
    run.opened.ledger.note_run("deploy rollback").await?;
    match rolled {
        RolledBack::Done(_) => Ok(error::OK),
        RolledBack::Unfinished(code) => Ok(code),
    }
}

fn confirm(target: &str, auto_approve: bool) -> Result<(), CliError> {
    if auto_approve {
        return Ok(());
    }
    let yes = dialoguer::Confirm::new()
        .with_prompt(format!(
            "Return to the last good deployment {target}? What was deployed since is undone"
        ))
        .default(false)
        .interact()
        .map_err(|e| {
            if crate::prompt::interrupted(&e) {
                crate::prompt::restore_terminal();
                CliError::new(
                    error::INTERRUPTED,
                    "interrupted at the prompt: nothing changed",
                )
            } else {
                CliError::usage(format!("no confirmation: {e}"))
            }
        })?;
    if !yes {
        return Err(CliError::usage("not confirmed: nothing changed"));
    }
    Ok(())
}

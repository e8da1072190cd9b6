//! `deploy emulator stop|status`: the local emulator `--local` started.

use std::time::Duration;

use deploy_steps::emulator;

use crate::cli::{EmulatorAction, EmulatorArgs};
use crate::error::{self, CliResult};
use crate::session::Session;

pub fn exec(session: &Session, args: &EmulatorArgs) -> CliResult {
    match args.action {
        EmulatorAction::Status => {
            let ledger = session.read_ledger()?;
            let text = match &ledger.state().emulator {
                Some(r) => format!(
                    "{} on {} (pid {}, started {}, {}): {}",
                    r.kind,
                    r.endpoint,
                    r.pid.map_or("?".into(), |p| p.to_string()),
                    r.started_at,
                    if r.started_by_deploy {
                        "started by deploy"
                    } else {
                        "not started by deploy"
                    },
                    if emulator::record_alive(r) {
                        "running"
                    } else {
                        "gone"
                    }
                ),
                None => "no emulator recorded in this ledger".into(),
            };
            session.printer.out(&text);
            Ok(error::OK)
        }
        EmulatorAction::Stop => {
            let mut ledger = session.lock("deploy emulator stop")?;
            stop_recorded(session, &mut ledger)?;
            Ok(error::OK)
        }
    }
}

/// Stops the emulator the ledger says `deploy` started; leaves any other one alone.
pub fn stop_recorded(
    session: &Session,
    ledger: &mut deploy_state::Ledger,
) -> Result<(), crate::error::CliError> {
    match ledger.state().emulator.clone() {
        Some(r) if r.started_by_deploy => {
            if emulator::stop(&r, Duration::from_secs(10)) {
                session.printer.info(&format!(
                    "stopped {} (pid {}) on {}",
                    r.kind,
                    r.pid.unwrap_or(0),
                    r.endpoint
                ));
            } else {
                session
                    .printer
                    .info(&format!("{} on {} had already stopped", r.kind, r.endpoint));
            }
            ledger.set_emulator(None)?;
        }
        _ => session
            .printer
            .info("no emulator started by deploy is recorded: nothing stopped"),
    }
    Ok(())
}

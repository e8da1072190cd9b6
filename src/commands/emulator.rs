//! `deploy emulator stop|status`: the local emulator `--local` started (recorded on this
//! machine, under the state root).

use std::time::Duration;

use deploy_state::emulator_record;
use deploy_steps::emulator;

use crate::cli::{EmulatorAction, EmulatorArgs};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub fn exec(session: &Session, args: &EmulatorArgs) -> CliResult {
    match args.action {
        EmulatorAction::Status => {
            let text = match session.emulator_record() {
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
                    if emulator::record_alive(&r) {
                        "running"
                    } else {
                        "gone"
                    }
                ),
                None => "no emulator recorded on this machine".into(),
            };
            session.printer.out(&text);
            Ok(error::OK)
        }
        EmulatorAction::Stop => {
            stop_recorded(session)?;
            Ok(error::OK)
        }
    }
}

/// Stops the emulator the record says `deploy` started; leaves any other one alone.
pub fn stop_recorded(session: &Session) -> Result<(), CliError> {
    match session.emulator_record() {
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
            emulator_record::save(&session.state_root, None)?;
        }
        _ => session
            .printer
            .info("no emulator started by deploy is recorded: nothing stopped"),
    }
    Ok(())
}

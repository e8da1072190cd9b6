//! `deploy replay --since D [--until T] [--event TYPE]`: archived events through the bus's rules
//! again, with the number redelivered counted by a temporary probe.

use deploy_steps::replay::{self, Request};
use jiff::Timestamp;

use crate::cli::ReplayArgs;
use crate::error::{self, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &ReplayArgs) -> CliResult {
    let now = Timestamp::now();
    let end = args.until.unwrap_or(now);
    let request = Request {
        start: now - args.since,
        end,
        event: args.event.clone(),
        timeout: args.timeout,
    };
    let mut run = super::open_run(session, "deploy replay").await?;
    let crate::session::Opened { env, ledger } = &mut run.opened;
    let printer = session.printer.clone();
    let mut progress = |line: &str| printer.info(line);
    let outcome = replay::replay(env, ledger, &request, &mut progress).await?;
    session.printer.status(
        "Replayed",
        console::Style::new().green(),
        &format!(
            "{} events{} from {} to {end} (replay {}, {:.1}s)",
            outcome.events,
            args.event
                .as_ref()
                .map(|e| format!(" of {e}"))
                .unwrap_or_default(),
            request.start,
            outcome.name,
            outcome.elapsed.as_secs_f64()
        ),
    );
    Ok(error::OK)
}

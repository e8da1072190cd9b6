//! `deploy replay --since D [--until T] [--event TYPE]`: archived events through the bus's rules
//! again, with the number redelivered counted by a temporary probe.

use deploy_steps::replay::{self, Request};
use jiff::Timestamp;

use crate::cli::{ReplayArgs, parse_duration};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &ReplayArgs) -> CliResult {
    let since = lookback(&args.since).map_err(|e| CliError::usage(format!("--since: {e}")))?;
    let timeout =
        parse_duration(&args.timeout).map_err(|e| CliError::usage(format!("--timeout: {e}")))?;
    let now = Timestamp::now();
    let end = match &args.until {
        Some(u) => u.parse::<Timestamp>().map_err(|_| {
            CliError::usage(format!(
                "--until: `{u}` is not a time; use RFC 3339, e.g. 2026-11-25T12:00:00Z"
            ))
        })?,
        None => now,
    };
    let request = Request {
        start: now - since,
        end,
        event: args.event.clone(),
        timeout,
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

/// `10m`, `2h`, `3d` (a day is 24 hours), `1w`: how far back the window starts.
fn lookback(s: &str) -> Result<jiff::SignedDuration, String> {
    let allowed = "use e.g. 10m, 2h or 3d";
    let span: jiff::Span = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: {allowed}"))?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| format!("`{s}` is not a duration: {allowed}"))?;
    if d <= jiff::SignedDuration::ZERO {
        return Err(format!("`{s}` is not a positive duration: {allowed}"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookbacks_take_days() {
        assert_eq!(lookback("10m").unwrap().as_secs(), 600);
        assert_eq!(lookback("3d").unwrap().as_secs(), 3 * 86_400);
        assert!(lookback("0s").unwrap_err().contains("positive"));
        assert!(lookback("soon").unwrap_err().contains("not a duration"));
    }
}

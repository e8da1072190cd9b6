//! `deploy replay --since D [--until T] [--event TYPE]`: archived events through the bus's rules
//! again, with the number redelivered counted by a temporary probe.

use std::collections::BTreeMap;

use deploy_steps::deploy::test_events::probe::{PROBE_QUEUE, PROBE_RULE};
use deploy_steps::engine::LedgerInventory;
use deploy_steps::replay::{self, Target};
use jiff::Timestamp;

use crate::cli::{ReplayArgs, parse_duration};
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &ReplayArgs) -> CliResult {
    let config = &session.config;
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
    let start = now - since;
    let event = match &args.event {
        Some(key) => Some(
            config
                .events
                .iter()
                .find(|e| &e.key == key)
                .cloned()
                .ok_or_else(|| {
                    let known: Vec<&str> = config.events.iter().map(|e| e.key.as_str()).collect();
                    CliError::usage(format!(
                        "--event: `{key}` is not an event type of deploy.toml; allowed: {}",
                        known.join(", ")
                    ))
                })?,
        ),
        None => None,
    };

    let mut run = super::open_run(session, "deploy replay").await?;
    let crate::session::Opened { env, ledger } = &mut run.opened;
    let infra = ledger.step("infrastructure").outputs;
    let get = |k: &str| infra.get(k).filter(|v| !v.is_empty()).cloned();
    let (Some(archive_name), Some(archive_arn), Some(bus_name), Some(bus_arn)) = (
        get("archive_name"),
        get("archive_arn"),
        get("event_bus_name"),
        get("event_bus_arn"),
    ) else {
        return Err(CliError::new(
            error::NOTHING_DEPLOYED,
            format!(
                "{} has no deployed archive to replay from (run `deploy all` first)",
                session.identity
            ),
        ));
    };
    let rules = match &event {
        None => None,
        Some(e) => {
            let arns: BTreeMap<String, String> = get("rule_arns")
                .and_then(|r| serde_json::from_str(&r).ok())
                .unwrap_or_default();
            let wanted: Vec<String> = config
                .routes
                .iter()
                .filter(|r| r.events.contains(&e.key))
                .filter_map(|r| arns.get(&r.rule_name).cloned())
                .collect();
            if wanted.is_empty() {
                return Err(CliError::usage(format!(
                    "--event {}: no deployed route names this event type, so nothing would \
                     receive its replay",
                    e.key
                )));
            }
            Some(wanted)
        }
    };
    let target = Target {
        archive_name,
        archive_arn,
        bus_name,
        bus_arn,
        rules,
        event,
    };
    let aws = env
        .aws()
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    replay::check_window(aws, &target, start, end, now)
        .await
        .map_err(|e| CliError::failed(e.to_string()))?
        .map_err(|refused| CliError::usage(refused.0))?;

    let printer = session.printer.clone();
    let mut record = LedgerInventory::new(ledger);
    let mut progress = |line: &str| printer.info(line);
    let outcome = replay::run(
        aws,
        config,
        &target,
        start,
        end,
        timeout,
        &mut record,
        &mut progress,
    )
    .await
    .map_err(|e| CliError::failed(e.to_string()))?;
    let probes = record.recorded().into_iter().map(|r| r.name);
    // The probe was deleted: it leaves the inventory (on a failure it stays, and the next
    // test-events or destroy removes it).
    for name in probes {
        ledger.forget_resource(PROBE_RULE, &name).await?;
        ledger.forget_resource(PROBE_QUEUE, &name).await?;
    }
    session.printer.status(
        "Replayed",
        console::Style::new().green(),
        &format!(
            "{} events{} from {start} to {end} (replay {}, {:.1}s)",
            outcome.events,
            target
                .event
                .as_ref()
                .map(|e| format!(" of {}", e.key))
                .unwrap_or_default(),
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

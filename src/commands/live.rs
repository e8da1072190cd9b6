//! `deploy status --live`: every owned resource checked against AWS, concurrently.

use deploy_steps::live::{self, Health};
use serde_json::json;

use super::unowned::Found;
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, as_json: bool) -> CliResult {
    let opened = session.open_read_live().await?;
    if let Found::Unowned(found) = super::unowned::look(session, &opened).await? {
        return Ok(super::unowned::report(session, &opened, &found, as_json));
    }
    let (env, ledger) = (&opened.env, &opened.ledger);
    let state = ledger.state();
    let aws = env
        .aws()
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS: {e}")))?;
    let expected = env.expected().await;
    let nothing_expected = live::Expected::default();
    let (owned, retired) = tokio::join!(
        live::check_all(aws, &state.inventory, &expected),
        live::check_all(aws, &state.retired, &nothing_expected)
    );
    let missing: Vec<&Health> = owned.iter().filter(|h| h.exists == Some(false)).collect();
    let unhealthy: Vec<&Health> = owned
        .iter()
        .filter(|h| h.exists == Some(true) && !h.healthy)
        .collect();
    let drifted: Vec<&Health> = owned.iter().filter(|h| !h.drift.is_empty()).collect();
    let unknown: Vec<&Health> = owned.iter().filter(|h| h.exists.is_none()).collect();
    let lingering: Vec<&Health> = retired.iter().filter(|h| h.exists == Some(true)).collect();
    let orphans = super::unowned::orphans(session, env, state).await;
    let nothing = state.inventory.is_empty();
    // What could not be checked is unknown, never degraded (nor healthy).
    let verdict = if !missing.is_empty()
        || !lingering.is_empty()
        || !drifted.is_empty()
        || !orphans.is_empty()
    {
        "drifted"
    } else if !unhealthy.is_empty() {
        "degraded"
    } else if !unknown.is_empty() {
        "unknown"
    } else if nothing {
        "nothing deployed"
    } else {
        "healthy"
    };
    let code = match verdict {
        "healthy" => error::OK,
        "nothing deployed" => error::NOTHING_DEPLOYED,
        "unknown" => error::UNKNOWN,
        _ => error::DRIFTED,
    };
    if as_json {
        let doc = json!({
            "verdict": verdict,
            "target": env.target,
            "resources": owned,
            "missing": missing.iter().map(|h| &h.name).collect::<Vec<_>>(),
            "unhealthy": unhealthy.iter().map(|h| &h.name).collect::<Vec<_>>(),
            "drift": drifted.iter().flat_map(|h| h.drift.iter()).collect::<Vec<_>>(),
            "unknown": unknown.iter().map(|h| &h.name).collect::<Vec<_>>(),
            "destroyed_but_present": lingering.iter().map(|h| &h.name).collect::<Vec<_>>(),
            "orphans": orphans.iter().map(|r| format!("{} {}", r.kind, r.name)).collect::<Vec<_>>(),
        });
        session
            .printer
            .out(&serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(code);
    }
    let mut t = format!(
        "Live status of {} against {}\n\n",
        session.config.project.environment, env.target
    );
    for h in &owned {
        let mark = match (h.exists, h.healthy) {
            (Some(true), true) => "ok     ",
            (Some(true), false) if !h.drift.is_empty() => "DRIFTED",
            (Some(true), false) => "DEGRADED",
            (Some(false), _) => "MISSING",
            (None, _) => "UNKNOWN",
        };
        t.push_str(&format!(
            "  {mark:<8} {:<22} {:<45} {}\n",
            h.kind, h.name, h.detail
        ));
    }
    for h in &lingering {
        t.push_str(&format!(
            "  {:<8} {:<22} {:<45} destroyed by this deployment, but present\n",
            "DRIFT", h.kind, h.name
        ));
    }
    for r in &orphans {
        t.push_str(&format!(
            "  {:<8} {:<22} {:<45} tagged as this deployment's, not in its state\n",
            "ORPHAN", r.kind, r.name
        ));
    }
    t.push_str(&format!(
        "\n{}",
        match verdict {
            "healthy" => format!("Healthy: {} resources present.", owned.len()),
            "nothing deployed" => "Nothing is deployed.".to_string(),
            "drifted" => format!(
                "Drifted: {}. `deploy plan` shows what `deploy all` will repair.",
                missing
                    .iter()
                    .map(|h| format!("{} {} missing", h.kind, h.name))
                    .chain(drifted.iter().flat_map(|h| h.drift.iter().cloned()))
                    .chain(
                        lingering
                            .iter()
                            .map(|h| format!("{} {} still present", h.kind, h.name))
                    )
                    .chain(orphans.iter().map(|r| format!(
                        "{} {} carries this deployment's tags but is not in its state \
                         (`deploy adopt` adopts it)",
                        r.kind, r.name
                    )))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "unknown" => format!(
                "Unknown: {} could not be checked ({}); nothing found wrong in the rest.",
                unknown.len(),
                unknown
                    .iter()
                    .map(|h| format!("{} {}: {}", h.kind, h.name, h.detail))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!(
                "Degraded: {}.",
                unhealthy
                    .iter()
                    .map(|h| format!("{} {} ({})", h.kind, h.name, h.detail))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    ));
    session.printer.out(&t);
    Ok(code)
}

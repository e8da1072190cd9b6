//! `deploy status --live`: the report as a table with a verdict line, or as JSON.

use deploy_steps::live::{Health, Report, Verdict};
use serde_json::{Value, json};

use crate::error;

/// The exit code of a verdict.
pub fn code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Healthy => error::OK,
        Verdict::NothingDeployed => error::NOTHING_DEPLOYED,
        Verdict::Unknown => error::UNKNOWN,
        Verdict::Drifted | Verdict::Degraded => error::DRIFTED,
    }
}

fn names<'a>(hs: impl Iterator<Item = &'a Health>) -> Vec<&'a str> {
    hs.map(|h| h.name.as_str()).collect()
}

pub fn json(report: &Report, target: &str) -> Value {
    json!({
        "verdict": report.verdict,
        "target": target,
        "resources": report.owned,
        "missing": names(report.missing()),
        "unhealthy": names(report.unhealthy()),
        "drift": report.drifted().flat_map(|h| h.drift.iter()).collect::<Vec<_>>(),
        "unknown": names(report.unknown()),
        "destroyed_but_present": names(report.lingering.iter()),
        "orphans": report.orphans.iter().map(|r| r.label()).collect::<Vec<_>>(),
    })
}

pub fn text(report: &Report, environment: &str, target: &str) -> String {
    let mut t = format!("Live status of {environment} against {target}\n\n");
    for h in &report.owned {
        let mark = match (h.exists, h.healthy) {
            (Some(true), true) => "ok     ",
            (Some(true), false) if !h.drift.is_empty() => "DRIFTED",
            (Some(true), false) => "DEGRADED",
            (Some(false), _) => "MISSING",
            (None, _) => "UNKNOWN",
        };
        t.push_str(&row(mark, &h.kind.to_string(), &h.name, &h.detail));
    }
    for h in &report.lingering {
        let why = "destroyed by this deployment, but present";
        t.push_str(&row("DRIFT", &h.kind.to_string(), &h.name, why));
    }
    for r in &report.orphans {
        let why = "tagged as this deployment's, not in its state";
        t.push_str(&row("ORPHAN", &r.kind.to_string(), &r.name, why));
    }
    t.push('\n');
    t.push_str(&verdict_line(report));
    t
}

fn row(mark: &str, kind: &str, name: &str, detail: &str) -> String {
    format!("  {mark:<8} {kind:<22} {name:<45} {detail}\n")
}

fn verdict_line(report: &Report) -> String {
    let list = |items: Vec<String>| items.join(", ");
    match report.verdict {
        Verdict::Healthy => format!("Healthy: {} resources present.", report.owned.len()),
        Verdict::NothingDeployed => "Nothing is deployed.".to_string(),
        Verdict::Drifted => format!(
            "Drifted: {}. `deploy plan` shows what `deploy all` will repair.",
            list(drift_items(report))
        ),
        Verdict::Unknown => format!(
            "Unknown: {} could not be checked ({}); nothing found wrong in the rest.",
            report.unknown().count(),
            list(
                report
                    .unknown()
                    .map(|h| format!("{}: {}", h.label(), h.detail))
                    .collect()
            )
        ),
        Verdict::Degraded => format!(
            "Degraded: {}.",
            list(
                report
                    .unhealthy()
                    .map(|h| format!("{} ({})", h.label(), h.detail))
                    .collect()
            )
        ),
    }
}

fn drift_items(report: &Report) -> Vec<String> {
    report
        .missing()
        .map(|h| format!("{} missing", h.label()))
        .chain(report.drifted().flat_map(|h| h.drift.iter().cloned()))
        .chain(
            report
                .lingering
                .iter()
                .map(|h| format!("{} still present", h.label())),
        )
        .chain(report.orphans.iter().map(|r| {
            format!(
                "{} carries this deployment's tags but is not in its state (`deploy adopt` \
                 adopts it)",
                r.label()
            )
        }))
        .collect()
}

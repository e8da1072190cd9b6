//! `deploy plan`: which steps would run and why, Terraform's planned changes on request, what a
//! pending change expands and retires, and the orphans; as text or as JSON.

use deploy_steps::change::Pending;
use serde_json::{Value, json};

/// What the plan found.
pub struct Plan<'a> {
    pub target: &'a str,
    /// Each step: name, whether it would run, why.
    pub rows: &'a [(&'static str, bool, String)],
    /// Terraform's planned changes, by step (with `--diff`).
    pub diff: &'a [(&'static str, Vec<String>)],
    pub pending: &'a Pending,
    pub orphans: &'a [String],
    pub rollback: &'a super::rollback::Rollback,
}

pub fn json(p: &Plan<'_>) -> Value {
    let steps: Vec<_> = p
        .rows
        .iter()
        .map(|(n, run, why)| json!({"step": n, "run": run, "reason": why}))
        .collect();
    let changes: serde_json::Map<String, Value> = p
        .diff
        .iter()
        .map(|(s, l)| (s.to_string(), json!(l)))
        .collect();
    json!({"target": p.target, "steps": steps, "orphans": p.orphans,
           "changes": changes, "change": p.pending, "rollback": p.rollback.json()})
}

pub fn text(p: &Plan<'_>) -> String {
    let mut text = format!("Plan against {}\n", p.target);
    for (name, run, why) in p.rows {
        let verb = if *run { "run " } else { "skip" };
        text.push_str(&format!("  {verb}  {name:<15} {why}\n"));
        if let Some((_, lines)) = p.diff.iter().find(|(s, _)| s == name) {
            for l in lines {
                text.push_str(&format!("          {l}\n"));
            }
        }
    }
    for line in p.pending.lines() {
        text.push_str(&format!("  change {line}\n"));
    }
    for line in p.rollback.lines() {
        text.push_str(&format!("  rollback {line}\n"));
    }
    for o in p.orphans {
        text.push_str(&format!(
            "  orphan {o}: carries this deployment's tags but is not in its state (`deploy adopt`)\n"
        ));
    }
    let n = p.rows.iter().filter(|r| r.1).count();
    text.push_str(&match n {
        0 => "Nothing to do.".to_string(),
        n => format!("{n} step(s) would run: `deploy all` runs them."),
    });
    text
}

//! `deploy plan`: which steps would run, and why. Changes nothing.

use deploy_steps::engine::decide;
use deploy_steps::pipeline;
use serde_json::json;

use crate::cli::PlanArgs;
use crate::error::{self, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &PlanArgs) -> CliResult {
    let ledger = session.read_ledger()?;
    let env = session.env_read_only(ledger.state())?;
    let mut rows = Vec::new();
    let mut invalidated_by: Option<String> = None;
    for step in pipeline::deploy() {
        let mut d = decide(step.as_ref(), &env, ledger.state(), false).await;
        let completed = ledger.step(step.name()).status == deploy_state::StepStatus::Completed;
        if let Some(by) = invalidated_by.as_ref().filter(|_| completed) {
            d.run = true;
            d.reason = format!("stale once {by} re-runs");
        }
        if d.invalidates_later && invalidated_by.is_none() {
            invalidated_by = Some(step.name().to_string());
        }
        rows.push((step.name(), d.run, d.reason));
    }
    if args.json {
        let steps: Vec<_> = rows
            .iter()
            .map(|(n, run, why)| json!({"step": n, "run": run, "reason": why}))
            .collect();
        let doc = json!({"target": env.target, "steps": steps});
        session
            .printer
            .out(&serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(error::OK);
    }
    let mut text = format!("Plan against {}\n", env.target);
    for (name, run, why) in &rows {
        let verb = if *run { "run " } else { "skip" };
        text.push_str(&format!("  {verb}  {name:<15} {why}\n"));
    }
    let n = rows.iter().filter(|r| r.1).count();
    text.push_str(&match n {
        0 => "Nothing to do.".to_string(),
        n => format!("{n} step(s) would run: `deploy all` runs them."),
    });
    session.printer.out(&text);
    Ok(error::OK)
}

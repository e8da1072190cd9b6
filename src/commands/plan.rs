//! `deploy plan`: which steps would run, and why. Changes nothing.

use deploy_steps::discover;
use deploy_steps::engine;
use deploy_steps::pipeline;
use serde_json::json;

use crate::cli::PlanArgs;
use crate::error::{self, CliResult};
use crate::session::Session;

pub async fn exec(session: &Session, args: &PlanArgs) -> CliResult {
    let opened = session.open_read_live().await?;
    let (env, ledger) = (&opened.env, &opened.ledger);
    super::contracts::gate(session, ledger.state())?;
    let steps = pipeline::deploy();
    let rows: Vec<_> = engine::plan(&steps, env, ledger.state())
        .await
        .into_iter()
        .map(|(name, d)| (name, d.run, d.reason))
        .collect();
    // Terraform's own view of what the infrastructure step would change, on request.
    let mut diff = Vec::new();
    if args.diff {
        for (step, (_, run, _)) in steps.iter().zip(&rows) {
            if *run && let Some(lines) = step.preview(env).await {
                diff.push((step.name(), lines));
            }
        }
    }
    let pending = rows.iter().any(|r| r.1);
    let code = if args.detailed_exitcode && pending {
        error::CHANGES
    } else {
        error::OK
    };
    let orphans: Vec<String> = match env.aws().await {
        Ok(aws) => discover::orphans(aws, &session.config, ledger.state())
            .await
            .unwrap_or_else(|e| {
                let why = format!("could not look for orphans by their tags: {e}");
                session.printer.warn(&why);
                Vec::new()
            }),
        Err(_) => Vec::new(),
    }
    .iter()
    .map(|r| r.label())
    .collect();
    let pending = deploy_steps::change::pending(env).await;
    if args.json {
        let steps: Vec<_> = rows
            .iter()
            .map(|(n, run, why)| json!({"step": n, "run": run, "reason": why}))
            .collect();
        let changes: serde_json::Map<String, serde_json::Value> = diff
            .iter()
            .map(|(s, l)| (s.to_string(), json!(l)))
            .collect();
        let doc = json!({"target": env.target, "steps": steps, "orphans": orphans,
                         "changes": changes, "change": pending});
        session
            .printer
            .out(&serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(code);
    }
    let mut text = format!("Plan against {}\n", env.target);
    for (name, run, why) in &rows {
        let verb = if *run { "run " } else { "skip" };
        text.push_str(&format!("  {verb}  {name:<15} {why}\n"));
        if let Some((_, lines)) = diff.iter().find(|(s, _)| s == name) {
            for l in lines {
                text.push_str(&format!("          {l}\n"));
            }
        }
    }
    for line in pending.lines() {
        text.push_str(&format!("  change {line}\n"));
    }
    for o in &orphans {
        text.push_str(&format!(
            "  orphan {o}: carries this deployment's tags but is not in its state (`deploy adopt`)\n"
        ));
    }
    let n = rows.iter().filter(|r| r.1).count();
    text.push_str(&match n {
        0 => "Nothing to do.".to_string(),
        n => format!("{n} step(s) would run: `deploy all` runs them."),
    });
    session.printer.out(&text);
    Ok(code)
}

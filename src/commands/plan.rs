//! `deploy plan`: which steps would run, and why. Changes nothing.

use deploy_steps::discover;
use deploy_steps::engine;
use deploy_steps::pipeline;

use crate::cli::PlanArgs;
use crate::error::{self, CliResult};
use crate::session::Session;
use crate::views;

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
    let plan = views::plan::Plan {
        target: &env.target,
        rows: &rows,
        diff: &diff,
        pending: &pending,
        orphans: &orphans,
    };
    let text = if args.json {
        serde_json::to_string_pretty(&views::plan::json(&plan)).expect("json")
    } else {
        views::plan::text(&plan)
    };
    session.printer.out(&text);
    Ok(code)
}

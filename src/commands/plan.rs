//! `deploy plan`: which steps would run, and why. Changes nothing.

use deploy_steps::discover;
use deploy_steps::engine;
use deploy_steps::pipeline;

use crate::cli::{PlanArgs, PlanFormat};
use crate::error::CliError;
use crate::error::{self, CliResult};
use crate::session::Session;
use crate::views;

pub async fn exec(session: &Session, args: &PlanArgs) -> CliResult {
    if args.out.is_some() || args.format == PlanFormat::Markdown {
        return artifact(session, args).await;
    }
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
    let verifies = rows.iter().any(|(n, run, _)| *n == "test-events" && *run);
    let rollback = views::rollback::Rollback::read(env.state.as_deref(), verifies).await;
    let plan = views::plan::Plan {
        target: &env.target,
        rows: &rows,
        diff: &diff,
        pending: &pending,
        orphans: &orphans,
        rollback: &rollback,
    };
    let text = if args.json {
        serde_json::to_string_pretty(&views::plan::json(&plan)).expect("json")
    } else {
        views::plan::text(&plan)
    };
    session.printer.out(&text);
    Ok(code)
}

/// `plan --out FILE` / `--format markdown`: the plan as an artifact. Reads the state without the
/// lock and writes nothing of it.
async fn artifact(session: &Session, args: &PlanArgs) -> CliResult {
    let opened = session.open_read_live().await?;
    super::contracts::gate(session, opened.ledger.state())?;
    let mut deployment = session.identity.clone();
    deployment.account = session.account().await.ok();
    let artifact = deploy_steps::artifact::make(&opened.env, &opened.ledger, &deployment)
        .await
        .map_err(CliError::failed)?;
    if let Some(path) = &args.out {
        let bytes = deploy_steps::artifact::write(&artifact);
        deploy_state::fsutil::write_atomic(path, &bytes).map_err(|e| {
            CliError::usage(format!(
                "cannot write the plan artifact {}: {e}",
                path.display()
            ))
        })?;
        session
            .printer
            .info(&format!("plan artifact written to {}", path.display()));
    }
    let m = &artifact.manifest;
    let text = match (args.format, args.json) {
        (PlanFormat::Markdown, _) => deploy_steps::artifact::markdown::render(m),
        (_, true) => serde_json::to_string_pretty(m).expect("json"),
        _ => views::artifact::text(m, &artifact.id()),
    };
    session.printer.out(&text);
    Ok(if args.detailed_exitcode && !m.is_noop() {
        error::CHANGES
    } else {
        error::OK
    })
}

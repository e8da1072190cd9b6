//! `deploy show-plan FILE`: what a plan artifact holds (no AWS, no state).

use crate::cli::ShowPlanArgs;
use crate::error::{self, CliError, CliResult};
use crate::printer::Printer;
use crate::views;

pub fn exec(printer: &Printer, args: &ShowPlanArgs) -> CliResult {
    let bytes = std::fs::read(&args.file).map_err(|e| {
        CliError::usage(format!(
            "cannot read the plan artifact {}: {e}",
            args.file.display()
        ))
    })?;
    let artifact = deploy_steps::artifact::read(&bytes)
        .map_err(|e| CliError::new(error::PLAN_STALE, format!("{}: {e}", args.file.display())))?;
    let text = if args.json {
        serde_json::to_string_pretty(&artifact.manifest).expect("json")
    } else {
        views::artifact::text(&artifact.manifest, &artifact.id())
    };
    printer.out(&text);
    Ok(error::OK)
}

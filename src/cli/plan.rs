//! `deploy plan` and `deploy show-plan`: the arguments.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::global::{NoLock, Offline};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan as one JSON document.
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when nothing would run, 8 when something would (as Terraform's own flag).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Show what Terraform would change in the infrastructure step, resource by resource.
    #[arg(long)]
    pub diff: bool,
    /// Write a plan artifact to FILE: what was reviewed is what `deploy all --plan FILE`
    /// applies, or it refuses.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to print the plan: `text`, or `markdown` for a pull request comment (within
    /// GitHub's 65,535 characters).
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    // It never takes the lock.
    #[command(flatten)]
    pub _global: NoLock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ShowPlanArgs {
    /// The plan artifact (`deploy plan --out FILE`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The manifest as one JSON document.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub _global: Offline,
}

//! `deploy`: the binary. Decides *what* was asked; the `deploy-steps` library knows *how*.

mod cli;
mod commands;
mod durations;
mod error;
mod github;
mod ndjson;
mod printer;
mod prompt;
mod reviewed;
mod rollback;
mod run;
mod session;
mod store;
mod views;

use std::process::ExitCode;

use clap::Parser;
use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::error::CliResult;
use crate::printer::Printer;
use crate::session::Session;

/// How long a finished run waits for a lock it dropped to be given up.
const RELEASE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Arc::new(Printer::new(&cli.global, cli.command.json_stream()));
    let code = match dispatch(&cli, printer.clone()).await {
        Ok(code) => code,
        Err(e) => {
            let at = e.at.as_ref().map(|(f, l, k)| (f.as_str(), *l, k.as_str()));
            printer.error_at(&e.message, at);
            e.code
        }
    };
    // A shared lock dropped on an early return is given up by a request still in flight: let
    // it land, so the next run does not wait out the lease.
    if !deploy_state::backend::wait_for_releases(RELEASE_DEADLINE).await {
        printer.warn("the run lock could not be given up: the next run takes it over once its lease runs out");
    }
    printer.run_finished(&cli.command.title(), code, None);
    ExitCode::from(code)
}

async fn dispatch(cli: &Cli, printer: Arc<Printer>) -> CliResult {
    if let Command::Init(args) = &cli.command {
        return commands::init::exec(&cli.global, args).await;
    }
    if let Command::Completions(args) = &cli.command {
        let mut script = Vec::new();
        clap_complete::generate(
            args.shell,
            &mut cli::for_completions(),
            "deploy",
            &mut script,
        );
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
        return Ok(error::OK);
    }
    if let Command::ShowPlan(args) = &cli.command {
        return commands::show_plan::exec(&printer, args);
    }
    let session = Session::new(&cli.global, printer)?;
    match &cli.command {
        Command::Init(_) | Command::Completions(_) | Command::ShowPlan(_) => {
            unreachable!("handled above")
        }
        Command::All(a) => commands::all::exec(&session, a).await,
        Command::Run(a) => commands::run::exec(&session, a).await,
        Command::Plan(a) => commands::plan::exec(&session, a).await,
        Command::Status(a) => commands::status::exec(&session, a).await,
        Command::Destroy(a) => commands::destroy::exec(&session, a).await,
        Command::Adopt(a) => commands::adopt::exec(&session, a).await,
        Command::Reset(a) => commands::reset::exec(&session, a).await,
        Command::Logs(a) => commands::logs::exec(&session, a).await,
        Command::Emulator(a) => commands::emulator::exec(&session, a),
        Command::State(a) => commands::state::exec(&session, a).await,
        Command::Unlock(a) => commands::state::unlock(&session, a).await,
        Command::Rollback(a) => commands::rollback::exec(&session, a).await,
        Command::Outputs(a) => commands::outputs::exec(&session, a).await,
        Command::Contracts(a) => commands::contracts::exec(&session, a).await,
        Command::Replay(a) => commands::replay::exec(&session, a).await,
        Command::Dlq(a) => commands::dlq::exec(&session, a).await,
    }
}

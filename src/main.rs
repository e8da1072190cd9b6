//! `deploy`: the binary. Decides *what* was asked; the `deploy-steps` library knows *how*.

mod cli;
mod commands;
mod error;
mod printer;
mod prompt;
mod session;
mod store;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::CliResult;
use crate::session::Session;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = dispatch(&cli).await;
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            printer::Printer::new(&cli.global).error(&e.message);
            ExitCode::from(e.code)
        }
    }
}

async fn dispatch(cli: &Cli) -> CliResult {
    if let Command::Init(args) = &cli.command {
        return commands::init::exec(&cli.global, args).await;
    }
    let session = Session::new(&cli.global)?;
    match &cli.command {
        Command::Init(_) => unreachable!("handled above"),
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
    }
}

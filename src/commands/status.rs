//! `deploy status`: the local view of the ledger (fast, no AWS calls); `--all`: every
//! deployment the state holds; `--live`: see `live.rs`.

use crate::cli::StatusArgs;
use crate::error::{self, CliResult};
use crate::session::Session;
use crate::views::status::{self, Shown};

pub async fn exec(session: &Session, args: &StatusArgs) -> CliResult {
    if args.live {
        return super::live::exec(session, args.json).await;
    }
    if args.all {
        let listed = crate::store::deployments(session).await?;
        let text = if args.json {
            serde_json::to_string_pretty(&status::all_json(&listed)).expect("json")
        } else {
            status::all_text(&listed)
        };
        session.printer.out(&text);
        return Ok(error::OK);
    }
    let ledger = session.read_ledger().await?;
    let shown = Shown {
        empty: ledger.is_empty().await,
        ledger: &ledger,
        deployment: session.identity.clone(),
        environment: &session.config.project.environment,
        emulator: serde_json::to_value(session.emulator_record()).expect("json"),
    };
    let text = if args.json {
        serde_json::to_string_pretty(&status::json(&shown)).expect("json")
    } else {
        status::text(&shown)
    };
    session.printer.out(&text);
    Ok(error::OK)
}

//! `deploy dlq show|export|redrive`: the dead-letter queue looked at, exported to a file, or
//! re-published to its bus.
//!
//! None of them takes the run lock. They read the ledger once, for the queue's URL and the bus,
//! and then change the queue, never the ledger; their safety does not rest on the lock: a
//! message is deleted only after its event is safe elsewhere, and a second redrive or export
//! running at the same time (or the dead-letter processor) only sees other messages, or sends
//! one more copy. Holding the lock would stop every deploy for the length of a rate-limited
//! redrive for nothing.

use deploy_steps::dlq::{self, ExportRequest, RedriveRequest};
use serde_json::Value;

use crate::cli::{DlqAction, DlqArgs};
use crate::error::{self, CliResult};
use crate::session::Session;
use crate::views::dlq as view;

/// A report as JSON (the library's reports serialize as they are).
macro_rules! json {
    ($report:expr) => {
        serde_json::to_value(&$report).expect("json")
    };
}

pub async fn exec(session: &Session, args: &DlqArgs) -> CliResult {
    let opened = session.open_read_live().await?;
    let (env, state) = (&opened.env, opened.ledger.state());
    match &args.action {
        DlqAction::Show(a) => {
            let peek = dlq::show(env, state).await?;
            let text = || view::show_text(&peek);
            print(session, a.json.then(|| json!(peek)), &peek.warnings, text);
            Ok(error::OK)
        }
        DlqAction::Export(a) => {
            let request = ExportRequest {
                path: a.file.clone(),
                delete: a.delete,
            };
            let done = dlq::export(env, state, &request).await?;
            let text = || view::export_text(&done);
            print(session, a.json.then(|| json!(done)), &done.warnings, text);
            Ok(code(
                session,
                done.failed(),
                "some messages were not exported or deleted",
            ))
        }
        DlqAction::Redrive(a) => {
            let request = RedriveRequest {
                max: a.max,
                rate: a.rate,
                dry_run: a.dry_run,
            };
            let done = dlq::redrive(env, state, &request).await?;
            let text = || view::redrive_text(&done);
            print(session, a.json.then(|| json!(done)), &done.warnings, text);
            Ok(code(
                session,
                done.failed(),
                "some events were not re-published",
            ))
        }
    }
}

/// The report on stdout (one JSON document under `--json`, else the text), warnings on stderr.
fn print(
    session: &Session,
    json: Option<Value>,
    warnings: &[String],
    text: impl FnOnce() -> String,
) {
    for w in warnings {
        session.printer.warn(w);
    }
    let out = match json {
        Some(doc) => serde_json::to_string_pretty(&doc).expect("json"),
        None => text(),
    };
    session.printer.out(&out);
}

/// Exit 1 (saying so on stderr) when something failed, else 0.
fn code(session: &Session, failed: bool, what: &str) -> u8 {
    if failed {
        session
            .printer
            .error(&format!("{what}: they are still in the queue (see above)"));
        error::STEP_FAILED
    } else {
        error::OK
    }
}

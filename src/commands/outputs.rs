//! `deploy outputs [NAME] [--json]`: what the next job needs from the deployment (bus, rules,
//! archive, queue, functions, roles), read from the state without calling AWS; also written by
//! `deploy all --outputs-file PATH` and, under GitHub Actions, to `$GITHUB_OUTPUT`.

use std::collections::BTreeMap;
use std::path::Path;

use deploy_state::LedgerState;
use serde_json::{Value, json};

use crate::cli::OutputsArgs;
use crate::error::{self, CliError, CliResult};
use crate::session::Session;

/// Every output by name: strings, or name → ARN maps (`rules`, `functions`).
pub fn collect(state: &LedgerState) -> BTreeMap<String, Value> {
    deploy_steps::outputs::deployment(state)
}

/// One value as a script wants it: a string raw, anything else as JSON.
pub fn raw(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).expect("json"),
    }
}

/// Writes the outputs to `path` atomically, as one JSON document.
pub fn write_file(path: &Path, outputs: &BTreeMap<String, Value>) -> Result<(), CliError> {
    let mut bytes = serde_json::to_vec_pretty(outputs).expect("json");
    bytes.push(b'\n');
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))
}

pub async fn exec(session: &Session, args: &OutputsArgs) -> CliResult {
    let ledger = session.read_ledger().await?;
    let outputs = collect(ledger.state());
    if outputs.is_empty() {
        return Err(CliError::new(
            error::NOTHING_DEPLOYED,
            format!(
                "no outputs: nothing of {} is deployed according to {}",
                session.identity,
                ledger.location()
            ),
        ));
    }
    if let Some(name) = &args.name {
        let v = outputs.get(name).ok_or_else(|| {
            CliError::usage(format!(
                "no output `{name}`; outputs: {}",
                outputs.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        })?;
        session.printer.out(&raw(v));
        return Ok(error::OK);
    }
    if args.json {
        session
            .printer
            .out(&serde_json::to_string_pretty(&json!(outputs)).expect("json"));
        return Ok(error::OK);
    }
    let mut t = String::new();
    for (k, v) in &outputs {
        match v {
            Value::Object(m) => {
                t.push_str(&format!("{k}:\n"));
                for (n, a) in m {
                    t.push_str(&format!("  {n:<45} {}\n", raw(a)));
                }
            }
            v => t.push_str(&format!("{k:<20} {}\n", raw(v))),
        }
    }
    session.printer.out(t.trim_end());
    Ok(error::OK)
}

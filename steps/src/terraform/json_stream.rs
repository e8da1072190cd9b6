//! Terraform's machine-readable UI (`plan/apply/destroy -json`): one JSON object a line, typed
//! (`apply_start`, `apply_complete`, `change_summary`, `diagnostic`, ...). Read instead of
//! scraping the human output: resource progress, the change summary and typed diagnostics.

use serde_json::Value;

use super::classify::ErrorBlock;

/// What one line of `-json` output says.
#[derive(Debug, Clone, PartialEq)]
pub enum TfEvent {
    /// A resource the plan would change (`planned_change`).
    Planned { address: String, action: String },
    /// A resource change started / still running / done / failed (`apply_*` hooks).
    Resource {
        phase: Phase,
        address: String,
        action: String,
        elapsed_seconds: Option<u64>,
    },
    /// `change_summary`: how many resources were (or would be) added, changed, removed.
    Summary {
        operation: String,
        add: u64,
        change: u64,
        remove: u64,
        import: u64,
    },
    /// An error or warning, with the resource it is about.
    Diagnostic {
        severity: String,
        summary: String,
        detail: String,
        address: Option<String>,
    },
    /// Anything else (version, refresh hooks, outputs, log lines).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Started,
    Progress,
    Completed,
    Errored,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Started => "start",
            Phase::Progress => "progress",
            Phase::Completed => "complete",
            Phase::Errored => "errored",
        }
    }
}

/// Parses one line; `None` when it is not a JSON object (a line terraform printed as text).
pub fn parse_line(line: &str) -> Option<TfEvent> {
    let v: Value = serde_json::from_str(line.trim()).ok()?;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let event = match v["type"].as_str()? {
        "planned_change" | "resource_drift" => TfEvent::Planned {
            address: s(&v["change"]["resource"]["addr"]),
            action: s(&v["change"]["action"]),
        },
        t @ ("apply_start" | "apply_progress" | "apply_complete" | "apply_errored") => {
            let phase = match t {
                "apply_start" => Phase::Started,
                "apply_progress" => Phase::Progress,
                "apply_complete" => Phase::Completed,
                _ => Phase::Errored,
            };
            TfEvent::Resource {
                phase,
                address: s(&v["hook"]["resource"]["addr"]),
                action: s(&v["hook"]["action"]),
                elapsed_seconds: v["hook"]["elapsed_seconds"].as_u64(),
            }
        }
        "change_summary" => {
            let c = &v["changes"];
            TfEvent::Summary {
                operation: s(&c["operation"]),
                add: c["add"].as_u64().unwrap_or(0),
                change: c["change"].as_u64().unwrap_or(0),
                remove: c["remove"].as_u64().unwrap_or(0),
                import: c["import"].as_u64().unwrap_or(0),
            }
        }
        "diagnostic" => {
            let d = &v["diagnostic"];
            TfEvent::Diagnostic {
                severity: s(&d["severity"]),
                summary: s(&d["summary"]),
                detail: s(&d["detail"]),
                address: d["address"].as_str().map(str::to_string),
            }
        }
        _ => TfEvent::Other,
    };
    Some(event)
}

/// The error diagnostics of a run, as the blocks the failure classification reads.
pub fn error_blocks(stdout: &str) -> Vec<ErrorBlock> {
    stdout
        .lines()
        .filter_map(parse_line)
        .filter_map(|e| match e {
            TfEvent::Diagnostic {
                severity,
                summary,
                detail,
                address,
            } if severity == "error" => Some(ErrorBlock {
                text: if detail.is_empty() {
                    format!("Error: {summary}")
                } else {
                    format!("Error: {summary}\n\n{detail}")
                },
                summary,
                address,
            }),
            _ => None,
        })
        .collect()
}

/// A plan's changes, one line a resource (`+ aws_sqs_queue.dlq (create)`), replacements
/// flagged, then the summary; `no changes` when there are none.
pub fn planned_lines(stdout: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut summary = None;
    for e in stdout.lines().filter_map(parse_line) {
        match e {
            TfEvent::Planned { address, action } => {
                let (mark, note) = match action.as_str() {
                    "create" => ("+", ""),
                    "update" => ("~", ""),
                    "delete" => ("-", ""),
                    "replace" => ("-/+", "  <= REPLACED: deleted, then made again"),
                    "read" => ("<=", ""),
                    _ => ("?", ""),
                };
                lines.push(format!("{mark} {address} ({action}){note}"));
            }
            TfEvent::Summary {
                add,
                change,
                remove,
                import,
                ..
            } => {
                summary = Some(format!(
                    "Plan: {add} to add, {change} to change, {remove} to destroy{}",
                    if import > 0 {
                        format!(", {import} to import")
                    } else {
                        String::new()
                    }
                ))
            }
            _ => {}
        }
    }
    if lines.is_empty() {
        return vec!["no changes".to_string()];
    }
    lines.extend(summary);
    lines
}

/// `16 added, 0 changed, 0 destroyed` (and imports, when there were any).
pub fn summary_line(add: u64, change: u64, remove: u64, import: u64) -> String {
    let mut s = format!("{add} added, {change} changed, {remove} destroyed");
    if import > 0 {
        s.push_str(&format!(", {import} imported"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hooks_summaries_and_diagnostics_are_typed() {
        let start = r#"{"@level":"info","type":"apply_start","hook":{"resource":{"addr":"aws_sqs_queue.dlq"},"action":"create"}}"#;
        assert_eq!(
            parse_line(start),
            Some(TfEvent::Resource {
                phase: Phase::Started,
                address: "aws_sqs_queue.dlq".into(),
                action: "create".into(),
                elapsed_seconds: None
            })
        );
        let done = r#"{"type":"apply_complete","hook":{"resource":{"addr":"aws_sqs_queue.dlq"},"action":"create","elapsed_seconds":25}}"#;
        assert!(matches!(
            parse_line(done),
            Some(TfEvent::Resource {
                phase: Phase::Completed,
                elapsed_seconds: Some(25),
                ..
            })
        ));
        let sum = r#"{"type":"change_summary","changes":{"add":16,"change":0,"import":0,"remove":0,"operation":"apply"}}"#;
        assert_eq!(
            parse_line(sum),
            Some(TfEvent::Summary {
                operation: "apply".into(),
                add: 16,
                change: 0,
                remove: 0,
                import: 0
            })
        );
        assert_eq!(
            summary_line(16, 0, 0, 0),
            "16 added, 0 changed, 0 destroyed"
        );
        assert_eq!(parse_line("Terraform has been initialized"), None);
    }

    #[test]
    fn error_diagnostics_become_blocks_with_their_address() {
        let out = concat!(
            r#"{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"deprecated","detail":""}}"#,
            "\n",
            r#"{"type":"diagnostic","diagnostic":{"severity":"error","summary":"creating IAM Role (dev-r): EntityAlreadyExists: Role with name dev-r already exists.","detail":"","address":"aws_iam_role.publisher"}}"#,
            "\n"
        );
        let blocks = error_blocks(out);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].address.as_deref(), Some("aws_iam_role.publisher"));
        assert!(blocks[0].text.starts_with("Error: creating IAM Role"));
    }
}

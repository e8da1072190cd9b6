//! What went wrong, from terraform's `Error:` blocks.
//!
//! Only the error blocks are read, never the whole output: a plan lists attributes such as
//! `visibility_timeout_seconds`, which would look like a timeout.

use crate::engine::{ErrorClass, classify_text};

/// One `Error:` block of terraform's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBlock {
    /// The first line, without `Error: `.
    pub summary: String,
    /// The whole block as terraform printed it (trimmed).
    pub text: String,
    /// The resource address from the `with <address>,` line, when there is one.
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `init` found no provider source (no registry access, no usable mirror).
    ProviderUnreachable(ErrorBlock),
    /// Resources already in AWS that this state does not know: address and summary of each.
    AlreadyExists(Vec<ErrorBlock>),
    /// Every error is an authorization error of the EventBridge Schemas API.
    SchemaAccess(Vec<ErrorBlock>),
    /// Throttling, timeouts, connection errors, 5xx: worth another attempt.
    Transient(ErrorBlock),
    /// Anything else: the last error block (or the tail of the output when there is none).
    Other(ErrorBlock),
}

const PROVIDER_SOURCE_MARKERS: &[&str] = &[
    "failed to query available provider packages",
    "failed to install provider",
    "could not connect to registry",
    "failed to request discovery document",
    "was not found in any of the search locations",
];

const SCHEMA_ACCESS_MARKERS: &[&str] = &["not authorized to perform: schemas:"];

/// Splits terraform's output into its error blocks (with or without the box drawing).
pub fn error_blocks(output: &str) -> Vec<ErrorBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for raw in output.lines() {
        let line = strip_box(raw);
        if line.starts_with("Error: ") || line.starts_with("Warning: ") {
            if let Some(lines) = current.take() {
                blocks.push(block(&lines));
            }
            if line.starts_with("Error: ") {
                current = Some(vec![line]);
            }
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some(lines) = current {
        blocks.push(block(&lines));
    }
    blocks
}

fn strip_box(line: &str) -> &str {
    let t = line.trim_start_matches(['│', '╷', '╵']);
    if t.len() != line.len() {
        t.strip_prefix(' ').unwrap_or(t)
    } else {
        line
    }
}

fn block(lines: &[&str]) -> ErrorBlock {
    let text = lines.join("\n").trim().to_string();
    let summary = lines[0].trim_start_matches("Error: ").trim().to_string();
    let address = lines.iter().find_map(|l| {
        let rest = l.trim().strip_prefix("with ")?;
        Some(rest.trim_end_matches(',').to_string())
    });
    ErrorBlock {
        summary,
        text,
        address,
    }
}

/// Removes what varies and means nothing (request ids, ARNs, hex digits) so the transient
/// markers (`503`, `timeout`...) are not matched by chance.
fn sanitize(text: &str) -> String {
    let mut out = Vec::new();
    let mut skip_next = false;
    for word in text.split_whitespace() {
        if skip_next {
            skip_next = false;
            continue;
        }
        if word.eq_ignore_ascii_case("RequestID:") || word.eq_ignore_ascii_case("RequestId:") {
            skip_next = true;
            continue;
        }
        if word.contains("arn:") || word.contains("[id=") {
            continue;
        }
        out.push(word);
    }
    out.join(" ")
}

fn is_schema_access(b: &ErrorBlock) -> bool {
    let lower = b.text.to_ascii_lowercase();
    SCHEMA_ACCESS_MARKERS.iter().any(|m| lower.contains(m))
        || (b
            .address
            .as_deref()
            .is_some_and(|a| a.starts_with("aws_schemas_"))
            && (lower.contains("accessdenied") || lower.contains("not authorized")))
}

/// Classifies a failed command's output: the typed diagnostics of `-json` output, or the
/// `Error:` blocks of human output.
pub fn classify(output: &str) -> Failure {
    let blocks = match super::json_stream::error_blocks(output) {
        typed if !typed.is_empty() => typed,
        _ => error_blocks(output),
    };
    let Some(last) = blocks.last().cloned() else {
        let tail = tail_block(output);
        return if classify_text(&sanitize(&tail.text)) == ErrorClass::Transient {
            Failure::Transient(tail)
        } else {
            Failure::Other(tail)
        };
    };
    if let Some(b) = blocks.iter().find(|b| {
        let lower = b.text.to_ascii_lowercase();
        PROVIDER_SOURCE_MARKERS.iter().any(|m| lower.contains(m))
    }) {
        return Failure::ProviderUnreachable(b.clone());
    }
    let exists: Vec<ErrorBlock> = blocks
        .iter()
        .filter(|b| b.text.to_ascii_lowercase().contains("already exists"))
        .cloned()
        .collect();
    if !exists.is_empty() {
        return Failure::AlreadyExists(exists);
    }
    // Another terraform (an interrupted run still writing its state) holds the lock: it ends.
    if let Some(b) = blocks.iter().find(|b| {
        b.summary
            .to_ascii_lowercase()
            .contains("error acquiring the state lock")
    }) {
        return Failure::Transient(b.clone());
    }
    if blocks.iter().all(is_schema_access) {
        return Failure::SchemaAccess(blocks);
    }
    if let Some(b) = blocks
        .iter()
        .find(|b| classify_text(&sanitize(&b.text)) == ErrorClass::Transient)
    {
        return Failure::Transient(b.clone());
    }
    Failure::Other(last)
}

/// The last lines of an output that holds no `Error:` block (a crash, a killed process).
fn tail_block(output: &str) -> ErrorBlock {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    ErrorBlock {
        summary: lines.last().map_or("no output", |l| l.trim()).to_string(),
        text: lines[lines.len().saturating_sub(15)..].join("\n"),
        address: None,
    }
}

/// A block quoted for an error message: at most `max_lines` lines.
pub fn quote(block: &ErrorBlock, max_lines: usize) -> String {
    let lines: Vec<&str> = block.text.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(max_lines)
        .map(|l| format!("  | {l}"))
        .collect();
    if lines.len() > max_lines {
        out.push(format!("  | ... ({} more lines)", lines.len() - max_lines));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXISTS: &str = "\nError: creating EventBridge Event Bus (dev-application-events): operation error EventBridge: CreateEventBus, https response error StatusCode: 400, RequestID: 5035-504, ResourceAlreadyExistsException: Event bus dev-application-events already exists\n\n  with aws_cloudwatch_event_bus.this,\n  on bus.tf line 3, in resource \"aws_cloudwatch_event_bus\" \"this\":\n   3: resource \"aws_cloudwatch_event_bus\" \"this\" {\n\n\nError: creating IAM Role (dev-event-publisher-role): operation error IAM: CreateRole, https response error StatusCode: 409, RequestID: 1, EntityAlreadyExists: Role with name dev-event-publisher-role already exists.\n\n  with aws_iam_role.publisher,\n  on iam.tf line 43, in resource \"aws_iam_role\" \"publisher\":\n  43: resource \"aws_iam_role\" \"publisher\" {\n";

    #[test]
    fn splits_blocks_and_finds_addresses() {
        let blocks = error_blocks(EXISTS);
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            blocks[0].address.as_deref(),
            Some("aws_cloudwatch_event_bus.this")
        );
        assert_eq!(blocks[1].address.as_deref(), Some("aws_iam_role.publisher"));
        assert!(
            blocks[1]
                .summary
                .starts_with("creating IAM Role (dev-event-publisher-role)")
        );
    }

    #[test]
    fn already_exists_is_its_own_failure_whatever_the_request_id() {
        match classify(EXISTS) {
            Failure::AlreadyExists(b) => assert_eq!(b.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn timeouts_and_throttling_are_transient_but_plan_attributes_are_not() {
        let timeout = "Error: creating SQS Queue (q): operation error SQS: CreateQueue, https response error StatusCode: 0, RequestID: , request send failed: net/http: request canceled (Client.Timeout exceeded while awaiting headers)\n\n  with aws_sqs_queue.dlq,";
        assert!(matches!(classify(timeout), Failure::Transient(_)));
        let throttled = "│ Error: putting rule: ThrottlingException: Rate exceeded\n│ \n│   with aws_cloudwatch_event_rule.this[\"x\"],";
        match classify(throttled) {
            Failure::Transient(b) => {
                assert_eq!(
                    b.address.as_deref(),
                    Some("aws_cloudwatch_event_rule.this[\"x\"]")
                )
            }
            other => panic!("{other:?}"),
        }
        // Many throttled requests at once: the provider's SDK gives up on its retry quota.
        let quota = "Error: creating EventBridge Target (r-q): operation error EventBridge: PutTargets, failed to get rate limit token, retry quota exceeded, 0 available, 5 requested\n\n  with aws_cloudwatch_event_target.this[\"r/q\"],";
        assert!(matches!(classify(quota), Failure::Transient(_)));
        let plan_then_error = "  + visibility_timeout_seconds = 30\n  + arn = \"arn:aws:sqs:us-east-1:000000000000:dlq-503\"\n\nError: Invalid value for variable\n\n  on variables.tf line 3:\nregion must look like an AWS region.";
        match classify(plan_then_error) {
            Failure::Other(b) => assert_eq!(b.summary, "Invalid value for variable"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn schema_authorization_errors_are_recognised_only_when_they_are_all_there_is() {
        let schema = "Error: creating EventBridge Schemas Registry (dev-event-schemas): AccessDeniedException: User: arn:aws:iam::1:user/ci is not authorized to perform: schemas:CreateRegistry\n\n  with aws_schemas_registry.this[0],";
        assert!(matches!(classify(schema), Failure::SchemaAccess(b) if b.len() == 1));
        let mixed = format!(
            "{schema}\n\nError: creating IAM Role (r): AccessDenied: no\n\n  with aws_iam_role.dlq,"
        );
        assert!(matches!(classify(&mixed), Failure::Other(_)));
    }

    #[test]
    fn a_held_state_lock_is_transient() {
        let out = "Error: Error acquiring the state lock\n\nError message: resource temporarily unavailable\nLock Info:\n  ID: 1";
        assert!(matches!(classify(out), Failure::Transient(_)));
    }

    #[test]
    fn unreachable_provider_sources_are_named() {
        let out = "Initializing provider plugins...\n\nError: Failed to query available provider packages\n\nCould not retrieve the list of available versions for provider hashicorp/aws:\ncould not connect to registry.terraform.io: failed to request discovery\ndocument: Get \"https://registry.terraform.io/.well-known/terraform.json\":\ndial tcp: lookup registry.terraform.io: i/o timeout";
        assert!(matches!(classify(out), Failure::ProviderUnreachable(_)));
    }

    #[test]
    fn without_error_blocks_the_tail_is_quoted() {
        match classify("a\nb\npanic: runtime error: nil pointer\n") {
            Failure::Other(b) => {
                assert_eq!(b.summary, "panic: runtime error: nil pointer");
                assert!(quote(&b, 2).contains("... (1 more lines)"));
            }
            other => panic!("{other:?}"),
        }
    }
}

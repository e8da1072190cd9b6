//! Event contracts: whether a new version of an event's JSON Schema is compatible with the
//! versions before it.
//!
//! The rules are this repository's `docs/COMPATIBILITY.md` (modes, content models and a table
//! of 24 numbered rows), which follows Confluent Schema Registry's JSON Schema checker. Every [`Finding`] names the row it breaks (`rule`), the JSON pointer of the place in
//! the schema, and what to change.
//!
//! - [`backward_findings`]: can readers of the new version read events written under the old one?
//! - [`forward_findings`]: can readers of the old version read events written under the new one?
//! - [`check`] / [`check_history`]: apply a [`Mode`] to numbered versions.
//!
//! The checker is draft-aware (Draft 4 boolean `exclusiveMaximum`, Draft 6+ numeric one),
//! resolves local `$ref`s (`#/definitions/…`, `#/$defs/…`, any `#/…` pointer) and treats remote
//! or unresolvable ones as `{}`.
//!
//! ```
//! use deploy_contracts::{Direction, Mode, backward_findings, check};
//! use serde_json::json;
//!
//! let v1 = json!({"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": false});
//! let v2 = json!({"type": "object", "properties": {"id": {"type": "integer"}}, "additionalProperties": false});
//!
//! let findings = backward_findings(&v1, &v2);
//! assert_eq!(findings[0].pointer, "/properties/id/type");
//! assert_eq!(findings[0].rule, 13);
//! assert!(findings[0].message.starts_with("type changed from string to integer"));
//!
//! let violations = check(Mode::Full, &[(1, &v1), (2, &v2)]);
//! assert_eq!(violations.len(), 2);
//! assert_eq!(violations[1].finding.direction, Direction::Forward);
//! ```

pub mod catalog;
mod check;
mod diff;
mod finding;
mod mode;
mod pattern;
mod schema;

pub use check::{check, check_history};
pub use finding::{Direction, Finding, Violation};
pub use mode::Mode;

use serde_json::Value;

/// Breaking changes for readers of `new` given events valid under `old` (the backward check: new
/// consumers must read old events). Empty = backward compatible.
///
/// Pointers point into `new` (for something removed: where it was).
pub fn backward_findings(old: &Value, new: &Value) -> Vec<Finding> {
    diff::findings(old, new, Direction::Backward)
}

/// The forward check: `old` must accept what `new` produces — the backward check with the two
/// versions swapped. Findings are tagged [`Direction::Forward`], their rule is the row of
/// `docs/COMPATIBILITY.md` for the change from `old` to `new`, and their pointers point into `new`.
pub fn forward_findings(old: &Value, new: &Value) -> Vec<Finding> {
    diff::findings(old, new, Direction::Forward)
}

#[cfg(test)]
mod tests;

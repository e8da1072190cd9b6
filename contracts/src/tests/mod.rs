//! Tests: every row of the table in `docs/COMPATIBILITY.md` in both directions, then modes,
//! structure and a realistic EventBridge schema.

mod bounds;
mod eventbridge;
mod modes;
mod objects;
mod pattern;
mod structure;
mod values;

use serde_json::Value;

use crate::{Finding, backward_findings, forward_findings};

/// Backward findings of `old` → `new`.
fn back(old: &Value, new: &Value) -> Vec<Finding> {
    backward_findings(old, new)
}

/// Forward findings of `old` → `new`.
fn fwd(old: &Value, new: &Value) -> Vec<Finding> {
    forward_findings(old, new)
}

/// Asserts no findings.
#[track_caller]
fn ok(findings: Vec<Finding>) {
    assert!(
        findings.is_empty(),
        "expected compatible, got {findings:#?}"
    );
}

/// Asserts findings and that one of them has `rule` at `pointer`.
#[track_caller]
fn breaks(findings: Vec<Finding>, rule: u8, pointer: &str) {
    assert!(
        findings
            .iter()
            .any(|f| f.rule == rule && f.pointer == pointer),
        "expected rule {rule} at {pointer:?}, got {findings:#?}"
    );
}

/// Asserts the expected result in both directions, and that the forward check agrees with
/// the backward check with the versions swapped.
#[track_caller]
fn expect(old: &Value, new: &Value, backward: Option<(u8, &str)>, forward: Option<(u8, &str)>) {
    match backward {
        None => ok(back(old, new)),
        Some((rule, pointer)) => breaks(back(old, new), rule, pointer),
    }
    match forward {
        None => ok(fwd(old, new)),
        Some((rule, pointer)) => breaks(fwd(old, new), rule, pointer),
    }
    assert_eq!(
        fwd(old, new).is_empty(),
        back(new, old).is_empty(),
        "forward differs from backward with the versions swapped"
    );
    assert!(
        fwd(old, new)
            .iter()
            .all(|f| f.direction == crate::Direction::Forward)
    );
    assert!(
        back(old, new)
            .iter()
            .all(|f| f.direction == crate::Direction::Backward)
    );
}

//! Applying a compatibility mode to numbered versions (`docs/COMPATIBILITY.md`, section Modes).

use serde_json::Value;

use crate::{Mode, Violation, backward_findings, forward_findings};

/// Checks the newest of `versions` (sorted ascending by number, at least one) under `mode`:
/// against the previous version, or against every earlier one for the `*-transitive` modes;
/// `full` = backward + forward. [`Mode::None`] → always empty.
///
/// Violations come ordered by the older version, backward findings before forward ones.
pub fn check(mode: Mode, versions: &[(u32, &Value)]) -> Vec<Violation> {
    let Some(((newer, new), earlier)) = versions.split_last() else {
        return Vec::new();
    };
    let against = if mode.is_transitive() {
        earlier
    } else {
        earlier.last().map_or(&[][..], std::slice::from_ref)
    };
    let mut violations = Vec::new();
    for &(older, old) in against {
        let mut findings = Vec::new();
        if mode.checks_backward() {
            findings.extend(backward_findings(old, new));
        }
        if mode.checks_forward() {
            findings.extend(forward_findings(old, new));
        }
        violations.extend(findings.into_iter().map(|finding| Violation {
            older,
            newer: *newer,
            finding,
        }));
    }
    violations
}

/// Checks every version against its predecessors (the whole history, not just the newest): the
/// same as calling [`check`] on each prefix of `versions`, in order.
pub fn check_history(mode: Mode, versions: &[(u32, &Value)]) -> Vec<Violation> {
    (2..=versions.len())
        .flat_map(|len| check(mode, &versions[..len]))
        .collect()
}

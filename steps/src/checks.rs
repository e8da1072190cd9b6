//! A check a step ran, and the table the operator reads: shared by `preflight` and
//! `test-events` so both report the same way (and `test-results.json` has one shape).

use std::time::Instant;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
    /// What to do about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    pub duration_ms: u64,
}

impl Check {
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            passed: true,
            detail: detail.into(),
            fix: None,
            duration_ms: 0,
        }
    }

    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check {
            passed: false,
            fix: Some(fix.into()),
            ..Check::pass(name, detail)
        }
    }

    /// A check that started at `start` and ended now.
    pub fn timed(
        name: impl Into<String>,
        start: Instant,
        passed: bool,
        detail: impl Into<String>,
    ) -> Self {
        Check {
            passed,
            duration_ms: start.elapsed().as_millis() as u64,
            ..Check::pass(name, detail)
        }
    }
}

/// The checks as a table: a mark, the name, the detail, and the fix under a failure.
pub fn table(checks: &[Check]) -> String {
    let width = checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .clamp(16, 48);
    let mut t = String::new();
    for c in checks {
        let mark = if c.passed { "ok  " } else { "FAIL" };
        t.push_str(&format!("  {mark}  {:<width$} {}\n", c.name, c.detail));
        if let Some(fix) = &c.fix {
            t.push_str(&format!("        {:<width$} fix: {fix}\n", ""));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_marks_failures_and_shows_the_fix() {
        let t = table(&[
            Check::pass("a", "fine"),
            Check::fail("b", "broken", "mend it"),
        ]);
        assert_eq!(
            t,
            "  ok    a                fine\n  FAIL  b                broken\n                         fix: mend it\n"
        );
    }
}

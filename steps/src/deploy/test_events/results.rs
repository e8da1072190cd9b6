//! Check results and `test-results.json`.

use serde::Serialize;

pub use crate::checks::{Check, table};

pub use deploy_state::RESULTS_FILE;

/// One published event and where it was seen arriving (`route/target`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventRecord {
    pub label: String,
    pub event_id: String,
    pub delivered_to: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub passed: bool,
    pub event_bus: String,
    pub started_at: String,
    pub finished_at: String,
    pub checks: Vec<Check>,
    pub events: Vec<EventRecord>,
}

impl Results {
    pub fn new(
        event_bus: &str,
        started_at: String,
        checks: Vec<Check>,
        events: Vec<EventRecord>,
    ) -> Self {
        Results {
            passed: !checks.is_empty() && checks.iter().all(|c| c.passed),
            event_bus: event_bus.to_string(),
            started_at,
            finished_at: jiff::Timestamp::now().to_string(),
            checks,
            events,
        }
    }

    pub fn failed(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.passed).collect()
    }

    /// The document kept with the deployment's state as `test-results.json`.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("results serialize")
    }
}

/// One line per check for the step log and the terminal.
pub fn line(c: &Check) -> String {
    let mark = if c.passed { "PASS" } else { "FAIL" };
    format!("{mark} {} ({} ms): {}", c.name, c.duration_ms, c.detail)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn results_pass_only_when_every_check_passed_and_are_written() {
        let t = Instant::now();
        let ok = Check::timed("a", t, true, "fine");
        let bad = Check::timed("b", t, false, "broken");
        let r = Results::new("bus", "now".into(), vec![ok.clone(), bad], vec![]);
        assert!(!r.passed);
        assert_eq!(r.failed().len(), 1);
        assert!(line(&r.checks[1]).starts_with("FAIL b"));
        assert!(table(&r.checks).contains("  FAIL  b "));
        assert!(!Results::new("bus", "now".into(), vec![], vec![]).passed);
        let bytes = Results::new("bus", "now".into(), vec![ok], vec![]).to_json();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["passed"], true);
        assert_eq!(doc["checks"][0]["name"], "a");
        assert!(doc["checks"][0]["duration_ms"].is_u64());
    }
}

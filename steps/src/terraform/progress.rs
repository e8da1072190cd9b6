//! Progress from terraform's output: which resource is being created (and for how long), how
//! many are done, and the plan/apply summaries. Throttled, so the terminal is not flooded.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The least time between two progress messages, summaries excepted.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

const STARTS: &[(&str, &str)] = &[
    (": Creating...", "creating"),
    (": Modifying...", "modifying"),
    (": Destroying...", "destroying"),
];
const ENDS: &[&str] = &[
    ": Creation complete after",
    ": Modifications complete after",
    ": Destruction complete after",
    ": Creation errored after",
    ": Modifications errored after",
    ": Destruction errored after",
];
const SUMMARIES: &[&str] = &["Plan: ", "Apply complete!", "No changes."];

#[derive(Debug, Default)]
pub struct Progress {
    /// Resources in flight: address -> (verb, since).
    active: BTreeMap<String, (&'static str, Instant)>,
    done: usize,
    last_emit: Option<Instant>,
    last_message: String,
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resources finished so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Feeds one output line; returns a message to show, if one is due.
    pub fn observe(&mut self, line: &str, now: Instant) -> Option<String> {
        let line = line.trim();
        if let Some(summary) = SUMMARIES.iter().find(|s| line.starts_with(**s)) {
            let text = match *summary {
                "No changes." => "no changes".to_string(),
                "Apply complete!" => format!(
                    "complete: {}",
                    line.trim_start_matches("Apply complete! Resources: ")
                        .trim_end_matches('.')
                ),
                _ => line[summary.len()..].trim_end_matches('.').to_string(),
            };
            return self.emit(text, now, true);
        }
        let mut forced = false;
        if let Some((suffix, verb)) = STARTS.iter().find(|(s, _)| line.ends_with(*s)) {
            let addr = line.trim_end_matches(suffix).to_string();
            self.active.insert(addr, (verb, now));
        } else if let Some(end) = ENDS.iter().find(|e| line.contains(**e)) {
            let addr = line[..line.find(end).unwrap_or(0)].to_string();
            if self.active.remove(&addr).is_some() {
                self.done += 1;
            }
        } else if line.contains(": Still ") && line.ends_with("elapsed]") {
            // Terraform's own heartbeat (every 10 s): refresh the elapsed time.
            forced = true;
        } else {
            return None;
        }
        let message = self.message(now)?;
        self.emit(message, now, forced)
    }

    fn message(&self, now: Instant) -> Option<String> {
        let (addr, (verb, since)) = self.active.iter().min_by_key(|(_, (_, since))| *since)?;
        let secs = now.duration_since(*since).as_secs();
        let others = match self.active.len() - 1 {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        Some(format!(
            "{verb} {addr} ({secs}s){others}; {} done",
            self.done
        ))
    }

    fn emit(&mut self, message: String, now: Instant, force: bool) -> Option<String> {
        if message == self.last_message {
            return None;
        }
        let due = self
            .last_emit
            .is_none_or(|t| now.duration_since(t) >= MIN_INTERVAL);
        if !(force || due) {
            return None;
        }
        self.last_emit = Some(now);
        self.last_message.clone_from(&message);
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_oldest_resource_in_flight_with_its_elapsed_time() {
        let t0 = Instant::now();
        let mut p = Progress::new();
        let first = p.observe("aws_sqs_queue.dlq: Creating...", t0).unwrap();
        assert_eq!(first, "creating aws_sqs_queue.dlq (0s); 0 done");
        // Within the interval: throttled.
        assert_eq!(p.observe("aws_iam_role.dlq: Creating...", t0), None);
        let t1 = t0 + Duration::from_secs(2);
        let msg = p
            .observe("aws_iam_role.dlq: Creation complete after 0s [id=x]", t1)
            .unwrap();
        assert_eq!(msg, "creating aws_sqs_queue.dlq (2s); 1 done");
        let t2 = t0 + Duration::from_millis(2500);
        assert_eq!(
            p.observe("aws_cloudwatch_event_bus.this: Creating...", t2),
            None
        );
        let t3 = t0 + Duration::from_secs(10);
        let msg = p
            .observe("aws_sqs_queue.dlq: Still creating... [10s elapsed]", t3)
            .unwrap();
        assert_eq!(msg, "creating aws_sqs_queue.dlq (10s) and 1 more; 1 done");
        assert_eq!(p.done(), 1);
    }

    #[test]
    fn summaries_are_always_shown_and_other_lines_ignored() {
        let t0 = Instant::now();
        let mut p = Progress::new();
        assert_eq!(p.observe("  + name = \"x\"", t0), None);
        assert_eq!(
            p.observe("data.aws_partition.current: Reading...", t0),
            None
        );
        let plan = p.observe("Plan: 16 to add, 0 to change, 0 to destroy.", t0);
        assert_eq!(plan.unwrap(), "16 to add, 0 to change, 0 to destroy");
        let none = p.observe(
            "No changes. Your infrastructure matches the configuration.",
            t0,
        );
        assert_eq!(none.unwrap(), "no changes");
        let done = p.observe(
            "Apply complete! Resources: 16 added, 0 changed, 0 destroyed.",
            t0,
        );
        assert_eq!(done.unwrap(), "complete: 16 added, 0 changed, 0 destroyed");
    }
}

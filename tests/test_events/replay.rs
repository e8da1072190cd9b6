//! `deploy replay` on the stack `test_events.rs` deployed (one phase of its shared test).

use std::time::{Duration, Instant};

use predicates::prelude::*;
use serde_json::Value;

use super::{Stack, example_labels};

/// `deploy replay --since 10m`: the number it reports is the number of events a witness of the
/// test's own (a rule and queue on the bus) receives with that replay's `replay-name`; a window
/// beyond the archive's retention and an unknown event type are refused with exit 2.
pub(super) async fn redelivers_the_archived_events_and_counts_them(stack: &Stack) {
    let ctx = &stack.ctx;
    let witness = format!("{}-witness", ctx.environment);
    let pattern = r#"{"source":[{"prefix":"custom."}]}"#;
    let url = stack.rule_to_queue(&witness, pattern, "witness").await;

    let out = ctx
        .deploy()
        .args(["replay", "--since", "10m"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let line = stderr
        .lines()
        .find(|l| l.contains("Replayed"))
        .unwrap_or_else(|| panic!("no summary: {stderr}"));
    let reported: usize = line
        .split_whitespace()
        .skip_while(|w| *w != "Replayed")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {line}"));
    let name = line
        .split("(replay ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .unwrap_or_else(|| panic!("no replay name in {line}"))
        .to_string();
    assert!(
        reported >= example_labels().len(),
        "test-events published every example minutes ago: {line}"
    );

    // The witness saw exactly that many distinct events of this replay.
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut quiet = 0;
    while quiet < 3 {
        let got = stack
            .sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        quiet = if got.messages().is_empty() {
            quiet + 1
        } else {
            0
        };
        for m in got.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            if body["replay-name"] == name.as_str() {
                seen.insert(body["id"].as_str().unwrap().to_string());
            }
        }
        assert!(Instant::now() < deadline, "witness queue never went quiet");
    }
    assert_eq!(seen.len(), reported, "{stderr}");
    assert_eq!(stack.probes().await, Vec::<String>::new(), "{stderr}");
    assert_eq!(stack.recorded_probes(), Vec::<Value>::new(), "{stderr}");

    ctx.deploy()
        .args(["replay", "--since", "8d"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("keeps events for 7 day(s)"));
    ctx.deploy()
        .args(["replay", "--since", "10m", "--event", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`nope` is not an event type"));

    stack
        .events
        .remove_targets()
        .rule(&witness)
        .event_bus_name(&stack.bus)
        .ids("witness")
        .send()
        .await
        .unwrap();
    stack
        .events
        .delete_rule()
        .name(&witness)
        .event_bus_name(&stack.bus)
        .send()
        .await
        .unwrap();
}

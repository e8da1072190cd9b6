//! Modes: parsing, `check` and `check_history`.

use serde_json::{Value, json};

use crate::{Direction, Mode, check, check_history};

fn closed(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

#[test]
fn modes_parse_from_their_config_names_and_back() {
    for name in Mode::ALLOWED.split(", ") {
        let mode: Mode = name.parse().unwrap();
        assert_eq!(mode.as_str(), name);
        assert_eq!(mode.to_string(), name);
        assert_eq!(serde_json::to_value(mode).unwrap(), name);
    }
    let err = "sideways".parse::<Mode>().unwrap_err();
    assert!(
        err.contains("`sideways`") && err.contains("backward-transitive"),
        "{err}"
    );
}

/// v1 → v2 adds a required property with a default to a closed object (backward ✓), v2 → v3
/// drops the default (an annotation: ✓), but v1 → v3 adds a required property without a
/// default (row 5 ✗): only a transitive mode sees it.
fn three_versions() -> [Value; 3] {
    let v1 = closed(json!({"a": {"type": "string"}}), &["a"]);
    let v2 = closed(
        json!({"a": {"type": "string"}, "b": {"type": "string", "default": "x"}}),
        &["a", "b"],
    );
    let v3 = closed(
        json!({"a": {"type": "string"}, "b": {"type": "string"}}),
        &["a", "b"],
    );
    [v1, v2, v3]
}

#[test]
fn non_transitive_mode_checks_only_against_the_previous_version() {
    let [v1, v2, v3] = three_versions();
    assert!(check(Mode::Backward, &[(1, &v1), (2, &v2)]).is_empty());
    assert!(check(Mode::Backward, &[(2, &v2), (3, &v3)]).is_empty());
    assert!(check(Mode::Backward, &[(1, &v1), (2, &v2), (3, &v3)]).is_empty());
}

#[test]
fn transitive_mode_catches_a_break_with_an_older_version() {
    let [v1, v2, v3] = three_versions();
    let violations = check(Mode::BackwardTransitive, &[(1, &v1), (2, &v2), (3, &v3)]);
    assert_eq!(violations.len(), 1, "{violations:#?}");
    let v = &violations[0];
    assert_eq!((v.older, v.newer), (1, 3));
    assert_eq!(
        (v.finding.rule, v.finding.pointer.as_str()),
        (5, "/properties/b")
    );
}

#[test]
fn none_lets_anything_through() {
    let (a, b) = (json!({"type": "string"}), json!(false));
    assert!(check(Mode::None, &[(1, &a), (2, &b)]).is_empty());
    assert!(check_history(Mode::None, &[(1, &a), (2, &b), (3, &a)]).is_empty());
}

#[test]
fn full_reports_both_directions() {
    let old = json!({"type": "object", "properties": {"fmt": {"enum": ["mp3", "wav"]}}});
    let new = json!({"type": "object", "properties": {"fmt": {"enum": ["mp3", "flac"]}}});
    let violations = check(Mode::Full, &[(1, &old), (2, &new)]);
    let directions: Vec<Direction> = violations.iter().map(|v| v.finding.direction).collect();
    assert_eq!(directions, [Direction::Backward, Direction::Forward]);
    assert!(
        violations
            .iter()
            .all(|v| v.finding.pointer == "/properties/fmt/enum")
    );
    assert_eq!(check(Mode::Backward, &[(1, &old), (2, &new)]).len(), 1);
    assert_eq!(check(Mode::Forward, &[(1, &old), (2, &new)]).len(), 1);
}

#[test]
fn forward_mode_reports_forward_findings_only() {
    let old = json!({"type": "string"});
    let new = json!({"type": ["string", "null"]});
    let violations = check(Mode::Forward, &[(1, &old), (2, &new)]);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].finding.direction, Direction::Forward);
    assert!(check(Mode::Backward, &[(1, &old), (2, &new)]).is_empty());
}

#[test]
fn a_single_version_or_none_has_nothing_to_check() {
    let v = json!({"type": "string"});
    assert!(check(Mode::FullTransitive, &[(1, &v)]).is_empty());
    assert!(check(Mode::FullTransitive, &[]).is_empty());
    assert!(check_history(Mode::FullTransitive, &[]).is_empty());
}

#[test]
fn history_checks_every_version_against_its_predecessors() {
    let [v1, v2, v3] = three_versions();
    let broken = json!({"type": "integer"});
    let versions = [(1, &v1), (2, &v2), (3, &v3), (4, &broken)];
    let history = check_history(Mode::BackwardTransitive, &versions);
    let expected: Vec<_> = (2..=versions.len())
        .flat_map(|n| check(Mode::BackwardTransitive, &versions[..n]))
        .collect();
    assert_eq!(history, expected);
    let pairs: Vec<(u32, u32)> = history.iter().map(|v| (v.older, v.newer)).collect();
    assert!(pairs.contains(&(1, 3)) && pairs.contains(&(1, 4)) && pairs.contains(&(3, 4)));
    assert!(!pairs.contains(&(1, 2)) && !pairs.contains(&(2, 3)));
}

#[test]
fn ten_event_types_with_five_versions_each_run_through_every_mode() {
    let histories: Vec<Vec<Value>> = (0..10)
        .map(|t| {
            (0..5)
                .map(|v| {
                    let mut props = serde_json::Map::new();
                    for p in 0..=v {
                        props.insert(format!("p{p}"), json!({"type": if (t + p) % 3 == 0 { "string" } else { "integer" }, "maximum": 10 * (v + 1)}));
                    }
                    let detail = json!({"type": "object", "properties": props, "required": ["p0"], "additionalProperties": v % 2 == 0});
                    json!({"type": "object", "properties": {"detail": detail, "source": {"enum": [format!("s{t}")]}}})
                })
                .collect()
        })
        .collect();
    let mut total = 0;
    for mode in Mode::ALLOWED
        .split(", ")
        .map(|m| m.parse::<Mode>().unwrap())
    {
        for history in &histories {
            let versions: Vec<(u32, &Value)> =
                history.iter().zip(1..).map(|(s, n)| (n, s)).collect();
            total += check_history(mode, &versions).len();
        }
    }
    assert!(total > 0);
}

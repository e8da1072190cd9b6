//! Rows 17–22: string, number, array and object bounds.

use serde_json::{Value, json};

use super::expect;

fn s(extra: Value) -> Value {
    let mut schema = json!({"type": "string"});
    schema
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    schema
}

fn n(extra: Value) -> Value {
    let mut schema = json!({"type": "number"});
    schema
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    schema
}

/// Relaxing `old` → `new` at `pointer`: backward ✓, forward ✗ under `rule`.
#[track_caller]
fn relaxed(old: Value, new: Value, rule: u8, pointer: &str) {
    expect(&old, &new, None, Some((rule, pointer)));
}

/// Tightening: backward ✗, forward ✓.
#[track_caller]
fn tightened(old: Value, new: Value, rule: u8, pointer: &str) {
    expect(&old, &new, Some((rule, pointer)), None);
}

#[test]
fn row_17_string_bounds_relaxed_or_removed_and_pattern_removed_are_backward_but_not_forward_compatible()
 {
    relaxed(
        s(json!({"maxLength": 5})),
        s(json!({"maxLength": 10})),
        17,
        "/maxLength",
    );
    relaxed(s(json!({"maxLength": 5})), s(json!({})), 17, "/maxLength");
    relaxed(
        s(json!({"minLength": 5})),
        s(json!({"minLength": 1})),
        17,
        "/minLength",
    );
    relaxed(s(json!({"minLength": 5})), s(json!({})), 17, "/minLength");
    relaxed(s(json!({"pattern": "^a"})), s(json!({})), 17, "/pattern");
}

#[test]
fn row_18_string_bounds_added_or_tightened_and_pattern_added_are_forward_but_not_backward_compatible()
 {
    tightened(s(json!({})), s(json!({"maxLength": 10})), 18, "/maxLength");
    tightened(
        s(json!({"maxLength": 10})),
        s(json!({"maxLength": 5})),
        18,
        "/maxLength",
    );
    tightened(s(json!({})), s(json!({"minLength": 1})), 18, "/minLength");
    tightened(
        s(json!({"minLength": 1})),
        s(json!({"minLength": 5})),
        18,
        "/minLength",
    );
    tightened(s(json!({})), s(json!({"pattern": "^a"})), 18, "/pattern");
}

#[test]
fn row_18_pattern_changed_breaks_both_ways() {
    let (old, new) = (s(json!({"pattern": "^a"})), s(json!({"pattern": "^b"})));
    expect(&old, &new, Some((18, "/pattern")), Some((18, "/pattern")));
}

#[test]
fn row_19_number_bounds_relaxed_or_removed_are_backward_but_not_forward_compatible() {
    relaxed(
        n(json!({"maximum": 10})),
        n(json!({"maximum": 20})),
        19,
        "/maximum",
    );
    relaxed(n(json!({"maximum": 10})), n(json!({})), 19, "/maximum");
    relaxed(
        n(json!({"exclusiveMaximum": 10})),
        n(json!({"exclusiveMaximum": 20})),
        19,
        "/exclusiveMaximum",
    );
    relaxed(
        n(json!({"exclusiveMaximum": 10})),
        n(json!({})),
        19,
        "/exclusiveMaximum",
    );
    relaxed(
        n(json!({"minimum": 10})),
        n(json!({"minimum": 0})),
        19,
        "/minimum",
    );
    relaxed(n(json!({"minimum": 10})), n(json!({})), 19, "/minimum");
    relaxed(
        n(json!({"exclusiveMinimum": 10})),
        n(json!({"exclusiveMinimum": 0})),
        19,
        "/exclusiveMinimum",
    );
    relaxed(
        n(json!({"exclusiveMinimum": 10})),
        n(json!({})),
        19,
        "/exclusiveMinimum",
    );
}

#[test]
fn row_19_multiple_of_removed_or_reduced_to_a_divisor_is_backward_but_not_forward_compatible() {
    relaxed(
        n(json!({"multipleOf": 10})),
        n(json!({})),
        19,
        "/multipleOf",
    );
    relaxed(
        n(json!({"multipleOf": 10})),
        n(json!({"multipleOf": 5})),
        19,
        "/multipleOf",
    );
    relaxed(
        n(json!({"multipleOf": 0.5})),
        n(json!({"multipleOf": 0.1})),
        19,
        "/multipleOf",
    );
}

#[test]
fn row_19_draft_4_exclusive_maximum_dropped_relaxes_the_bound() {
    let old = json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "maximum": 10, "exclusiveMaximum": true});
    let new = json!({"$schema": "http://json-schema.org/draft-04/schema#", "type": "number", "maximum": 10});
    relaxed(old, new, 19, "/maximum");
    let old = json!({"type": "number", "minimum": 0, "exclusiveMinimum": true});
    let new = json!({"type": "number", "minimum": 0, "exclusiveMinimum": false});
    relaxed(old, new, 19, "/minimum");
}

#[test]
fn row_19_draft_6_exclusive_bound_replaced_by_an_equal_inclusive_one_relaxes_it() {
    relaxed(
        n(json!({"exclusiveMaximum": 10})),
        n(json!({"maximum": 10})),
        19,
        "/maximum",
    );
}

#[test]
fn row_20_number_bounds_added_or_tightened_are_forward_but_not_backward_compatible() {
    tightened(n(json!({})), n(json!({"maximum": 10})), 20, "/maximum");
    tightened(
        n(json!({"maximum": 20})),
        n(json!({"maximum": 10})),
        20,
        "/maximum",
    );
    tightened(n(json!({})), n(json!({"minimum": 0})), 20, "/minimum");
    tightened(
        n(json!({"minimum": 0})),
        n(json!({"minimum": 5})),
        20,
        "/minimum",
    );
    tightened(
        n(json!({"maximum": 10})),
        n(json!({"exclusiveMaximum": 10})),
        20,
        "/exclusiveMaximum",
    );
    tightened(
        n(json!({"minimum": 0})),
        n(json!({"exclusiveMinimum": 0})),
        20,
        "/exclusiveMinimum",
    );
    tightened(n(json!({})), n(json!({"multipleOf": 5})), 20, "/multipleOf");
    tightened(
        n(json!({"multipleOf": 5})),
        n(json!({"multipleOf": 10})),
        20,
        "/multipleOf",
    );
}

#[test]
fn row_20_draft_4_exclusive_maximum_added_tightens_the_bound() {
    let old = json!({"type": "integer", "maximum": 10});
    let new = json!({"type": "integer", "maximum": 10, "exclusiveMaximum": true});
    tightened(old, new, 20, "/maximum");
}

#[test]
fn row_20_multiple_of_changed_to_a_non_divisor_breaks_both_ways() {
    let (old, new) = (n(json!({"multipleOf": 4})), n(json!({"multipleOf": 6})));
    expect(
        &old,
        &new,
        Some((20, "/multipleOf")),
        Some((20, "/multipleOf")),
    );
}

#[test]
fn row_21_array_bounds_relaxed_or_removed_are_backward_but_not_forward_compatible() {
    let a = |extra: Value| {
        let mut schema = json!({"type": "array", "items": {"type": "string"}});
        schema
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        schema
    };
    relaxed(
        a(json!({"maxItems": 3})),
        a(json!({"maxItems": 5})),
        21,
        "/maxItems",
    );
    relaxed(a(json!({"maxItems": 3})), a(json!({})), 21, "/maxItems");
    relaxed(
        a(json!({"minItems": 3})),
        a(json!({"minItems": 1})),
        21,
        "/minItems",
    );
    relaxed(a(json!({"minItems": 3})), a(json!({})), 21, "/minItems");
    relaxed(
        a(json!({"uniqueItems": true})),
        a(json!({})),
        21,
        "/uniqueItems",
    );
    tightened(a(json!({})), a(json!({"maxItems": 5})), 21, "/maxItems");
    tightened(
        a(json!({"minItems": 1})),
        a(json!({"minItems": 2})),
        21,
        "/minItems",
    );
    tightened(
        a(json!({"uniqueItems": false})),
        a(json!({"uniqueItems": true})),
        21,
        "/uniqueItems",
    );
}

#[test]
fn row_22_object_bounds_relaxed_or_a_dependency_removed_are_backward_but_not_forward_compatible() {
    let o = |extra: Value| {
        let mut schema = json!({"type": "object", "properties": {"card": {"type": "string"}, "billing": {"type": "string"}}});
        schema
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        schema
    };
    relaxed(
        o(json!({"maxProperties": 3})),
        o(json!({"maxProperties": 5})),
        22,
        "/maxProperties",
    );
    relaxed(
        o(json!({"maxProperties": 3})),
        o(json!({})),
        22,
        "/maxProperties",
    );
    relaxed(
        o(json!({"minProperties": 2})),
        o(json!({"minProperties": 1})),
        22,
        "/minProperties",
    );
    relaxed(
        o(json!({"minProperties": 2})),
        o(json!({})),
        22,
        "/minProperties",
    );
    relaxed(
        o(json!({"dependencies": {"card": ["billing"]}})),
        o(json!({})),
        22,
        "/dependencies/card",
    );
    relaxed(
        o(json!({"dependencies": {"card": {"required": ["billing"]}}})),
        o(json!({})),
        22,
        "/dependencies/card",
    );
    tightened(
        o(json!({})),
        o(json!({"minProperties": 1})),
        22,
        "/minProperties",
    );
    tightened(
        o(json!({})),
        o(json!({"dependentRequired": {"card": ["billing"]}})),
        22,
        "/dependentRequired/card",
    );
}

#[test]
fn dependency_schemas_are_compared_recursively() {
    let old = json!({"type": "object", "dependencies": {"card": {"properties": {"billing": {"type": "string"}}}}});
    let new = json!({"type": "object", "dependencies": {"card": {"properties": {"billing": {"type": "integer"}}}}});
    let pointer = "/dependencies/card/properties/billing/type";
    expect(&old, &new, Some((13, pointer)), Some((13, pointer)));
}

#[test]
fn string_bounds_are_not_compared_when_the_type_changed_away_from_string() {
    let (old, new) = (s(json!({"maxLength": 5})), json!({"type": "integer"}));
    let findings = super::fwd(&old, &new);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].rule, 13);
}

//! Rows 1–11: properties, content models, `required`, `additionalProperties`.

use serde_json::json;

use super::{back, expect, fwd};

#[test]
fn row_01_optional_property_added_to_a_closed_object_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "additionalProperties": false});
    expect(&old, &new, None, Some((1, "/properties/b")));
}

#[test]
fn row_02_property_with_a_schema_added_to_an_open_object_is_forward_but_not_backward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}});
    expect(&old, &new, Some((2, "/properties/b")), None);
}

#[test]
fn row_03_property_with_the_empty_schema_added_to_an_open_object_is_compatible_both_ways() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {}}});
    expect(&old, &new, None, None);
    let annotated = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"description": "free-form"}}});
    expect(&old, &annotated, None, None);
}

#[test]
fn row_04_property_added_under_a_matching_pattern_it_fits_is_compatible_both_ways() {
    let old = json!({"type": "object", "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"x_tag": {"type": "string"}}, "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false});
    expect(&old, &new, None, None);
}

#[test]
fn row_04_property_added_that_does_not_fit_the_matching_pattern_breaks_both_ways() {
    let old = json!({"type": "object", "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"x_tag": {"type": "integer"}}, "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false});
    expect(
        &old,
        &new,
        Some((4, "/properties/x_tag")),
        Some((4, "/properties/x_tag")),
    );
    assert!(
        back(&old, &new)[0]
            .message
            .contains("patternProperties `^x_`"),
        "{:?}",
        back(&old, &new)
    );
}

#[test]
fn row_04_property_added_wider_than_the_additional_properties_schema_is_backward_but_not_forward_compatible()
 {
    let old = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let new = json!({"type": "object", "properties": {"note": {"type": ["string", "null"]}}, "additionalProperties": {"type": "string"}});
    expect(&old, &new, None, Some((4, "/properties/note")));
}

#[test]
fn row_04_property_added_narrower_than_the_additional_properties_schema_is_forward_but_not_backward_compatible()
 {
    let old = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let new = json!({"type": "object", "properties": {"note": {"type": "string", "maxLength": 10}}, "additionalProperties": {"type": "string"}});
    expect(&old, &new, Some((4, "/properties/note")), None);
}

#[test]
fn row_04_property_removed_into_a_pattern_that_covers_it_is_compatible_both_ways() {
    let old = json!({"type": "object", "properties": {"x_tag": {"type": "string"}}, "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": false});
    expect(&old, &new, None, None);
    let narrower = json!({"type": "object", "patternProperties": {"^x_": {"type": "string", "maxLength": 3}}, "additionalProperties": false});
    expect(&old, &narrower, Some((4, "/properties/x_tag")), None);
}

#[test]
fn row_05_required_property_added_to_a_closed_object_breaks_both_ways() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["b"], "additionalProperties": false});
    expect(
        &old,
        &new,
        Some((5, "/properties/b")),
        Some((5, "/properties/b")),
    );
}

#[test]
fn row_05_required_property_added_with_a_default_is_backward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string", "default": "x"}}, "required": ["b"], "additionalProperties": false});
    expect(&old, &new, None, Some((5, "/properties/b")));
}

#[test]
fn row_05_required_property_added_to_an_open_object_breaks_backward_only() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {}}, "required": ["b"]});
    expect(&old, &new, Some((5, "/properties/b")), None);
}

#[test]
fn row_06_property_removed_from_an_open_object_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    expect(&old, &new, None, Some((6, "/properties/b")));
}

#[test]
fn row_06_property_with_the_empty_schema_removed_from_an_open_object_is_compatible_both_ways() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    expect(&old, &new, None, None);
}

#[test]
fn row_07_optional_property_removed_from_a_closed_object_is_forward_but_not_backward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    expect(&old, &new, Some((7, "/properties/b")), None);
}

#[test]
fn row_07_property_with_the_false_schema_removed_from_a_closed_object_is_compatible_both_ways() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": false}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    expect(&old, &new, None, None);
}

#[test]
fn row_07_required_property_removed_from_a_closed_object_breaks_both_ways() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["b"], "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    expect(
        &old,
        &new,
        Some((7, "/properties/b")),
        Some((7, "/properties/b")),
    );
}

#[test]
fn row_08_optional_property_made_required_is_forward_but_not_backward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
    expect(&old, &new, Some((8, "/required")), None);
}

#[test]
fn row_08_optional_property_made_required_with_a_default_is_compatible_both_ways() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": {"type": "string", "default": ""}}, "required": ["a"]});
    expect(&old, &new, None, None);
}

#[test]
fn row_09_required_property_made_optional_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    expect(&old, &new, None, Some((9, "/required")));
    assert!(fwd(&old, &new)[0].message.contains("`a`"));
}

#[test]
fn row_10_additional_properties_false_to_true_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true});
    expect(&old, &new, None, Some((10, "/additionalProperties")));
}

#[test]
fn row_10_additional_properties_schema_removed_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let new = json!({"type": "object"});
    expect(&old, &new, None, Some((10, "/additionalProperties")));
}

#[test]
fn row_11_additional_properties_true_to_false_is_forward_but_not_backward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": true});
    let new = json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false});
    expect(&old, &new, Some((11, "/additionalProperties")), None);
}

#[test]
fn row_11_additional_properties_schema_added_is_forward_but_not_backward_compatible() {
    let old = json!({"type": "object"});
    let new = json!({"type": "object", "additionalProperties": {"type": "string"}});
    expect(&old, &new, Some((11, "/additionalProperties")), None);
}

#[test]
fn additional_properties_schemas_are_compared_recursively() {
    let old = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let new = json!({"type": "object", "additionalProperties": {"type": "integer"}});
    expect(
        &old,
        &new,
        Some((13, "/additionalProperties/type")),
        Some((13, "/additionalProperties/type")),
    );
}

#[test]
fn pattern_property_added_to_an_open_object_restricts_it() {
    let old = json!({"type": "object"});
    let new = json!({"type": "object", "patternProperties": {"^n_": {"type": "number"}}});
    expect(&old, &new, Some((11, "/patternProperties/^n_")), None);
}

#[test]
fn pattern_property_schemas_are_compared_recursively() {
    let old = json!({"type": "object", "patternProperties": {"^n_": {"type": "number"}}});
    let new = json!({"type": "object", "patternProperties": {"^n_": {"type": "integer"}}});
    expect(&old, &new, Some((13, "/patternProperties/^n_/type")), None);
}

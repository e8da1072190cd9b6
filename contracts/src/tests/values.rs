//! Rows 12–16, 23, 24: types, combinators, enums, annotations, trivial schemas.

use serde_json::json;

use super::{back, expect, fwd};

#[test]
fn row_12_type_widened_to_include_null_is_backward_but_not_forward_compatible() {
    let (old, new) = (
        json!({"type": "string"}),
        json!({"type": ["string", "null"]}),
    );
    expect(&old, &new, None, Some((12, "/type")));
}

#[test]
fn row_12_integer_widened_to_number_is_backward_but_not_forward_compatible() {
    let (old, new) = (json!({"type": "integer"}), json!({"type": "number"}));
    expect(&old, &new, None, Some((12, "/type")));
}

#[test]
fn row_12_openapi_nullable_widens_the_type() {
    let (old, new) = (
        json!({"type": "string"}),
        json!({"type": "string", "nullable": true}),
    );
    expect(&old, &new, None, Some((12, "/type")));
}

#[test]
fn row_13_type_narrowed_is_forward_but_not_backward_compatible() {
    let (old, new) = (
        json!({"type": ["string", "null"]}),
        json!({"type": "string"}),
    );
    expect(&old, &new, Some((13, "/type")), None);
    let (old, new) = (json!({"type": "number"}), json!({"type": "integer"}));
    expect(&old, &new, Some((13, "/type")), None);
}

#[test]
fn row_13_type_changed_breaks_both_ways() {
    let (old, new) = (json!({"type": "string"}), json!({"type": "integer"}));
    expect(&old, &new, Some((13, "/type")), Some((13, "/type")));
    assert!(
        back(&old, &new)[0]
            .message
            .starts_with("type changed from string to integer")
    );
}

#[test]
fn row_14_any_of_branch_added_is_backward_but_not_forward_compatible() {
    let old = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    let new = json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]});
    expect(&old, &new, None, Some((14, "/anyOf/2")));
}

#[test]
fn row_14_any_of_branch_removed_is_forward_but_not_backward_compatible() {
    let old = json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]});
    let new = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    expect(&old, &new, Some((14, "/anyOf")), None);
}

#[test]
fn row_14_one_of_branch_added_is_backward_but_not_forward_compatible() {
    let old = json!({"oneOf": [{"type": "string"}]});
    let new = json!({"oneOf": [{"type": "string"}, {"type": "null"}]});
    expect(&old, &new, None, Some((14, "/oneOf/1")));
}

#[test]
fn row_14_one_of_branch_removed_is_forward_but_not_backward_compatible() {
    let old = json!({"oneOf": [{"type": "string"}, {"type": "null"}]});
    let new = json!({"oneOf": [{"type": "string"}]});
    expect(&old, &new, Some((14, "/oneOf")), None);
}

#[test]
fn row_14_branches_are_matched_by_compatibility_not_position() {
    let old = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
    let new = json!({"anyOf": [{"type": "integer"}, {"type": "string"}]});
    expect(&old, &new, None, None);
}

#[test]
fn row_14_a_branch_changed_in_place_is_reported_in_detail() {
    let old = json!({"anyOf": [{"type": "string", "maxLength": 5}, {"type": "integer"}]});
    let new = json!({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]});
    expect(&old, &new, Some((18, "/anyOf/0/maxLength")), None);
}

#[test]
fn row_15_all_of_branch_removed_is_backward_but_not_forward_compatible() {
    let old = json!({"allOf": [{"type": "object"}, {"required": ["id"]}]});
    let new = json!({"allOf": [{"type": "object"}]});
    expect(&old, &new, None, Some((15, "/allOf")));
}

#[test]
fn row_15_all_of_branch_added_is_forward_but_not_backward_compatible() {
    let old = json!({"allOf": [{"type": "object"}]});
    let new = json!({"allOf": [{"type": "object"}, {"required": ["id"]}]});
    expect(&old, &new, Some((15, "/allOf/1")), None);
}

#[test]
fn row_16_enum_value_added_is_backward_but_not_forward_compatible() {
    let (old, new) = (
        json!({"enum": ["mp3", "wav"]}),
        json!({"enum": ["mp3", "wav", "ogg"]}),
    );
    expect(&old, &new, None, Some((16, "/enum")));
}

#[test]
fn row_16_enum_value_removed_is_forward_but_not_backward_compatible() {
    let (old, new) = (
        json!({"enum": ["mp3", "wav", "ogg"]}),
        json!({"enum": ["mp3", "wav"]}),
    );
    expect(&old, &new, Some((16, "/enum")), None);
    assert!(back(&old, &new)[0].message.contains("\"ogg\""));
}

#[test]
fn row_16_enum_value_replaced_breaks_both_ways() {
    let (old, new) = (
        json!({"enum": ["mp3", "wav"]}),
        json!({"enum": ["mp3", "flac"]}),
    );
    expect(&old, &new, Some((16, "/enum")), Some((16, "/enum")));
}

#[test]
fn row_16_const_counts_as_a_one_value_enum() {
    let (old, new) = (json!({"const": "a"}), json!({"enum": ["a", "b"]}));
    expect(&old, &new, None, Some((16, "/enum")));
}

#[test]
fn row_23_annotations_changed_are_compatible_both_ways() {
    let old = json!({"$id": "a", "title": "A", "description": "old", "default": 1, "examples": [1], "type": "integer"});
    let new = json!({"$id": "b", "title": "B", "description": "new", "default": 2, "examples": [2, 3], "type": "integer"});
    expect(&old, &new, None, None);
}

#[test]
fn row_24_new_schema_empty_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "string"});
    expect(&old, &json!({}), None, Some((24, "")));
}

#[test]
fn row_24_new_schema_true_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": true}});
    expect(&old, &new, None, Some((24, "/properties/a")));
}

#[test]
fn row_24_old_schema_false_is_backward_but_not_forward_compatible() {
    expect(
        &json!(false),
        &json!({"type": "string"}),
        None,
        Some((24, "")),
    );
}

#[test]
fn row_24_reversed_old_schema_empty_is_forward_but_not_backward_compatible() {
    expect(&json!({}), &json!({"type": "string"}), Some((24, "")), None);
    expect(
        &json!(true),
        &json!({"type": "string"}),
        Some((24, "")),
        None,
    );
}

#[test]
fn row_24_reversed_new_schema_false_is_forward_but_not_backward_compatible() {
    expect(
        &json!({"type": "string"}),
        &json!(false),
        Some((24, "")),
        None,
    );
}

#[test]
fn row_24_trivial_schemas_on_both_sides_are_compatible() {
    expect(&json!({}), &json!(true), None, None);
    expect(&json!(false), &json!(false), None, None);
    ok_both(&json!(false), &json!({"not": {}}));
}

fn ok_both(old: &serde_json::Value, new: &serde_json::Value) {
    assert!(back(old, new).is_empty() && fwd(old, new).is_empty());
}

#[test]
fn switching_between_any_of_and_one_of_with_the_same_branches_is_compatible() {
    let old = json!({"oneOf": [{"type": "string"}, {"type": "null"}]});
    let new = json!({"anyOf": [{"type": "null"}, {"type": "string"}]});
    expect(&old, &new, None, None);
}

#[test]
fn any_of_added_where_there_was_none_restricts_the_schema() {
    let old = json!({"type": "object"});
    let new = json!({"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]});
    expect(&old, &new, Some((14, "/anyOf")), None);
}

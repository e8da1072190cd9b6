//! Recursion, pointers, `$ref`, array items.

use serde_json::json;

use super::{back, expect, fwd};

#[test]
fn a_change_deep_in_nested_properties_reports_its_full_pointer() {
    let old = json!({"type": "object", "properties": {"detail": {"type": "object", "properties": {"metadata": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}});
    let new = json!({"type": "object", "properties": {"detail": {"type": "object", "properties": {"metadata": {"type": "object", "properties": {"size": {"type": "string"}}}}}}});
    let pointer = "/properties/detail/properties/metadata/properties/size/type";
    expect(&old, &new, Some((13, pointer)), Some((13, pointer)));
}

#[test]
fn pointers_escape_slashes_and_tildes_in_property_names() {
    let old = json!({"type": "object", "properties": {"a/b~c": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a/b~c": {"type": "integer"}}});
    expect(
        &old,
        &new,
        Some((13, "/properties/a~1b~0c/type")),
        Some((13, "/properties/a~1b~0c/type")),
    );
}

#[test]
fn local_refs_to_definitions_are_followed_and_reported_where_the_definition_is() {
    let old = json!({"type": "object", "properties": {"size": {"$ref": "#/definitions/size"}}, "definitions": {"size": {"type": "integer", "minimum": 0}}});
    let new = json!({"type": "object", "properties": {"size": {"$ref": "#/definitions/size"}}, "definitions": {"size": {"type": "integer", "minimum": 1}}});
    expect(&old, &new, Some((20, "/definitions/size/minimum")), None);
}

#[test]
fn local_refs_to_defs_are_followed_and_inlining_a_definition_is_compatible() {
    let old = json!({"type": "object", "properties": {"id": {"$ref": "#/$defs/id"}}, "$defs": {"id": {"type": "string", "maxLength": 36}}});
    let new = json!({"type": "object", "properties": {"id": {"type": "string", "maxLength": 36}}});
    expect(&old, &new, None, None);
    let tighter = json!({"type": "object", "properties": {"id": {"$ref": "#/$defs/id"}}, "$defs": {"id": {"type": "string", "maxLength": 20}}});
    expect(&old, &tighter, Some((18, "/$defs/id/maxLength")), None);
}

#[test]
fn recursive_refs_terminate() {
    let tree = |t: &str| json!({"$ref": "#/definitions/node", "definitions": {"node": {"type": "object", "properties": {"value": {"type": t}, "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}}}}});
    expect(&tree("string"), &tree("string"), None, None);
    expect(
        &tree("string"),
        &tree("integer"),
        Some((13, "/definitions/node/properties/value/type")),
        Some((13, "/definitions/node/properties/value/type")),
    );
}

#[test]
fn remote_and_dangling_refs_count_as_the_empty_schema_and_note_nothing() {
    let old = json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}, "b": {"$ref": "#/definitions/missing"}}});
    let new = json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/other.json"}, "b": {"$ref": "#/definitions/gone"}}});
    expect(&old, &new, None, None);
}

#[test]
fn items_schemas_are_compared_recursively() {
    let old = json!({"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}});
    let new = json!({"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}});
    let pointer = "/items/properties/id/type";
    expect(&old, &new, Some((13, pointer)), Some((13, pointer)));
}

#[test]
fn tuple_items_are_compared_by_position() {
    let old = json!({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]});
    let new = json!({"type": "array", "items": [{"type": "string"}, {"type": "number"}]});
    expect(&old, &new, None, Some((12, "/items/1/type")));
}

#[test]
fn tuple_item_added_to_a_closed_tuple_is_backward_but_not_forward_compatible() {
    let old = json!({"type": "array", "items": [{"type": "string"}], "additionalItems": false});
    let new = json!({"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false});
    expect(&old, &new, None, Some((1, "/items/1")));
}

#[test]
fn tuple_item_added_to_an_open_tuple_is_forward_but_not_backward_compatible() {
    let old = json!({"type": "array", "items": [{"type": "string"}]});
    let new = json!({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]});
    expect(&old, &new, Some((2, "/items/1")), None);
}

#[test]
fn prefix_items_with_an_items_schema_cover_the_positions_past_the_tuple() {
    let old =
        json!({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}});
    let new = json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer", "minimum": 0}], "items": {"type": "integer"}});
    expect(&old, &new, Some((4, "/prefixItems/1")), None);
}

#[test]
fn an_unsupported_pattern_matches_nothing() {
    let old = json!({"type": "object", "patternProperties": {"^(x+)+$": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"x": {"type": "integer"}}, "patternProperties": {"^(x+)+$": {"type": "string"}}, "additionalProperties": false});
    expect(&old, &new, None, Some((1, "/properties/x")));
}

#[test]
fn a_lookahead_pattern_governs_the_names_it_matches() {
    let old = json!({"type": "object", "patternProperties": {"^(?=x)": {"type": "string"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"x": {"type": "integer"}}, "patternProperties": {"^(?=x)": {"type": "string"}}, "additionalProperties": false});
    expect(
        &old,
        &new,
        Some((4, "/properties/x")),
        Some((4, "/properties/x")),
    );
}

#[test]
fn findings_from_a_definition_used_twice_are_reported_once() {
    let old = json!({"type": "object", "properties": {"a": {"$ref": "#/definitions/t"}, "b": {"$ref": "#/definitions/t"}}, "definitions": {"t": {"type": "string"}}});
    let new = json!({"type": "object", "properties": {"a": {"$ref": "#/definitions/t"}, "b": {"$ref": "#/definitions/t"}}, "definitions": {"t": {"type": "integer"}}});
    assert_eq!(back(&old, &new).len(), 1, "{:#?}", back(&old, &new));
    assert_eq!(fwd(&old, &new).len(), 1);
}

#[test]
fn findings_serialize_with_lowercase_directions() {
    let findings = back(&json!({"type": "string"}), &json!({"type": "integer"}));
    let value = serde_json::to_value(&findings[0]).unwrap();
    assert_eq!(value["direction"], "backward");
    assert_eq!(value["rule"], 13);
    assert_eq!(value["pointer"], "/type");
}

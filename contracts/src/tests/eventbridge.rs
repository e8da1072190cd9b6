//! A realistic EventBridge event schema (`schemas/audio-uploaded.schema.json`, Draft 4).

use serde_json::{Value, json};

use super::{back, fwd};
use crate::{Mode, check};

fn audio() -> Value {
    serde_json::from_str(include_str!("audio-uploaded.schema.json")).unwrap()
}

fn edited(edit: impl FnOnce(&mut Value)) -> Value {
    let mut schema = audio();
    edit(&mut schema);
    schema
}

fn metadata(schema: &mut Value) -> &mut Value {
    &mut schema["properties"]["detail"]["properties"]["metadata"]
}

#[test]
fn the_schema_is_compatible_with_itself_in_every_mode() {
    let v = audio();
    for mode in Mode::ALLOWED.split(", ") {
        assert!(
            check(mode.parse().unwrap(), &[(1, &v), (2, &v)]).is_empty(),
            "{mode}"
        );
    }
}

#[test]
fn a_property_type_change_breaks_and_names_the_property() {
    let old = audio();
    let new =
        edited(|s| s["properties"]["detail"]["properties"]["fileId"]["type"] = json!("integer"));
    let findings = back(&old, &new);
    let pointer = "/properties/detail/properties/fileId/type";
    assert!(
        findings
            .iter()
            .any(|f| f.rule == 13 && f.pointer == pointer),
        "{findings:#?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.message.contains("string to integer"))
    );
}

#[test]
fn an_enum_value_removed_breaks() {
    let old = audio();
    let new = edited(|s| {
        let formats = metadata(s)["properties"]["format"]["enum"]
            .as_array_mut()
            .unwrap();
        formats.retain(|f| f != "ogg");
    });
    let findings = back(&old, &new);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        (f.rule, f.pointer.as_str()),
        (
            16,
            "/properties/detail/properties/metadata/properties/format/enum"
        )
    );
    assert!(f.message.contains("\"ogg\""), "{}", f.message);
    assert!(fwd(&old, &new).is_empty());
}

#[test]
fn a_required_property_added_without_a_default_breaks() {
    let old = audio();
    let new = edited(|s| {
        let m = metadata(s);
        m["properties"]["duration"] = json!({"type": "number", "minimum": 0});
        m["required"]
            .as_array_mut()
            .unwrap()
            .push(json!("duration"));
    });
    let pointer = "/properties/detail/properties/metadata/properties/duration";
    let findings = back(&old, &new);
    assert!(
        findings.iter().any(|f| f.rule == 5 && f.pointer == pointer),
        "{findings:#?}"
    );
    let with_default = edited(|s| {
        let m = metadata(s);
        m["additionalProperties"] = json!(false);
        m["properties"]["duration"] = json!({"type": "number", "minimum": 0, "default": 0});
        m["required"]
            .as_array_mut()
            .unwrap()
            .push(json!("duration"));
    });
    let closed_old = edited(|s| metadata(s)["additionalProperties"] = json!(false));
    assert!(back(&closed_old, &with_default).is_empty());
}

#[test]
fn an_optional_property_added_to_a_closed_object_is_backward_compatible() {
    let old = edited(|s| metadata(s)["additionalProperties"] = json!(false));
    let new = edited(|s| {
        let m = metadata(s);
        m["additionalProperties"] = json!(false);
        m["properties"]["bitrate"] = json!({"type": "integer", "minimum": 1});
    });
    assert!(back(&old, &new).is_empty(), "{:#?}", back(&old, &new));
    let forward = fwd(&old, &new);
    assert_eq!(forward.len(), 1);
    assert_eq!(
        (forward[0].rule, forward[0].pointer.as_str()),
        (
            1,
            "/properties/detail/properties/metadata/properties/bitrate"
        )
    );
}

#[test]
fn the_same_optional_property_added_to_the_open_object_breaks_backward() {
    let old = audio();
    let new = edited(|s| metadata(s)["properties"]["bitrate"] = json!({"type": "integer"}));
    let findings = back(&old, &new);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, 2);
    assert!(findings[0].message.contains("additionalProperties: false"));
}

//! Reading schemas: local `$ref` resolution, trivial schemas, JSON pointers, and which keywords
//! are annotations (`docs/COMPATIBILITY.md` row 23).

use serde_json::{Map, Value};

/// The schema that accepts everything (`true`); also what an unresolved `$ref` stands for.
pub(crate) static TRUE: Value = Value::Bool(true);
/// The schema that accepts nothing (`false`).
pub(crate) static FALSE: Value = Value::Bool(false);

/// Keywords that constrain values. A schema object with none of them accepts everything;
/// everything else (`title`, `description`, `$id`, `default`, `examples`, `format`, `x-…`, …)
/// is an annotation and is not compared (`docs/COMPATIBILITY.md` row 23).
const VALIDATING: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "items",
    "additionalItems",
    "prefixItems",
    "contains",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
];

/// How much a schema accepts, at a glance.
pub(crate) enum Kind<'a> {
    /// `true`, `{}` or only annotations: every value.
    AcceptAll,
    /// `false` or `{"not": {}}`: no value.
    RejectAll,
    /// A schema with constraints.
    Object(&'a Map<String, Value>),
}

/// Classifies an already resolved schema. Values that are not schemas count as `{}`.
pub(crate) fn kind(schema: &Value) -> Kind<'_> {
    match schema {
        Value::Bool(false) => Kind::RejectAll,
        Value::Object(map) if map.len() == 1 && map.get("not").is_some_and(accepts_all) => {
            Kind::RejectAll
        }
        Value::Object(map) if map.keys().any(|k| VALIDATING.contains(&k.as_str())) => {
            Kind::Object(map)
        }
        _ => Kind::AcceptAll,
    }
}

/// `true`, `{}` or a schema of annotations only.
pub(crate) fn accepts_all(schema: &Value) -> bool {
    matches!(kind(schema), Kind::AcceptAll)
}

/// `false` or `{"not": {}}`.
pub(crate) fn rejects_all(schema: &Value) -> bool {
    matches!(kind(schema), Kind::RejectAll)
}

/// A schema with its local `$ref`s followed.
pub(crate) struct Resolved<'a> {
    /// The schema the reference chain ends at.
    pub value: &'a Value,
    /// The JSON pointer of `value` in its document, when a `$ref` was followed.
    pub pointer: Option<String>,
}

/// Follows `$ref` chains within `root` (Draft 4–7 semantics: a `$ref` replaces its siblings).
/// Remote, unresolvable or circular-only references resolve to `{}` (the [`TRUE`] schema).
pub(crate) fn resolve<'a>(root: &'a Value, schema: &'a Value) -> Resolved<'a> {
    let mut value = schema;
    let mut pointer = None;
    for _ in 0..32 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Resolved { value, pointer };
        };
        match local_target(root, reference) {
            Some((target, at)) => {
                value = target;
                pointer = Some(at);
            }
            None => break,
        }
    }
    Resolved {
        value: &TRUE,
        pointer,
    }
}

/// The target of a same-document reference (`#`, `#/definitions/x`, `#/$defs/x`, `#/…`).
fn local_target<'a>(root: &'a Value, reference: &str) -> Option<(&'a Value, String)> {
    let fragment = percent_decode(reference.strip_prefix('#')?);
    if fragment.is_empty() {
        return Some((root, String::new()));
    }
    if !fragment.starts_with('/') {
        return None;
    }
    root.pointer(&fragment).map(|v| (v, fragment))
}

/// Decodes `%XX` escapes of a URI fragment; malformed escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `base` extended by one reference token, escaped (`~` → `~0`, `/` → `~1`).
pub(crate) fn child(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// `base` extended by several tokens.
pub(crate) fn path(base: &str, tokens: &[&str]) -> String {
    tokens.iter().fold(base.to_owned(), |at, t| child(&at, t))
}

/// A short rendering of a JSON value for messages.
pub(crate) fn show(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

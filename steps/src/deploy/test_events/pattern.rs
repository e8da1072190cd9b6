//! Which examples a route's event pattern matches, evaluated here so that every route can be
//! proven with the examples it should receive. The common operators are covered (exact values,
//! `prefix`, `suffix`, `anything-but`, `exists`, `equals-ignore-case`, nested objects); a
//! pattern using another operator is "not evaluated" (`None`), and the report says so.

use serde_json::Value;

/// Whether `event` matches `pattern`; `None` when the pattern uses an operator not evaluated.
pub fn matches(pattern: &Value, event: &Value) -> Option<bool> {
    let Value::Object(fields) = pattern else {
        return None;
    };
    for (key, want) in fields {
        let got = event.get(key);
        let ok = match want {
            Value::Object(_) => match got {
                Some(inner) => matches(want, inner)?,
                None => false,
            },
            Value::Array(alternatives) => field_matches(alternatives, got)?,
            _ => return None,
        };
        if !ok {
            return Some(false);
        }
    }
    Some(true)
}

/// A field against its list of alternatives (any one matching is enough). An array value in
/// the event matches when any of its elements does.
fn field_matches(alternatives: &[Value], got: Option<&Value>) -> Option<bool> {
    let values: Vec<&Value> = match got {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    for alt in alternatives {
        if let Value::Object(op) = alt {
            let (name, arg) = op.iter().next()?;
            let hit = match name.as_str() {
                "exists" => arg.as_bool()? == got.is_some(),
                "prefix" => values.iter().any(|v| {
                    v.as_str()
                        .zip(arg.as_str())
                        .is_some_and(|(s, p)| s.starts_with(p))
                }),
                "suffix" => values.iter().any(|v| {
                    v.as_str()
                        .zip(arg.as_str())
                        .is_some_and(|(s, p)| s.ends_with(p))
                }),
                "equals-ignore-case" => values.iter().any(|v| {
                    v.as_str()
                        .zip(arg.as_str())
                        .is_some_and(|(s, p)| s.eq_ignore_ascii_case(p))
                }),
                "anything-but" => {
                    let excluded: Vec<&Value> = match arg {
                        Value::Array(a) => a.iter().collect(),
                        Value::Object(_) => return None,
                        v => vec![v],
                    };
                    !values.is_empty() && values.iter().all(|v| !excluded.contains(v))
                }
                _ => return None,
            };
            if hit {
                return Some(true);
            }
        } else if values.contains(&alt) {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"source": "custom.upload-service", "detail-type": "Document Uploaded",
               "detail": {"metadata": {"format": "pdf"}, "tags": ["a", "b"]}})
    }

    #[test]
    fn exact_values_nested_objects_and_arrays() {
        let e = event();
        assert_eq!(
            matches(&json!({"source": ["custom.upload-service"]}), &e),
            Some(true)
        );
        assert_eq!(matches(&json!({"source": ["other"]}), &e), Some(false));
        assert_eq!(
            matches(&json!({"detail": {"metadata": {"format": ["pdf"]}}}), &e),
            Some(true)
        );
        assert_eq!(
            matches(&json!({"detail": {"metadata": {"format": ["doc"]}}}), &e),
            Some(false)
        );
        assert_eq!(matches(&json!({"detail": {"tags": ["b"]}}), &e), Some(true));
        assert_eq!(
            matches(&json!({"detail": {"missing": ["x"]}}), &e),
            Some(false)
        );
    }

    #[test]
    fn content_filters() {
        let e = event();
        assert_eq!(
            matches(&json!({"source": [{"prefix": "custom."}]}), &e),
            Some(true)
        );
        assert_eq!(
            matches(&json!({"source": [{"prefix": "aws."}]}), &e),
            Some(false)
        );
        assert_eq!(
            matches(&json!({"source": [{"suffix": "-service"}]}), &e),
            Some(true)
        );
        assert_eq!(
            matches(
                &json!({"detail-type": [{"anything-but": ["Audio Uploaded"]}]}),
                &e
            ),
            Some(true)
        );
        assert_eq!(
            matches(&json!({"detail": {"absent": [{"exists": false}]}}), &e),
            Some(true)
        );
        assert_eq!(
            matches(
                &json!({"detail-type": [{"equals-ignore-case": "document uploaded"}]}),
                &e
            ),
            Some(true)
        );
        assert_eq!(
            matches(&json!({"detail": {"size": [{"numeric": [">", 0]}]}}), &e),
            None
        );
    }
}

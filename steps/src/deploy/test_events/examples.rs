//! Sample events and their JSON Schemas: every example is validated before anything is sent.
//!
//! A schema (`<name>.schema.json`, draft-04) pins its event's `source` and `detail-type` with
//! one-value `enum`s; an example (`<name>.json`, one `{source, detail-type, detail}` event) is
//! checked against the schema whose pins it matches.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::engine::StepError;

pub struct Schema {
    pub file: PathBuf,
    pub source: String,
    pub detail_type: String,
    validator: jsonschema::Validator,
}

#[derive(Debug, Clone)]
pub struct Example {
    /// File name, e.g. `audio-uploaded.json`.
    pub file: String,
    pub source: String,
    pub detail_type: String,
    /// The `detail` object, serialized.
    pub detail: String,
}

/// The one value a schema's `properties.<key>.enum` allows.
fn pinned(schema: &Value, key: &str) -> Option<String> {
    let values = schema["properties"][key]["enum"].as_array()?;
    match values.as_slice() {
        [Value::String(s)] => Some(s.clone()),
        _ => None,
    }
}

fn read_json(path: &Path) -> Result<Value, StepError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| StepError::permanent(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| StepError::permanent(format!("{} is not valid JSON: {e}", path.display())))
}

/// Files in `dir` whose names end with `suffix`, sorted.
fn files(dir: &Path, suffix: &str, what: &str) -> Result<Vec<PathBuf>, StepError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        StepError::permanent(format!(
            "cannot read the {what} directory {}: {e}",
            dir.display()
        ))
        .with_hint("check [schemas] dir and examples_dir in deploy.toml")
    })?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(suffix))
        })
        .collect();
    out.sort();
    Ok(out)
}

pub fn load_schemas(dir: &Path) -> Result<Vec<Schema>, StepError> {
    let mut out = Vec::new();
    for file in files(dir, ".schema.json", "schemas")? {
        let doc = read_json(&file)?;
        let (Some(source), Some(detail_type)) =
            (pinned(&doc, "source"), pinned(&doc, "detail-type"))
        else {
            return Err(StepError::permanent(format!(
                "{} does not pin `source` and `detail-type` with a one-value enum",
                file.display()
            )));
        };
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&doc)
            .map_err(|e| {
                StepError::permanent(format!("{} is not a valid schema: {e}", file.display()))
            })?;
        out.push(Schema {
            file,
            source,
            detail_type,
            validator,
        });
    }
    if out.is_empty() {
        return Err(StepError::permanent(format!(
            "no *.schema.json in {}",
            dir.display()
        )));
    }
    Ok(out)
}

/// One problem with one example: the file, the JSON pointer of the bad value, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub file: String,
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{} at {pointer}: {}", self.file, self.message)
    }
}

/// Validates one example document against the schemas.
pub fn check(file: &str, doc: &Value, schemas: &[Schema]) -> Result<Example, Vec<Invalid>> {
    let invalid = |pointer: &str, message: String| Invalid {
        file: file.to_string(),
        pointer: pointer.to_string(),
        message,
    };
    let source = doc["source"].as_str().unwrap_or_default();
    let detail_type = doc["detail-type"].as_str().unwrap_or_default();
    let Some(schema) = schemas
        .iter()
        .find(|s| s.source == source && s.detail_type == detail_type)
    else {
        let known: Vec<String> = schemas
            .iter()
            .map(|s| format!("{} / {}", s.source, s.detail_type))
            .collect();
        return Err(vec![invalid(
            "",
            format!(
                "no schema for source {source:?} / detail-type {detail_type:?} (known: {})",
                known.join(", ")
            ),
        )]);
    };
    let errors: Vec<Invalid> = schema
        .validator
        .iter_errors(doc)
        .map(|e| invalid(e.instance_path().as_str(), e.to_string()))
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Example {
        file: file.to_string(),
        source: source.to_string(),
        detail_type: detail_type.to_string(),
        detail: doc["detail"].to_string(),
    })
}

/// Loads and validates every example; fails naming each invalid file and pointer.
pub fn load_examples(examples_dir: &Path, schemas: &[Schema]) -> Result<Vec<Example>, StepError> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for path in files(examples_dir, ".json", "examples")? {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let doc = read_json(&path)?;
        match check(&file, &doc, schemas) {
            Ok(example) => good.push(example),
            Err(errors) => bad.extend(errors),
        }
    }
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(ToString::to_string).collect();
        return Err(StepError::permanent(format!(
            "{} invalid example(s) in {}: {}",
            bad.len(),
            examples_dir.display(),
            list.join("; ")
        ))
        .with_hint("fix the example or its schema; nothing was published"));
    }
    if good.is_empty() {
        return Err(StepError::permanent(format!(
            "no example events (*.json) in {}",
            examples_dir.display()
        )));
    }
    Ok(good)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn repository_examples_are_valid() {
        let schemas = load_schemas(&root().join("schemas")).unwrap();
        assert_eq!(schemas.len(), 5);
        let examples = load_examples(&root().join("examples"), &schemas).unwrap();
        assert!(examples.len() >= 5);
        assert!(examples.iter().all(|e| e.detail.starts_with('{')));
    }

    #[test]
    fn a_bad_field_is_named_by_file_and_pointer() {
        let schemas = load_schemas(&root().join("schemas")).unwrap();
        let text = std::fs::read_to_string(root().join("examples/audio-uploaded.json")).unwrap();
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        doc["detail"]["fileId"] = Value::String("not-a-uuid".into());
        let errors = check("audio-uploaded.json", &doc, &schemas).unwrap_err();
        assert_eq!(errors[0].pointer, "/detail/fileId", "{errors:?}");
        assert!(
            errors[0]
                .to_string()
                .starts_with("audio-uploaded.json at /detail/fileId")
        );

        doc["source"] = Value::String("custom.nobody".into());
        let errors = check("x.json", &doc, &schemas).unwrap_err();
        assert!(errors[0].message.contains("no schema"), "{errors:?}");
    }

    #[test]
    fn invalid_examples_fail_loading_with_every_problem() {
        let schemas = load_schemas(&root().join("schemas")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(root().join("examples/audio-uploaded.json")).unwrap();
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        std::fs::write(dir.path().join("good.json"), &text).unwrap();
        doc["detail"]["fileId"] = Value::String("nope".into());
        std::fs::write(dir.path().join("bad.json"), doc.to_string()).unwrap();
        let err = load_examples(dir.path(), &schemas).unwrap_err();
        assert!(err.message.contains("bad.json at /detail/fileId"), "{err}");
        assert!(!err.message.contains("good.json"), "{err}");
    }
}

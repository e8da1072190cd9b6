//! Sample events, each validated against the contract version it names before anything is sent.
//!
//! An example is `<examples>/<event type>/vN.json` (or `vN-<label>.json`): one
//! `{source, detail-type, detail}` event that must carry its event type's `source` and
//! `detail-type` and conform to `<schemas>/<event type>/vN.json` (JSON Schema draft 4).

use std::collections::BTreeMap;
use std::path::Path;

use deploy_config::Config;
use deploy_contracts::catalog::{self, Contract, ExampleFile};
use serde_json::Value;

use crate::engine::StepError;

#[derive(Debug, Clone)]
pub struct Example {
    /// `<event type>/<file name>`, e.g. `audio-uploaded/v1.json`.
    pub file: String,
    pub source: String,
    pub detail_type: String,
    /// The `detail` object, serialized.
    pub detail: String,
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

/// Draft-4 validators of the contract versions, built once each.
struct Validators<'a> {
    contracts: &'a [Contract],
    built: BTreeMap<(String, u32), Result<jsonschema::Validator, String>>,
}

impl<'a> Validators<'a> {
    fn get(&mut self, event: &str, version: u32) -> &Result<jsonschema::Validator, String> {
        let contracts = self.contracts;
        self.built
            .entry((event.to_string(), version))
            .or_insert_with(|| {
                let v = contracts
                    .iter()
                    .find(|c| c.event == event)
                    .and_then(|c| c.version(version))
                    .expect("examples name loaded versions");
                jsonschema::draft4::options()
                    .should_validate_formats(true)
                    .build(&v.schema)
                    .map_err(|e| format!("{} is not a valid schema: {e}", v.file.display()))
            })
    }
}

/// Validates one example document against its version, and its `source` / `detail-type`
/// against its event type.
fn check(
    ex: &ExampleFile,
    doc: &Value,
    config: &Config,
    validators: &mut Validators<'_>,
) -> Result<Example, Vec<Invalid>> {
    let invalid = |pointer: &str, message: String| Invalid {
        file: ex.label.clone(),
        pointer: pointer.to_string(),
        message,
    };
    let event = config
        .events
        .iter()
        .find(|e| e.key == ex.event)
        .expect("examples are of configured event types");
    let source = doc["source"].as_str().unwrap_or_default();
    let detail_type = doc["detail-type"].as_str().unwrap_or_default();
    let mut errors = Vec::new();
    if source != event.source {
        errors.push(invalid(
            "/source",
            format!("{source:?} is not {}'s source {:?}", ex.event, event.source),
        ));
    }
    if detail_type != event.detail_type {
        errors.push(invalid(
            "/detail-type",
            format!(
                "{detail_type:?} is not {}'s detail-type {:?}",
                ex.event, event.detail_type
            ),
        ));
    }
    match validators.get(&ex.event, ex.version) {
        Ok(v) => errors.extend(
            v.iter_errors(doc)
                .map(|e| invalid(e.instance_path().as_str(), e.to_string())),
        ),
        Err(e) => errors.push(invalid("", e.clone())),
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Example {
        file: ex.label.clone(),
        source: source.to_string(),
        detail_type: detail_type.to_string(),
        detail: doc["detail"].to_string(),
    })
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))
}

/// Loads and validates every example; fails naming each invalid file and pointer. Returns the
/// examples and how many contract versions they were checked against.
pub fn load(config: &Config) -> Result<(Vec<Example>, usize), StepError> {
    let layout = |lines: Vec<String>| {
        StepError::permanent(format!("{} problem(s): {}", lines.len(), lines.join("; ")))
            .with_hint("see `deploy contracts check`; nothing was published")
    };
    let contracts = crate::contracts::load(config).map_err(layout)?;
    let dir = if config.schemas.examples_dir.is_absolute() {
        config.schemas.examples_dir.clone()
    } else {
        config.base_dir.join(&config.schemas.examples_dir)
    };
    let files = catalog::examples(&dir, &contracts).map_err(|errors| {
        layout(
            errors
                .into_iter()
                .map(|mut e| {
                    e.path = crate::contracts::shown(config, Path::new(&e.path))
                        .display()
                        .to_string();
                    e.to_string()
                })
                .collect(),
        )
    })?;
    let mut validators = Validators {
        contracts: &contracts,
        built: BTreeMap::new(),
    };
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for ex in &files {
        let doc = match read_json(&ex.path) {
            Ok(d) => d,
            Err(message) => {
                bad.push(Invalid {
                    file: ex.label.clone(),
                    pointer: String::new(),
                    message,
                });
                continue;
            }
        };
        match check(ex, &doc, config, &mut validators) {
            Ok(example) => good.push(example),
            Err(errors) => bad.extend(errors),
        }
    }
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(ToString::to_string).collect();
        return Err(StepError::permanent(format!(
            "{} invalid example(s) in {}: {}",
            bad.len(),
            dir.display(),
            list.join("; ")
        ))
        .with_hint("fix the example or its schema; nothing was published"));
    }
    if good.is_empty() {
        return Err(StepError::permanent(format!(
            "no example events (<event type>/vN.json) in {}",
            dir.display()
        )));
    }
    let versions = contracts.iter().map(|c| c.versions.len()).sum();
    Ok((good, versions))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn config(examples: &Path) -> Config {
        let root = root();
        let text = format!(
            "[schemas]\ndir = \"{}\"\nexamples_dir = \"{}\"\n\n{}",
            root.join("schemas").display(),
            examples.display(),
            deploy_config::starter_hub()
        );
        deploy_config::parse(
            &root.join("deploy.toml"),
            &text,
            &deploy_config::Overrides::default(),
        )
        .unwrap()
    }

    #[test]
    fn repository_examples_are_valid() {
        let (examples, versions) = load(&config(&root().join("examples"))).unwrap();
        assert_eq!(versions, 5);
        assert!(examples.len() >= 5);
        assert!(examples.iter().all(|e| e.detail.starts_with('{')));
        assert!(examples.iter().any(|e| e.file == "audio-uploaded/v1.json"));
    }

    #[test]
    fn bad_examples_are_named_by_file_and_pointer_and_good_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let good = std::fs::read_to_string(root().join("examples/audio-uploaded/v1.json")).unwrap();
        let mut doc: Value = serde_json::from_str(&good).unwrap();
        std::fs::create_dir_all(dir.path().join("audio-uploaded")).unwrap();
        std::fs::write(dir.path().join("audio-uploaded/v1.json"), &good).unwrap();
        doc["detail"]["fileId"] = Value::String("nope".into());
        doc["source"] = Value::String("custom.nobody".into());
        std::fs::write(
            dir.path().join("audio-uploaded/v1-bad.json"),
            doc.to_string(),
        )
        .unwrap();
        let err = load(&config(dir.path())).unwrap_err();
        let m = &err.message;
        assert!(
            m.contains("audio-uploaded/v1-bad.json at /detail/fileId"),
            "{m}"
        );
        assert!(m.contains("audio-uploaded/v1-bad.json at /source"), "{m}");
        assert!(!m.contains("audio-uploaded/v1.json"), "{m}");
    }
}

//! The contracts on disk: `<schemas>/<event>/vN.json`, numbered from 1 without gaps, and the
//! examples `<examples>/<event>/vN.json` or `vN-<anything>.json` that name the version they
//! conform to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// One numbered version of an event type's schema.
#[derive(Debug, Clone)]
pub struct Version {
    pub number: u32,
    pub file: PathBuf,
    pub schema: Value,
    /// Hex SHA-256 of the file's bytes: what "deployed and unchanged" is checked against.
    pub sha256: String,
}

/// An event type's versions, ascending.
#[derive(Debug, Clone)]
pub struct Contract {
    pub event: String,
    pub versions: Vec<Version>,
}

impl Contract {
    pub fn latest(&self) -> &Version {
        self.versions
            .last()
            .expect("a contract has at least one version")
    }

    pub fn version(&self, number: u32) -> Option<&Version> {
        self.versions.iter().find(|v| v.number == number)
    }
}

/// An example event file and the version it names.
#[derive(Debug, Clone)]
pub struct ExampleFile {
    pub event: String,
    pub version: u32,
    pub path: PathBuf,
    /// `<event>/<file name>`, how reports name it.
    pub label: String,
}

/// A file or directory that does not fit the layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct LayoutError {
    pub path: String,
    pub problem: String,
}

fn layout(path: &Path, problem: impl Into<String>) -> LayoutError {
    LayoutError {
        path: path.display().to_string(),
        problem: problem.into(),
    }
}

/// `v12.json` → 12; `v3-batch.json` → 3 when `suffix_allowed`.
fn version_of(name: &str, suffix_allowed: bool) -> Option<u32> {
    let stem = name.strip_suffix(".json")?.strip_prefix('v')?;
    let digits = match stem.split_once('-') {
        Some((d, rest)) if suffix_allowed && !rest.is_empty() => d,
        Some(_) => return None,
        None => stem,
    };
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, LayoutError> {
    let entries = std::fs::read_dir(dir).map_err(|e| layout(dir, format!("cannot read: {e}")))?;
    let mut out: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    out.sort();
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Reads the versions of each of `events` under `dir`. Every event type needs `v1.json`;
/// versions are numbered without gaps; every file is a JSON object.
pub fn load(dir: &Path, events: &[&str]) -> Result<Vec<Contract>, Vec<LayoutError>> {
    let mut contracts = Vec::new();
    let mut errors = Vec::new();
    for event in events {
        match load_one(&dir.join(event), event) {
            Ok(c) => contracts.push(c),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(contracts)
    } else {
        Err(errors)
    }
}

fn load_one(dir: &Path, event: &str) -> Result<Contract, Vec<LayoutError>> {
    if !dir.is_dir() {
        return Err(vec![layout(
            dir,
            format!("event type {event} has no schema directory; add its first version as v1.json"),
        )]);
    }
    let mut errors = Vec::new();
    let mut found: BTreeMap<u32, PathBuf> = BTreeMap::new();
    for path in sorted_entries(dir).map_err(|e| vec![e])? {
        let name = file_name(&path);
        match version_of(&name, false) {
            Some(n) if path.is_file() => {
                found.insert(n, path);
            }
            _ => errors.push(layout(
                &path,
                "not a schema version; name versions v1.json, v2.json, ...",
            )),
        }
    }
    let mut versions = Vec::new();
    for (expected, (number, path)) in (1u32..).zip(found) {
        if number != expected {
            errors.push(layout(
                &path,
                format!(
                    "v{expected}.json is missing: versions are numbered 1, 2, 3, ... without gaps"
                ),
            ));
            break;
        }
        match read(&path) {
            Ok((schema, sha256)) => versions.push(Version {
                number,
                file: path,
                schema,
                sha256,
            }),
            Err(e) => errors.push(e),
        }
    }
    if versions.is_empty() && errors.is_empty() {
        errors.push(layout(dir, format!("event type {event} has no v1.json")));
    }
    if errors.is_empty() {
        Ok(Contract {
            event: event.to_string(),
            versions,
        })
    } else {
        Err(errors)
    }
}

fn read(path: &Path) -> Result<(Value, String), LayoutError> {
    let bytes = std::fs::read(path).map_err(|e| layout(path, format!("cannot read: {e}")))?;
    let schema: Value =
        serde_json::from_slice(&bytes).map_err(|e| layout(path, format!("not valid JSON: {e}")))?;
    if !schema.is_object() && !schema.is_boolean() {
        return Err(layout(path, "a schema is a JSON object"));
    }
    Ok((schema, hex(&Sha256::digest(&bytes))))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The examples under `dir`: `<event>/vN[-label].json`, each naming a version of `contracts`.
pub fn examples(dir: &Path, contracts: &[Contract]) -> Result<Vec<ExampleFile>, Vec<LayoutError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for sub in sorted_entries(dir).map_err(|e| vec![e])? {
        let event = file_name(&sub);
        let Some(contract) = contracts.iter().find(|c| c.event == event) else {
            errors.push(layout(
                &sub,
                "not an event type of deploy.toml; examples go in <examples>/<event type>/vN.json",
            ));
            continue;
        };
        if !sub.is_dir() {
            errors.push(layout(
                &sub,
                "examples go in <examples>/<event type>/vN.json",
            ));
            continue;
        }
        for path in sorted_entries(&sub).map_err(|e| vec![e])? {
            let name = file_name(&path);
            match version_of(&name, true) {
                Some(n) if contract.version(n).is_some() => out.push(ExampleFile {
                    event: event.clone(),
                    version: n,
                    label: format!("{event}/{name}"),
                    path,
                }),
                Some(n) => errors.push(layout(
                    &path,
                    format!(
                        "names version {n}, but {event} has versions 1 to {}",
                        contract.latest().number
                    ),
                )),
                None => errors.push(layout(
                    &path,
                    "an example's name starts with the version it conforms to: v1.json, v2-large.json, ...",
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn version_names() {
        assert_eq!(version_of("v1.json", false), Some(1));
        assert_eq!(version_of("v12.json", false), Some(12));
        assert_eq!(version_of("v2-batch.json", true), Some(2));
        assert_eq!(version_of("v2-batch.json", false), None);
        assert_eq!(version_of("v01.json", false), None);
        assert_eq!(version_of("v.json", false), None);
        assert_eq!(version_of("v1-.json", true), None);
        assert_eq!(version_of("1.json", false), None);
        assert_eq!(version_of("v1.schema.json", false), None);
    }

    #[test]
    fn versions_load_in_order_with_their_hashes() {
        let d = tree(&[("a/v1.json", "{}"), ("a/v2.json", r#"{"type":"object"}"#)]);
        let c = load(d.path(), &["a"]).unwrap();
        assert_eq!(c[0].versions.len(), 2);
        assert_eq!(c[0].latest().number, 2);
        assert_eq!(
            c[0].versions[0].sha256,
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn layout_problems_name_the_file() {
        let d = tree(&[
            ("a/v1.json", "{}"),
            ("a/v3.json", "{}"),
            ("b/v1.json", "not json"),
            ("c/schema.json", "{}"),
        ]);
        let errors = load(d.path(), &["a", "b", "c", "d"]).unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let all = text.join("\n");
        assert!(all.contains("a/v3.json: v2.json is missing"), "{all}");
        assert!(all.contains("b/v1.json: not valid JSON"), "{all}");
        assert!(all.contains("c/schema.json: not a schema version"), "{all}");
        assert!(
            all.contains("event type d has no schema directory"),
            "{all}"
        );
    }

    #[test]
    fn examples_name_an_existing_version() {
        let d = tree(&[
            ("s/a/v1.json", "{}"),
            ("e/a/v1.json", "{}"),
            ("e/a/v1-big.json", "{}"),
            ("e/a/v2.json", "{}"),
            ("e/a/sample.json", "{}"),
            ("e/z/v1.json", "{}"),
        ]);
        let c = load(&d.path().join("s"), &["a"]).unwrap();
        let errors = examples(&d.path().join("e"), &c).unwrap_err();
        let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].contains("sample.json: an example's name starts with"));
        assert!(all[1].contains("v2.json: names version 2, but a has versions 1 to 1"));
        assert!(all[2].contains("z: not an event type"));
        std::fs::remove_file(d.path().join("e/a/sample.json")).unwrap();
        std::fs::remove_file(d.path().join("e/a/v2.json")).unwrap();
        std::fs::remove_dir_all(d.path().join("e/z")).unwrap();
        let ok = examples(&d.path().join("e"), &c).unwrap();
        let labels: Vec<&str> = ok.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["a/v1-big.json", "a/v1.json"]);
    }
}

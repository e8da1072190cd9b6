//! The contract gate: every event type's versions (`schemas/<event>/vN.json`) checked under its
//! compatibility mode, and the versions this deployment has shipped checked unchanged. Needs no
//! AWS: `deploy contracts check`, `deploy plan` and every deploy run it before anything else.

use std::path::{Path, PathBuf};
use std::time::Instant;

use deploy_config::Config;
use deploy_contracts::catalog::{self, Contract};
use deploy_contracts::{Mode, Violation};
use deploy_state::Contracts;
use serde::Serialize;

/// A breaking change between two versions of one event type.
#[derive(Debug, Clone, Serialize)]
pub struct Breaking {
    pub event: String,
    pub mode: Mode,
    /// The newer version's file.
    pub file: PathBuf,
    #[serde(flatten)]
    pub violation: Violation,
}

/// A shipped version whose file changed or disappeared.
#[derive(Debug, Clone, Serialize)]
pub struct Edited {
    pub event: String,
    pub version: u32,
    pub file: PathBuf,
    /// `changed` or `removed`.
    pub what: &'static str,
}

/// What the gate found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Event type → how many versions it has.
    pub event_types: Vec<(String, u32)>,
    pub layout: Vec<String>,
    pub breaking: Vec<Breaking>,
    pub edited: Vec<Edited>,
    /// Whether the shipped versions were known (the ledger was read).
    pub shipped_known: bool,
    pub elapsed_ms: u128,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.layout.is_empty() && self.breaking.is_empty() && self.edited.is_empty()
    }

    /// One line per problem, for the terminal and error messages.
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.layout.clone();
        for e in &self.edited {
            out.push(format!(
                "{}: version {} of {} was shipped by this deployment and has been {}; shipped \
                 versions are immutable: restore it, and put the change in a new version",
                e.file.display(),
                e.version,
                e.event,
                e.what
            ));
        }
        for b in &self.breaking {
            let f = &b.violation.finding;
            let at = if f.pointer.is_empty() {
                "(root)"
            } else {
                &f.pointer
            };
            out.push(format!(
                "{}: v{} → v{} breaks {} compatibility ({} mode of {}): {at}: {} (rule {})",
                b.file.display(),
                b.violation.older,
                b.violation.newer,
                f.direction,
                b.mode,
                b.event,
                f.message,
                f.rule
            ));
        }
        out
    }

    /// A one-line summary of a passing check.
    pub fn summary(&self) -> String {
        let versions: u32 = self.event_types.iter().map(|(_, n)| n).sum();
        format!(
            "{} event types, {versions} contract versions compatible{} ({} ms)",
            self.event_types.len(),
            if self.shipped_known {
                ", shipped versions unchanged"
            } else {
                ""
            },
            self.elapsed_ms
        )
    }
}

fn absolute(config: &Config, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        config.base_dir.join(dir)
    }
}

/// `path` relative to the directory of deploy.toml when it is under it: how reports name files.
pub(crate) fn shown(config: &Config, path: &Path) -> PathBuf {
    path.strip_prefix(&config.base_dir)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Loads the contracts of the configured event types (layout problems are returned as lines).
pub fn load(config: &Config) -> Result<Vec<Contract>, Vec<String>> {
    let events: Vec<&str> = config.events.iter().map(|e| e.key.as_str()).collect();
    catalog::load(&absolute(config, &config.schemas.dir), &events).map_err(|errors| {
        errors
            .into_iter()
            .map(|mut e| {
                e.path = shown(config, Path::new(&e.path)).display().to_string();
                e.to_string()
            })
            .collect()
    })
}

/// Checks every event type. `shipped`: the versions this deployment has shipped, when known —
/// those must be unchanged, and only versions after them are checked for compatibility (a
/// shipped version was checked when it shipped). Unknown: every version is checked.
pub fn check(config: &Config, shipped: Option<&Contracts>) -> Report {
    let t = Instant::now();
    let mut report = Report {
        event_types: Vec::new(),
        layout: Vec::new(),
        breaking: Vec::new(),
        edited: Vec::new(),
        shipped_known: shipped.is_some(),
        elapsed_ms: 0,
    };
    let contracts = match load(config) {
        Ok(c) => c,
        Err(layout) => {
            report.layout = layout;
            report.elapsed_ms = t.elapsed().as_millis();
            return report;
        }
    };
    for contract in &contracts {
        let mode = config
            .events
            .iter()
            .find(|e| e.key == contract.event)
            .map_or(Mode::Backward, |e| e.compatibility);
        let before = shipped.and_then(|s| s.get(&contract.event));
        report
            .event_types
            .push((contract.event.clone(), contract.latest().number));
        if let Some(before) = before {
            report
                .edited
                .extend(edited(contract, before).into_iter().map(|mut e| {
                    e.file = shown(config, &e.file);
                    e
                }));
        }
        let versions: Vec<(u32, &serde_json::Value)> = contract
            .versions
            .iter()
            .map(|v| (v.number, &v.schema))
            .collect();
        for len in 2..=versions.len() {
            let newest = versions[len - 1].0;
            if before.is_some_and(|b| b.contains_key(&newest)) {
                continue;
            }
            let file = shown(config, &contract.version(newest).expect("listed").file);
            report.breaking.extend(
                deploy_contracts::check(mode, &versions[..len])
                    .into_iter()
                    .map(|violation| Breaking {
                        event: contract.event.clone(),
                        mode,
                        file: file.clone(),
                        violation,
                    }),
            );
        }
    }
    report.elapsed_ms = t.elapsed().as_millis();
    report
}

fn edited(contract: &Contract, shipped: &std::collections::BTreeMap<u32, String>) -> Vec<Edited> {
    let mut out = Vec::new();
    for (n, sha) in shipped {
        match contract.version(*n) {
            Some(v) if &v.sha256 == sha => {}
            Some(v) => out.push(Edited {
                event: contract.event.clone(),
                version: *n,
                file: v.file.clone(),
                what: "changed",
            }),
            None => out.push(Edited {
                event: contract.event.clone(),
                version: *n,
                file: contract.latest().file.with_file_name(format!("v{n}.json")),
                what: "removed",
            }),
        }
    }
    out
}

/// The versions on disk, as the ledger records them once shipped.
pub fn to_ship(config: &Config) -> Contracts {
    let Ok(contracts) = load(config) else {
        return Contracts::new();
    };
    contracts
        .into_iter()
        .map(|c| {
            let versions = c
                .versions
                .into_iter()
                .map(|v| (v.number, v.sha256))
                .collect();
            (c.event, versions)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJ: &str = r#"{"type":"object","additionalProperties":false,
        "properties":{"a":{"type":"string"}}}"#;

    fn setup(files: &[(&str, &str)], mode: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        for (f, text) in files {
            let p = dir.path().join("schemas").join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let text = format!(
            "[events.e]\nsource = \"s\"\ndetail_type = \"E\"\n\
             compatibility = \"{mode}\"\n"
        );
        let config = deploy_config::parse(
            &dir.path().join("deploy.toml"),
            &text,
            &deploy_config::Overrides::default(),
        )
        .unwrap();
        (dir, config)
    }

    fn closed_with(prop: &str) -> String {
        OBJ.replace(
            r#""a":{"type":"string"}"#,
            &format!(r#""a":{{"type":"string"}},{prop}"#),
        )
    }

    #[test]
    fn an_optional_property_on_a_closed_object_passes_and_a_type_change_fails() {
        let v2 = closed_with(r#""b":{"type":"integer"}"#);
        let (_d, c) = setup(&[("e/v1.json", OBJ), ("e/v2.json", &v2)], "backward");
        let r = check(&c, None);
        assert!(r.passed(), "{:?}", r.problems());
        assert_eq!(r.event_types, [("e".to_string(), 2)]);

        let v2 = OBJ.replace(r#""a":{"type":"string"}"#, r#""a":{"type":"integer"}"#);
        let (_d, c) = setup(&[("e/v1.json", OBJ), ("e/v2.json", &v2)], "backward");
        let r = check(&c, None);
        assert!(!r.passed());
        let p = r.problems().join("\n");
        assert!(p.contains("e/v2.json: v1 → v2 breaks backward"), "{p}");
        assert!(p.contains("/properties/a/type"), "{p}");
        assert!(p.contains("rule 13"), "{p}");

        let (_d, c) = setup(&[("e/v1.json", OBJ), ("e/v2.json", &v2)], "none");
        assert!(check(&c, None).passed());
    }

    #[test]
    fn shipped_versions_must_be_unchanged_and_are_not_checked_again() {
        let v2 = OBJ.replace(r#""a":{"type":"string"}"#, r#""a":{"type":"integer"}"#);
        let (d, c) = setup(&[("e/v1.json", OBJ), ("e/v2.json", &v2)], "backward");
        let shipped = to_ship(&c);
        // Both shipped (say under `none` earlier): v2 is not judged again.
        assert!(check(&c, Some(&shipped)).passed());
        std::fs::write(d.path().join("schemas/e/v1.json"), closed_with(r#""z":{}"#)).unwrap();
        let r = check(&c, Some(&shipped));
        let p = r.problems().join("\n");
        assert!(p.contains("e/v1.json: version 1 of e was shipped"), "{p}");
        assert!(p.contains("immutable"), "{p}");
        std::fs::remove_file(d.path().join("schemas/e/v2.json")).unwrap();
        let p = check(&c, Some(&shipped)).problems().join("\n");
        assert!(
            p.contains(
                "v2.json: version 2 of e was shipped by this deployment and has been removed"
            ),
            "{p}"
        );
    }

    #[test]
    fn a_missing_schema_directory_is_a_layout_problem() {
        let (_d, c) = setup(&[], "backward");
        let r = check(&c, None);
        assert!(!r.passed());
        assert!(r.problems()[0].contains("event type e has no schema directory"));
    }
}

//! Input fingerprints: a named digest per input component, and one digest over all of them.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint {
    components: BTreeMap<String, String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Fingerprint {
    pub fn new() -> Self {
        Self::default()
    }

    /// A component given by value (a version string, an endpoint, a principal).
    pub fn text(mut self, name: &str, value: &str) -> Self {
        self.components
            .insert(name.to_string(), sha256_hex(value.as_bytes()));
        self
    }

    pub fn bytes(mut self, name: &str, value: &[u8]) -> Self {
        self.components.insert(name.to_string(), sha256_hex(value));
        self
    }

    /// A component given as serializable data (a config section).
    pub fn json<T: serde::Serialize>(self, name: &str, value: &T) -> Self {
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        self.bytes(name, &bytes)
    }

    /// Every regular file under `dir` whose name ends with one of `extensions` (all files when
    /// empty), each a component named by its path relative to `label`.
    pub fn files(mut self, label: &str, dir: &Path, extensions: &[&str]) -> std::io::Result<Self> {
        let found = crate::fsutil::files(dir, false, |d| d == "node_modules" || d == "test")?;
        let wanted =
            |rel: &String| extensions.is_empty() || extensions.iter().any(|e| rel.ends_with(e));
        for rel in found.into_iter().filter(wanted) {
            let bytes = std::fs::read(dir.join(&rel))?;
            self.components
                .insert(format!("{label}/{rel}"), sha256_hex(&bytes));
        }
        Ok(self)
    }

    pub fn components(&self) -> &BTreeMap<String, String> {
        &self.components
    }

    pub fn from_components(components: BTreeMap<String, String>) -> Self {
        Fingerprint { components }
    }

    /// One digest over every component name and value.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (k, v) in &self.components {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
            h.update([0]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Names of the components that differ from `previous` (added, removed or changed).
    pub fn changed_since(&self, previous: &BTreeMap<String, String>) -> Vec<String> {
        let mut names: Vec<String> = self
            .components
            .iter()
            .filter(|(k, v)| previous.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .collect();
        names.extend(
            previous
                .keys()
                .filter(|k| !self.components.contains_key(*k))
                .cloned(),
        );
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_depends_on_every_component() {
        let a = Fingerprint::new().text("x", "1").text("y", "2");
        let b = Fingerprint::new().text("y", "2").text("x", "1");
        assert_eq!(a.digest(), b.digest());
        let c = Fingerprint::new().text("x", "1").text("y", "3");
        assert_ne!(a.digest(), c.digest());
        assert_eq!(c.changed_since(a.components()), ["y"]);
        let d = Fingerprint::new().text("x", "1");
        assert_eq!(d.changed_since(a.components()), ["y"]);
    }

    #[test]
    fn files_are_named_by_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "a").unwrap();
        std::fs::write(dir.path().join("notes.md"), "b").unwrap();
        let f = Fingerprint::new()
            .files("terraform", dir.path(), &[".tf"])
            .unwrap();
        assert_eq!(
            f.components().keys().collect::<Vec<_>>(),
            ["terraform/main.tf"]
        );
        std::fs::write(dir.path().join("main.tf"), "b").unwrap();
        let g = Fingerprint::new()
            .files("terraform", dir.path(), &[".tf"])
            .unwrap();
        assert_eq!(g.changed_since(f.components()), ["terraform/main.tf"]);
    }
}

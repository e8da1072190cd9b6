//! Terraform's CLI configuration for offline machines: a `filesystem_mirror` block pointing at
//! a provider mirror, written into the ledger directory and passed with `TF_CLI_CONFIG_FILE`.
//!
//! The mirror is `[terraform] plugin_mirror` (or `DEPLOY_TERRAFORM_PLUGIN_MIRROR`) when set.
//! Otherwise, when the operator has no CLI configuration of their own, a well-known directory
//! holding `registry.terraform.io/hashicorp/aws` is used, so the quick start works on a machine
//! with a mirror on disk and no registry access. The file is JSON (terraform's CLI config parser
//! reads JSON as well as HCL), made with serde_json.

use std::path::{Path, PathBuf};

use serde_json::json;

pub const FILE_NAME: &str = "terraformrc.json";

/// Where provider mirrors are commonly unpacked.
pub fn well_known_mirrors(home: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/opt/tf-plugins")];
    if let Some(h) = home {
        dirs.push(h.join(".terraform.d/plugins"));
        dirs.push(h.join(".local/share/terraform/plugins"));
    }
    dirs.push(PathBuf::from("/usr/local/share/terraform/plugins"));
    dirs.push(PathBuf::from("/usr/share/terraform/plugins"));
    dirs
}

/// Where the mirror came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorSource {
    Configured,
    Detected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub path: PathBuf,
    pub source: MirrorSource,
    /// `host/namespace/type` of every provider found in it.
    pub providers: Vec<String>,
}

/// The mirror to use, if any: the configured one, else a detected one when the operator's own
/// CLI configuration (`ambient`, from `TF_CLI_CONFIG_FILE` or `~/.terraformrc`) does not exist.
pub fn choose(
    configured: Option<&Path>,
    ambient: Option<&Path>,
    candidates: &[PathBuf],
) -> Option<Mirror> {
    if let Some(path) = configured {
        return Some(Mirror {
            path: path.to_path_buf(),
            source: MirrorSource::Configured,
            providers: providers_in(path),
        });
    }
    if ambient.is_some_and(Path::is_file) {
        return None;
    }
    candidates
        .iter()
        .find(|d| d.join("registry.terraform.io/hashicorp/aws").is_dir())
        .map(|d| Mirror {
            path: d.clone(),
            source: MirrorSource::Detected,
            providers: providers_in(d),
        })
}

/// The operator's own CLI configuration file, as terraform would find it.
pub fn ambient_cli_config(home: Option<&Path>) -> Option<PathBuf> {
    match std::env::var_os("TF_CLI_CONFIG_FILE").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => home.map(|h| h.join(".terraformrc")),
    }
}

/// `host/namespace/type` directories of an unpacked or packed mirror.
pub fn providers_in(mirror: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for host in subdirs(mirror) {
        for ns in subdirs(&host) {
            for ty in subdirs(&ns) {
                let name = |p: &Path| {
                    p.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .to_string()
                };
                found.push(format!("{}/{}/{}", name(&host), name(&ns), name(&ty)));
            }
        }
    }
    found.sort();
    found
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() || t.is_symlink()))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

/// The CLI configuration: providers found in the mirror come from it and from nowhere else;
/// any other provider from its registry. A mirror with no providers is still the only source,
/// so `terraform init` says plainly that the provider is not in it.
pub fn render(mirror: &Mirror) -> Vec<u8> {
    let path = mirror.path.display().to_string();
    let installation = if mirror.providers.is_empty() {
        json!({ "filesystem_mirror": [{ "path": path }] })
    } else {
        json!({
            "filesystem_mirror": [{ "path": path, "include": mirror.providers }],
            "direct": [{ "exclude": mirror.providers }],
        })
    };
    let doc = json!({ "disable_checkpoint": true, "provider_installation": installation });
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("plain data serializes");
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirror_with_aws(root: &Path) {
        std::fs::create_dir_all(root.join("registry.terraform.io/hashicorp/aws/5.100.0")).unwrap();
    }

    #[test]
    fn a_configured_mirror_wins_even_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let m = choose(Some(dir.path()), None, &[]).unwrap();
        assert_eq!(m.source, MirrorSource::Configured);
        assert!(m.providers.is_empty());
        let doc: serde_json::Value = serde_json::from_slice(&render(&m)).unwrap();
        assert!(doc["provider_installation"].get("direct").is_none());
    }

    #[test]
    fn a_mirror_is_detected_only_without_an_operator_cli_config() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        let full = dir.path().join("full");
        std::fs::create_dir_all(&empty).unwrap();
        mirror_with_aws(&full);
        let candidates = [empty, full.clone()];
        let missing = dir.path().join("no-such-terraformrc");
        let m = choose(None, Some(&missing), &candidates).unwrap();
        assert_eq!(m.path, full);
        assert_eq!(m.source, MirrorSource::Detected);
        assert_eq!(m.providers, ["registry.terraform.io/hashicorp/aws"]);

        let own = dir.path().join("terraformrc");
        std::fs::write(&own, "").unwrap();
        assert_eq!(choose(None, Some(&own), &candidates), None);
    }

    #[test]
    fn providers_in_the_mirror_never_go_to_the_registry() {
        let dir = tempfile::tempdir().unwrap();
        mirror_with_aws(dir.path());
        let m = choose(Some(dir.path()), None, &[]).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&render(&m)).unwrap();
        let pi = &doc["provider_installation"];
        assert_eq!(
            pi["filesystem_mirror"][0]["path"],
            dir.path().display().to_string()
        );
        assert_eq!(
            pi["filesystem_mirror"][0]["include"][0],
            "registry.terraform.io/hashicorp/aws"
        );
        assert_eq!(
            pi["direct"][0]["exclude"][0],
            "registry.terraform.io/hashicorp/aws"
        );
    }
}

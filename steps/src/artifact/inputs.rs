//! Every input a plan depends on, each by its SHA-256: the configuration file, each schema and
//! example, each Lambda package (built deterministically), each file of the stack.

use std::collections::BTreeMap;

use deploy_state::Fingerprint;

use crate::deploy::lambdas::build_package;
use crate::engine::StepError;
use crate::env::Env;
use crate::terraform::workdir::STACK_EXTENSIONS;

/// The inputs of the deployment `env` runs against, as they are on disk now.
pub fn inputs(env: &Env) -> Result<BTreeMap<String, String>, StepError> {
    let c = &env.config;
    let read = |what: &std::path::Path, e: std::io::Error| {
        StepError::permanent(format!("cannot read {}: {e}", what.display()))
    };
    let config = std::fs::read(&c.path).map_err(|e| read(&c.path, e))?;
    let mut fp = Fingerprint::new()
        .bytes("config", &config)
        .files("schemas", &c.schemas.dir, &[".json"])
        .map_err(|e| read(&c.schemas.dir, e))?
        .files("examples", &c.schemas.examples_dir, &[".json"])
        .map_err(|e| read(&c.schemas.examples_dir, e))?
        .files("terraform", &c.terraform.dir, STACK_EXTENSIONS)
        .map_err(|e| read(&c.terraform.dir, e))?;
    for lambda in &c.lambdas {
        let package = build_package(lambda)?;
        fp = fp.text(&format!("lambda/{}", lambda.key), &package.sha256_hex());
    }
    Ok(fp.components().clone())
}

/// What differs between the inputs a plan recorded and those on disk now, one line each.
pub fn changed(recorded: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<String> {
    Fingerprint::from_components(now.clone())
        .changed_since(recorded)
        .into_iter()
        .map(|name| {
            let what = match (recorded.contains_key(&name), now.contains_key(&name)) {
                (true, false) => "removed",
                (false, true) => "added",
                _ => "changed",
            };
            format!("{} {what} since the plan", describe(&name))
        })
        .collect()
}

/// `config` → `deploy.toml`, `lambda/x` → `the Lambda source of x`, a file → its path.
fn describe(name: &str) -> String {
    if name == "config" {
        return "the configuration (deploy.toml)".into();
    }
    if let Some(key) = name.strip_prefix("lambda/") {
        return format!("the Lambda source of {key}");
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_difference_is_named_with_what_happened() {
        let before = BTreeMap::from([
            ("config".to_string(), "a".to_string()),
            ("schemas/x/v1.json".to_string(), "b".to_string()),
            ("lambda/logger".to_string(), "c".to_string()),
        ]);
        let mut now = before.clone();
        now.insert("config".into(), "z".into());
        now.insert("schemas/x/v2.json".into(), "d".into());
        now.insert("lambda/logger".into(), "y".into());
        let lines = changed(&before, &now);
        assert_eq!(
            lines,
            [
                "the configuration (deploy.toml) changed since the plan",
                "the Lambda source of logger changed since the plan",
                "schemas/x/v2.json added since the plan",
            ]
        );
        assert!(changed(&before, &before).is_empty());
    }
}

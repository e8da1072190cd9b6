//! The stack's variables, from the configuration, written as `terraform.tfvars.json` with
//! serde (never by string templating: a quote in a value cannot change the file's meaning).

use std::collections::BTreeMap;

use deploy_config::Config;
use serde::Serialize;

/// Every variable `deploy` writes; the field names are the HCL variable names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TfVars {
    pub project_name: String,
    pub environment: String,
    pub region: String,
    pub event_bus_name: String,
    pub archive_retention_days: u32,
    pub enable_schema_registry: bool,
    pub schema_registry_name: String,
    /// Absolute, so the copy of the stack in the ledger finds the schemas.
    pub schemas_dir: String,
    pub dlq_name: String,
    pub dlq_retention_seconds: u64,
    pub tags: BTreeMap<String, String>,
}

pub const FILE_NAME: &str = "terraform.tfvars.json";

impl TfVars {
    pub fn from_config(config: &Config) -> Self {
        let schemas_dir = if config.schemas.dir.is_absolute() {
            config.schemas.dir.clone()
        } else {
            config.base_dir.join(&config.schemas.dir)
        };
        let schemas_dir = std::path::absolute(&schemas_dir).unwrap_or(schemas_dir);
        TfVars {
            project_name: config.project.name.clone(),
            environment: config.project.environment.clone(),
            region: config.project.region.clone(),
            event_bus_name: config.eventbus.name.clone(),
            archive_retention_days: config.eventbus.archive_retention_days,
            // The emulators do not serve the Schemas API: off in local mode.
            enable_schema_registry: config.schemas.registry && !config.local,
            schema_registry_name: config.schemas.registry_name.clone(),
            schemas_dir: schemas_dir.display().to_string(),
            dlq_name: config.dlq.name.clone(),
            dlq_retention_seconds: u64::from(config.dlq.retention_days) * 86_400,
            tags: BTreeMap::new(),
        }
    }

    /// The file's content: pretty JSON, stable key order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("plain data serializes");
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let overrides = deploy_config::Overrides::default();
        deploy_config::parse(std::path::Path::new("/p/deploy.toml"), text, &overrides).unwrap()
    }

    #[test]
    fn variables_come_from_the_config_and_quotes_stay_data() {
        let c = config(
            "[project]\nname = \"hub\"\nenvironment = \"qa\"\nregion = \"eu-west-1\"\n\
             [eventbus]\narchive_retention_days = 3\n[dlq]\nretention_days = 2\n\
             [schemas]\nregistry = true\ndir = \"schemas\"\n",
        );
        let v = TfVars::from_config(&c);
        assert_eq!(v.environment, "qa");
        assert_eq!(v.archive_retention_days, 3);
        assert_eq!(v.dlq_retention_seconds, 2 * 86_400);
        assert!(v.enable_schema_registry);
        assert_eq!(v.schemas_dir, "/p/schemas");
        let json: serde_json::Value = serde_json::from_slice(&v.to_json()).unwrap();
        assert_eq!(json["event_bus_name"], v.event_bus_name.as_str());
        assert_eq!(json["tags"], serde_json::json!({}));

        let tricky = TfVars {
            project_name: "a\"b}\n${x}".into(),
            ..v
        };
        let json: serde_json::Value = serde_json::from_slice(&tricky.to_json()).unwrap();
        assert_eq!(json["project_name"], "a\"b}\n${x}");
    }

    #[test]
    fn local_mode_turns_the_schema_registry_off() {
        let mut c = config("[schemas]\nregistry = true\n");
        c.local = true;
        assert!(!TfVars::from_config(&c).enable_schema_registry);
    }
}

//! The stack's variables, from the configuration, written as `terraform.tfvars.json` with
//! serde (never by string templating: a quote in a value cannot change the file's meaning).

use std::collections::BTreeMap;

use deploy_config::{Config, Route, TargetKind};
use serde::{Deserialize, Serialize};

/// Every variable `deploy` writes; the field names are the HCL variable names (read back from
/// the last good deployment's record by a rollback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TfVars {
    pub project_name: String,
    pub environment: String,
    pub region: String,
    pub event_bus_name: String,
    pub archive_retention_days: u32,
    pub enable_schema_registry: bool,
    pub schema_registry_name: String,
    /// The contract versions the registry receives (empty when it is off).
    pub schemas: BTreeMap<String, TfSchema>,
    pub dlq_name: String,
    pub dlq_retention_seconds: u64,
    pub tags: BTreeMap<String, String>,
    /// The routes (their rules, and the targets Terraform makes), by route key.
    pub routes: BTreeMap<String, TfRoute>,
    /// Queues routes deliver to that the deployment creates: key -> name.
    pub consumer_queues: BTreeMap<String, String>,
}

/// An event type in the registry: its schema name and its versions (number → absolute path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TfSchema {
    pub name: String,
    pub versions: BTreeMap<String, String>,
}

/// `audio-uploaded` → `AudioUploaded`.
fn registry_name(event: &str) -> String {
    event
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The versions on disk of each event type (absolute paths, so the copy of the stack in the
/// ledger finds them). An event type whose layout is broken is left out: the contracts check
/// refuses to deploy it before terraform runs.
fn schemas(config: &Config) -> BTreeMap<String, TfSchema> {
    let dir = if config.schemas.dir.is_absolute() {
        config.schemas.dir.clone()
    } else {
        config.base_dir.join(&config.schemas.dir)
    };
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let mut out = BTreeMap::new();
    for e in &config.events {
        let Ok(found) = deploy_contracts::catalog::load(&dir, &[e.key.as_str()]) else {
            continue;
        };
        for c in found {
            let versions = c
                .versions
                .iter()
                .map(|v| (v.number.to_string(), v.file.display().to_string()))
                .collect();
            out.insert(
                c.event.clone(),
                TfSchema {
                    name: registry_name(&c.event),
                    versions,
                },
            );
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TfRoute {
    pub rule_name: String,
    pub description: String,
    pub pattern: String,
    pub targets: Vec<TfTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TfTarget {
    pub id: String,
    pub kind: String,
    pub queue_key: Option<String>,
    pub arn: Option<String>,
    pub retry_attempts: Option<u32>,
    pub max_event_age_seconds: Option<u32>,
    pub dead_letter: bool,
    pub input_paths: Option<BTreeMap<String, String>>,
    pub input_template: Option<String>,
}

impl TfRoute {
    /// A route as Terraform makes it: functions are left to the lambdas step.
    fn of(r: &Route) -> TfRoute {
        let targets = r
            .targets
            .iter()
            .filter_map(|t| {
                let (queue_key, arn) = match &t.kind {
                    TargetKind::Lambda { .. } => return None,
                    TargetKind::Sqs { key, .. } => (Some(key.clone()), None),
                    TargetKind::SqsArn { arn }
                    | TargetKind::StateMachineArn { arn }
                    | TargetKind::BusArn { arn } => (None, Some(arn.clone())),
                };
                Some(TfTarget {
                    id: t.id.clone(),
                    kind: t.kind.key().to_string(),
                    queue_key,
                    arn,
                    retry_attempts: t.retry_attempts,
                    max_event_age_seconds: t.max_event_age_seconds,
                    dead_letter: t.dead_letter,
                    input_paths: t.input_transformer.as_ref().map(|i| i.input_paths.clone()),
                    input_template: t
                        .input_transformer
                        .as_ref()
                        .map(|i| i.input_template.clone()),
                })
            })
            .collect();
        TfRoute {
            rule_name: r.rule_name.clone(),
            description: r.description.clone(),
            pattern: r.pattern.clone(),
            targets,
        }
    }
}

pub const FILE_NAME: &str = "terraform.tfvars.json";

impl TfVars {
    /// Whether a route delivers through the targets' role (a state machine, another bus):
    /// the stack then makes it (`local.role_targets` in terraform/rules.tf).
    pub fn needs_targets_role(&self) -> bool {
        self.routes
            .values()
            .flat_map(|r| &r.targets)
            .any(|t| t.kind == "state_machine_arn" || t.kind == "bus_arn")
    }

    pub fn from_config(config: &Config) -> Self {
        // The emulators do not serve the Schemas API: off in local mode.
        let registry = config.schemas.registry && !config.local;
        TfVars {
            project_name: config.project.name.clone(),
            environment: config.project.environment.clone(),
            region: config.project.region.clone(),
            event_bus_name: config.eventbus.name.clone(),
            archive_retention_days: config.eventbus.archive_retention_days,
            enable_schema_registry: registry,
            schema_registry_name: config.schemas.registry_name.clone(),
            schemas: if registry {
                schemas(config)
            } else {
                BTreeMap::new()
            },
            dlq_name: config.dlq.name.clone(),
            dlq_retention_seconds: u64::from(config.dlq.retention_days) * 86_400,
            tags: BTreeMap::new(),
            routes: config
                .routes
                .iter()
                .map(|r| (r.key.clone(), TfRoute::of(r)))
                .collect(),
            consumer_queues: config
                .routes
                .iter()
                .flat_map(|r| &r.targets)
                .filter_map(|t| match &t.kind {
                    TargetKind::Sqs { key, queue_name } => Some((key.clone(), queue_name.clone())),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The file's content: pretty JSON, stable key order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("plain data serializes");
        bytes.push(b'\n');
        bytes
    }
}

/// The consumer queues an apply of `vars` would delete, by Terraform's state document `state`:
/// each instance of `aws_sqs_queue.consumer` whose key `vars` no longer has, or has under
/// another name (a replacement). Read from the state, not from what was last recorded as
/// applied, so that the queue guard sees every queue Terraform will delete.
pub fn consumer_queues_deleted(state: &[u8], vars: &TfVars) -> Vec<String> {
    let Ok(state) = serde_json::from_slice::<serde_json::Value>(state) else {
        return Vec::new();
    };
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["mode"] == "managed" && r["type"] == "aws_sqs_queue" && r["name"] == "consumer"
        })
        .flat_map(|r| r["instances"].as_array().into_iter().flatten())
        .filter_map(|i| {
            let name = i["attributes"]["name"].as_str()?;
            let kept = i["index_key"]
                .as_str()
                .and_then(|k| vars.consumer_queues.get(k))
                .is_some_and(|n| n == name);
            (!kept).then(|| name.to_string())
        })
        .collect()
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
    fn the_registry_gets_every_version_of_every_event_type() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "audio-uploaded/v1.json",
            "audio-uploaded/v2.json",
            "user-registered/v1.json",
        ] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "{}").unwrap();
        }
        let c = config(&format!(
            "[schemas]\nregistry = true\ndir = \"{}\"\n\
             [events.audio-uploaded]\nsource = \"s\"\ndetail_type = \"A\"\n\
             [events.user-registered]\nsource = \"s\"\ndetail_type = \"U\"\n",
            dir.path().display()
        ));
        let v = TfVars::from_config(&c);
        let audio = &v.schemas["audio-uploaded"];
        assert_eq!(audio.name, "AudioUploaded");
        assert_eq!(audio.versions.len(), 2);
        assert!(audio.versions["2"].ends_with("audio-uploaded/v2.json"));
        assert_eq!(v.schemas["user-registered"].name, "UserRegistered");
    }

    #[test]
    fn local_mode_turns_the_schema_registry_off() {
        let mut c = config("[schemas]\nregistry = true\n");
        c.local = true;
        assert!(!TfVars::from_config(&c).enable_schema_registry);
    }

    #[test]
    fn the_consumer_queues_an_apply_deletes_are_read_from_the_state() {
        let state = br#"{"resources":[
          {"mode":"managed","type":"aws_sqs_queue","name":"dlq",
           "instances":[{"attributes":{"name":"dev-dlq"}}]},
          {"mode":"managed","type":"aws_sqs_queue","name":"consumer","instances":[
            {"index_key":"kept","attributes":{"name":"dev-kept"}},
            {"index_key":"renamed","attributes":{"name":"dev-old-name"}},
            {"index_key":"gone","attributes":{"name":"dev-gone"}}]}
        ]}"#;
        let config = deploy_config::parse(
            std::path::Path::new("/p/deploy.toml"),
            "[project]\nenvironment = \"dev\"\n",
            &deploy_config::Overrides::default(),
        )
        .unwrap();
        let mut vars = TfVars::from_config(&config);
        vars.consumer_queues = [("kept", "dev-kept"), ("renamed", "dev-new-name")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            consumer_queues_deleted(state, &vars),
            ["dev-old-name", "dev-gone"]
        );
        assert!(consumer_queues_deleted(b"", &vars).is_empty());
    }
}

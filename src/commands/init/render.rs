//! The file `init` writes: `[project]` first, then only what differs from what the
//! configuration derives anyway, each section under a one-line comment.

use std::path::Path;

use deploy_config::{Config, ConfigError, Overrides};
use toml::{Table, Value};

/// What was asked, and answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub environment: String,
    pub project: String,
    pub region: String,
    /// An AWS profile to use (`[aws] profile`), if one was chosen.
    pub profile: Option<String>,
    pub bus: String,
    pub registry: bool,
    /// `auto`, `user-policy` or `skip`.
    pub iam_mode: String,
    /// Memory (MB) and timeout (s) per function, in the order of [`LAMBDAS`].
    pub lambdas: Vec<(i64, i64)>,
    pub retention: i64,
}

/// The project name `deploy_config` uses when the file names none.
pub const DEFAULT_PROJECT: &str = "eventbridge-hub";

/// The two functions `init` asks about, with the comment written above each one's table.
pub const LAMBDAS: [(&str, &str); 2] = [
    (
        "event-logger",
        "The Lambda function that logs every event sent to the bus.",
    ),
    (
        "dead-letter-processor",
        "The Lambda function that consumes the dead-letter queue.",
    ),
];

impl Answers {
    /// The answers that write nothing but `[project]`: everything as `config` derives it.
    pub fn derived(config: &Config) -> Answers {
        let lambdas = LAMBDAS
            .iter()
            .map(|(key, _)| {
                let l = config.lambdas.iter().find(|l| l.key == *key);
                (
                    l.map_or(256, |l| i64::from(l.memory_mb)),
                    l.map_or(30, |l| i64::from(l.timeout_seconds)),
                )
            })
            .collect();
        Answers {
            environment: config.project.environment.clone(),
            project: config.project.name.clone(),
            region: config.project.region.clone(),
            profile: config.aws.profile.clone(),
            bus: config.eventbus.name.clone(),
            registry: config.schemas.registry,
            iam_mode: "auto".into(),
            lambdas,
            retention: i64::from(config.eventbus.archive_retention_days),
        }
    }
}

/// What the configuration derives when the file holds only `[project]` with these values.
pub fn derived(project: &str, environment: &str, region: &str) -> Result<Config, ConfigError> {
    let mut text = String::new();
    section(
        &mut text,
        "project",
        "",
        &project_pairs(project, environment, region),
    );
    deploy_config::parse(Path::new("deploy.toml"), &text, &Overrides::default())
}

fn project_pairs(project: &str, environment: &str, region: &str) -> [(&'static str, Value); 3] {
    [
        ("name", project.into()),
        ("environment", environment.into()),
        ("region", region.into()),
    ]
}

/// Appends `[header]` with `pairs` in order, under a `# comment` line; nothing when `pairs`
/// is empty. Each value is serialized by `toml`, never templated.
fn section(out: &mut String, header: &str, comment: &str, pairs: &[(&str, Value)]) {
    if pairs.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    if !comment.is_empty() {
        out.push_str(&format!("# {comment}\n"));
    }
    out.push_str(&format!("[{header}]\n"));
    for (key, value) in pairs {
        let mut one = Table::new();
        one.insert((*key).to_string(), value.clone());
        out.push_str(&toml::to_string(&one).expect("a key and a value serialize"));
    }
}

const HEADER: &str = "# deploy.toml, written by `deploy init`. Only answers that differ from a default are\n\
                      # here: every other name derives from project.environment (DEPLOY_ENVIRONMENT \
                      overrides it).\n";

/// The file: `[project]` always, then only the answers that differ from what the
/// configuration would derive anyway.
pub fn render(a: &Answers) -> Result<String, ConfigError> {
    let config = derived(&a.project, &a.environment, &a.region)?;
    let d = Answers::derived(&config);
    let mut out = String::new();
    section(
        &mut out,
        "project",
        "The project; every name not given below derives from its environment.",
        &project_pairs(&a.project, &a.environment, &a.region),
    );
    let aws: Vec<(&str, Value)> = a
        .profile
        .iter()
        .map(|p| ("profile", Value::from(p.clone())))
        .collect();
    section(
        &mut out,
        "aws",
        "Where the credentials come from (AWS_PROFILE overrides it).",
        &aws,
    );
    let mut bus = Vec::new();
    if a.bus != d.bus {
        bus.push(("name", Value::from(a.bus.clone())));
    }
    if a.retention != d.retention {
        bus.push(("archive_retention_days", Value::from(a.retention)));
    }
    section(
        &mut out,
        "eventbus",
        "The custom event bus and its archive.",
        &bus,
    );
    let mut schemas = Vec::new();
    if a.registry != d.registry {
        schemas.push(("registry", Value::from(a.registry)));
    }
    section(
        &mut out,
        "schemas",
        "The EventBridge schema registry.",
        &schemas,
    );
    let iam: Vec<(&str, Value)> = (a.iam_mode != d.iam_mode)
        .then(|| ("mode", Value::from(a.iam_mode.clone())))
        .into_iter()
        .collect();
    section(
        &mut out,
        "iam",
        "What the iam step may do for the deploying principal.",
        &iam,
    );
    for (i, (key, comment)) in LAMBDAS.iter().enumerate() {
        let (memory, timeout) = a.lambdas[i];
        let (d_memory, d_timeout) = d.lambdas[i];
        let mut pairs = Vec::new();
        if memory != d_memory {
            pairs.push(("memory", Value::from(memory)));
        }
        if timeout != d_timeout {
            pairs.push(("timeout", Value::from(timeout)));
        }
        section(&mut out, &format!("lambdas.{key}"), comment, &pairs);
    }
    Ok(format!("{HEADER}\n{out}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(environment: &str) -> Answers {
        Answers::derived(&derived(DEFAULT_PROJECT, environment, "eu-west-1").unwrap())
    }

    fn load(text: &str, overrides: &Overrides) -> Config {
        deploy_config::parse(Path::new("deploy.toml"), text, overrides)
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    /// Every answer pinned in the file, as `init` used to write it.
    fn pinned(a: &Answers) -> String {
        let mut text = String::new();
        section(
            &mut text,
            "project",
            "",
            &project_pairs(&a.project, &a.environment, &a.region),
        );
        section(
            &mut text,
            "eventbus",
            "",
            &[
                ("name", Value::from(a.bus.clone())),
                ("archive_retention_days", Value::from(a.retention)),
            ],
        );
        section(
            &mut text,
            "schemas",
            "",
            &[("registry", Value::from(a.registry))],
        );
        for (i, (key, _)) in LAMBDAS.iter().enumerate() {
            section(
                &mut text,
                &format!("lambdas.{key}"),
                "",
                &[
                    ("memory", Value::from(a.lambdas[i].0)),
                    ("timeout", Value::from(a.lambdas[i].1)),
                ],
            );
        }
        if a.iam_mode != "auto" {
            section(
                &mut text,
                "iam",
                "",
                &[("mode", Value::from(a.iam_mode.clone()))],
            );
        }
        if let Some(p) = &a.profile {
            section(&mut text, "aws", "", &[("profile", Value::from(p.clone()))]);
        }
        text
    }

    fn resolved(text: &str) -> serde_json::Value {
        serde_json::to_value(load(text, &Overrides::default())).unwrap()
    }

    #[test]
    fn default_answers_write_only_the_project_and_load_the_same_configuration() {
        let a = defaults("qa");
        let text = render(&a).unwrap();
        for derived_name in [
            "-application-events",
            "-eventbridge-dlq",
            "-event-schemas",
            "function_name",
            "rule =",
        ] {
            assert!(!text.contains(derived_name), "{derived_name} in\n{text}");
        }
        assert!(
            text.contains(
                "[project]\nname = \"eventbridge-hub\"\nenvironment = \"qa\"\nregion = \"eu-west-1\"\n"
            ),
            "{text}"
        );
        assert_eq!(text.matches('[').count(), 1, "only [project]:\n{text}");
        assert_eq!(resolved(&text), resolved(&pinned(&a)));
        let c = load(&text, &Overrides::default());
        assert_eq!(c.eventbus.name, "qa-application-events");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn a_file_of_default_answers_follows_deploy_environment() {
        let text = render(&defaults("qa")).unwrap();
        let c = load(
            &text,
            &Overrides {
                environment: Some("prod".into()),
                ..Overrides::default()
            },
        );
        assert_eq!(c.eventbus.name, "prod-application-events");
        assert_eq!(c.dlq.name, "prod-eventbridge-dlq");
        assert_eq!(c.schemas.registry_name, "prod-event-schemas");
        assert_eq!(c.lambdas[0].function_name, "prod-event-logger");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn a_changed_bus_name_is_written_under_a_comment() {
        let mut a = defaults("qa");
        a.bus = "orders-bus".into();
        let text = render(&a).unwrap();
        assert!(
            text.contains(
                "\n# The custom event bus and its archive.\n[eventbus]\nname = \"orders-bus\"\n"
            ),
            "{text}"
        );
        assert!(!text.contains("archive_retention_days"), "{text}");
        assert!(
            !text.contains("[schemas]") && !text.contains("[lambdas"),
            "{text}"
        );
        assert_eq!(resolved(&text), resolved(&pinned(&a)));
        assert_eq!(
            load(&text, &Overrides::default()).eventbus.name,
            "orders-bus"
        );
    }

    #[test]
    fn every_changed_answer_is_written_project_first_each_section_under_a_comment() {
        let a = Answers {
            environment: "staging".into(),
            project: "media".into(),
            region: "us-west-2".into(),
            profile: Some("ops".into()),
            bus: "staging-application-events".into(),
            registry: false,
            iam_mode: "skip".into(),
            lambdas: vec![(512, 60), (1024, 90)],
            retention: 0,
        };
        let text = render(&a).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let headers: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with('['))
            .collect();
        assert_eq!(lines[headers[0]], "[project]", "{text}");
        for &i in &headers {
            assert!(
                lines[i - 1].starts_with("# "),
                "no comment above {}:\n{text}",
                lines[i]
            );
        }
        assert_eq!(
            headers.iter().map(|&i| lines[i]).collect::<Vec<_>>(),
            [
                "[project]",
                "[aws]",
                "[eventbus]",
                "[schemas]",
                "[iam]",
                "[lambdas.event-logger]",
                "[lambdas.dead-letter-processor]"
            ]
        );
        assert!(!text.contains("-application-events"), "{text}");
        assert_eq!(resolved(&text), resolved(&pinned(&a)));
        let c = load(&text, &Overrides::default());
        assert_eq!(c.project.name, "media");
        assert_eq!(c.eventbus.archive_retention_days, 0);
        assert!(!c.schemas.registry);
        let sizes: Vec<(u32, u32)> = c
            .lambdas
            .iter()
            .map(|l| (l.memory_mb, l.timeout_seconds))
            .collect();
        assert_eq!(
            sizes,
            [(512, 60), (1024, 90)],
            "memory and timeout per function"
        );
        assert_eq!(c.aws.profile.as_deref(), Some("ops"));
    }
}

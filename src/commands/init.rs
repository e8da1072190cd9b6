//! `deploy init`: write `deploy.toml`, interactively or with `--defaults`.
//!
//! Only what the user chose is written: an answer equal to what `deploy_config` derives
//! anyway (from the environment, or a built-in default) is left out, so that a later
//! `DEPLOY_ENVIRONMENT` changes every derived name.

use std::path::{Path, PathBuf};

use deploy_config::{Config, ConfigError, Overrides, validate};
use dialoguer::{Confirm, Input};
use toml::{Table, Value};

use crate::cli::{Global, InitArgs};
use crate::error::{self, CliError, CliResult};
use crate::printer::Printer;

struct Answers {
    environment: String,
    project: String,
    region: String,
    bus: String,
    registry: bool,
    memory: i64,
    timeout: i64,
    retention: i64,
}

pub async fn exec(g: &Global, args: &InitArgs) -> CliResult {
    let printer = Printer::new(g, false);
    let path = g
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("deploy.toml"));
    let ambient_region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok();
    let env0 = args.environment.clone().unwrap_or_else(|| "dev".into());
    let region0 = args
        .region
        .clone()
        .or(ambient_region)
        .unwrap_or_else(|| "us-east-1".into());
    let answers = if args.defaults {
        if path.exists() && !args.force {
            return Err(CliError::usage(format!(
                "{} already exists; pass --force to replace it (the old file is backed up)",
                path.display()
            )));
        }
        let check = |r: Result<String, (String, String)>, flag: &str| {
            r.map_err(|(p, a)| CliError::usage(format!("{flag}: {p}; allowed: {a}")))
        };
        let environment = check(validate::environment(&env0), "--environment")?;
        let region = check(validate::region(&region0), "--region")?;
        Answers::derived(&derived(DEFAULT_PROJECT, &environment, &region)?)
    } else {
        super::require_terminal_or("--defaults")?;
        if path.exists() {
            let replace = Confirm::new()
                .with_prompt(format!(
                    "{} exists. Back it up and write a new one? (no keeps it)",
                    path.display()
                ))
                .default(false)
                .interact()
                .map_err(prompt_error)?;
            if !replace {
                printer.info(&format!("kept {}", path.display()));
                return Ok(error::OK);
            }
        }
        ask(&printer, &env0, &region0).await?
    };
    if path.exists() {
        let backup = backup_path(&path);
        std::fs::rename(&path, &backup)
            .map_err(|e| CliError::failed(format!("cannot back up {}: {e}", path.display())))?;
        printer.info(&format!("backed up the old file to {}", backup.display()));
    }
    let text = render(&answers)?;
    // What we write must load: check before it lands.
    deploy_config::parse(&path, &text, &Overrides::default())?;
    std::fs::write(&path, text)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    printer.status(
        "Wrote",
        console::Style::new().green(),
        &format!("{} (environment {})", path.display(), answers.environment),
    );
    Ok(error::OK)
}

fn backup_path(path: &Path) -> PathBuf {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S").to_string();
    path.with_extension(format!("toml.bak-{stamp}"))
}

fn prompt_error(e: dialoguer::Error) -> CliError {
    CliError::usage(format!("prompt aborted: {e}"))
}

fn text_input(
    prompt: &str,
    default: String,
    check: fn(&str) -> Result<String, (String, String)>,
) -> Result<String, CliError> {
    Input::<String>::new()
        .with_prompt(prompt)
        .default(default)
        .validate_with(move |s: &String| {
            check(s)
                .map(|_| ())
                .map_err(|(p, a)| format!("{p}; allowed: {a}"))
        })
        .interact_text()
        .map_err(prompt_error)
}

fn number_input(prompt: &str, default: i64, min: i64, max: i64) -> Result<i64, CliError> {
    Input::<i64>::new()
        .with_prompt(format!("{prompt} ({min}-{max})"))
        .default(default)
        .validate_with(move |n: &i64| {
            if (min..=max).contains(n) {
                Ok(())
            } else {
                Err(format!("must be from {min} to {max}"))
            }
        })
        .interact_text()
        .map_err(prompt_error)
}

async fn ask(printer: &Printer, env0: &str, region0: &str) -> Result<Answers, CliError> {
    if let Some((account, arn)) = detect_identity(region0).await {
        printer.info(&format!("AWS account {account}, principal {arn}"));
    } else {
        printer.info("no AWS credentials found yet (preflight will check them)");
    }
    let environment = text_input("Environment", env0.to_string(), validate::environment)?;
    let project = text_input(
        "Project name",
        DEFAULT_PROJECT.into(),
        validate::project_name,
    )?;
    let region = text_input("AWS region", region0.to_string(), validate::region)?;
    // The remaining defaults are what the configuration derives for these three answers.
    let d = Answers::derived(&derived(&project, &environment, &region)?);
    let bus = text_input("Event bus name", d.bus, validate::bus_name)?;
    let registry = Confirm::new()
        .with_prompt("Deploy the schema registry?")
        .default(d.registry)
        .interact()
        .map_err(prompt_error)?;
    let memory = number_input("Lambda memory in MB", d.memory, 128, 10240)?;
    let timeout = number_input("Lambda timeout in seconds", d.timeout, 1, 900)?;
    let retention = number_input(
        "Archive retention in days (0 = forever)",
        d.retention,
        0,
        36500,
    )?;
    Ok(Answers {
        environment,
        project,
        region,
        bus,
        registry,
        memory,
        timeout,
        retention,
    })
}

/// The caller's account and principal, if credentials are at hand (short deadline).
async fn detect_identity(region: &str) -> Option<(String, String)> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&sdk);
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sts.get_caller_identity().send(),
    )
    .await
    .ok()?
    .ok()?;
    Some((out.account?.to_string(), out.arn?.to_string()))
}

/// The project name `deploy_config` uses when the file names none.
const DEFAULT_PROJECT: &str = "eventbridge-hub";

/// The two functions `init` asks about, with the comment written above each one's table.
const LAMBDAS: [(&str, &str); 2] = [
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
    fn derived(config: &Config) -> Answers {
        let logger = config.lambdas.iter().find(|l| l.key == LAMBDAS[0].0);
        Answers {
            environment: config.project.environment.clone(),
            project: config.project.name.clone(),
            region: config.project.region.clone(),
            bus: config.eventbus.name.clone(),
            registry: config.schemas.registry,
            memory: logger.map_or(256, |l| i64::from(l.memory_mb)),
            timeout: logger.map_or(30, |l| i64::from(l.timeout_seconds)),
            retention: i64::from(config.eventbus.archive_retention_days),
        }
    }
}

/// What the configuration derives when the file holds only `[project]` with these values.
fn derived(project: &str, environment: &str, region: &str) -> Result<Config, ConfigError> {
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
fn render(a: &Answers) -> Result<String, ConfigError> {
    let config = derived(&a.project, &a.environment, &a.region)?;
    let d = Answers::derived(&config);
    let mut out = String::new();
    section(
        &mut out,
        "project",
        "The project; every name not given below derives from its environment.",
        &project_pairs(&a.project, &a.environment, &a.region),
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
    for (key, comment) in LAMBDAS {
        let default = config.lambdas.iter().find(|l| l.key == key);
        let mut pairs = Vec::new();
        if default.is_none_or(|l| i64::from(l.memory_mb) != a.memory) {
            pairs.push(("memory", Value::from(a.memory)));
        }
        if default.is_none_or(|l| i64::from(l.timeout_seconds) != a.timeout) {
            pairs.push(("timeout", Value::from(a.timeout)));
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
        for (key, _) in LAMBDAS {
            section(
                &mut text,
                &format!("lambdas.{key}"),
                "",
                &[
                    ("memory", Value::from(a.memory)),
                    ("timeout", Value::from(a.timeout)),
                ],
            );
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
            bus: "staging-application-events".into(),
            registry: false,
            memory: 512,
            timeout: 60,
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
                "[eventbus]",
                "[schemas]",
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
        assert!(
            c.lambdas
                .iter()
                .all(|l| l.memory_mb == 512 && l.timeout_seconds == 60)
        );
    }
}

//! `deploy init`: write `deploy.toml`, interactively or with `--defaults`.

use std::path::{Path, PathBuf};

use deploy_config::validate;
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
    let printer = Printer::new(g);
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
        Answers {
            bus: format!("{environment}-application-events"),
            environment,
            project: "eventbridge-hub".into(),
            region,
            registry: true,
            memory: 256,
            timeout: 30,
            retention: 7,
        }
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
    let text = render(&answers);
    // What we write must load: check before it lands.
    deploy_config::parse(&path, &text, &deploy_config::Overrides::default())?;
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
        "eventbridge-hub".into(),
        validate::project_name,
    )?;
    let region = text_input("AWS region", region0.to_string(), validate::region)?;
    let bus = text_input(
        "Event bus name",
        format!("{environment}-application-events"),
        validate::bus_name,
    )?;
    let registry = Confirm::new()
        .with_prompt("Deploy the schema registry?")
        .default(true)
        .interact()
        .map_err(prompt_error)?;
    let memory = number_input("Lambda memory in MB", 256, 128, 10240)?;
    let timeout = number_input("Lambda timeout in seconds", 30, 1, 900)?;
    let retention = number_input("Archive retention in days (0 = forever)", 7, 0, 36500)?;
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

fn table(pairs: &[(&str, Value)]) -> Value {
    Value::Table(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Table>(),
    )
}

/// The file, built as data and serialized (no string templating of values).
fn render(a: &Answers) -> String {
    let mut doc = Table::new();
    doc.insert(
        "project".into(),
        table(&[
            ("name", a.project.clone().into()),
            ("environment", a.environment.clone().into()),
            ("region", a.region.clone().into()),
        ]),
    );
    doc.insert(
        "eventbus".into(),
        table(&[
            ("name", a.bus.clone().into()),
            ("archive_retention_days", a.retention.into()),
        ]),
    );
    doc.insert("schemas".into(), table(&[("registry", a.registry.into())]));
    let lambda = || table(&[("memory", a.memory.into()), ("timeout", a.timeout.into())]);
    doc.insert(
        "lambdas".into(),
        table(&[
            ("event-logger", lambda()),
            ("dead-letter-processor", lambda()),
        ]),
    );
    format!(
        "# deploy.toml: written by `deploy init`. Every value not given here is derived from\n\
         # project.environment; see README.md for all keys.\n\n{}",
        toml::to_string(&doc).expect("config serializes")
    )
}

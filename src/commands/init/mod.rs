//! `deploy init`: write `deploy.toml`, interactively or with `--defaults`.
//!
//! Only what the user chose is written: an answer equal to what `deploy_config` derives
//! anyway (from the environment, or a built-in default) is left out, so that a later
//! `DEPLOY_ENVIRONMENT` changes every derived name.

use std::path::{Path, PathBuf};

use deploy_config::{Overrides, validate};
use deploy_steps::aws::AwsClients;
use dialoguer::{Confirm, Input, Select};

use crate::cli::{Global, InitArgs};
use crate::error::{self, CliError, CliResult};
use crate::printer::Printer;

mod render;
mod starter;

use render::{Answers, DEFAULT_PROJECT, LAMBDAS, derived, render};

pub async fn exec(g: &Global, args: &InitArgs) -> CliResult {
    let printer = Printer::new(g, false);
    let path = g
        .config
        .path
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
    let Some(answers) = answers(&printer, args, &path, (&env0, &region0)).await? else {
        return Ok(error::OK);
    };
    if path.exists() {
        let backup = backup_path(&path);
        std::fs::rename(&path, &backup)
            .map_err(|e| CliError::failed(format!("cannot back up {}: {e}", path.display())))?;
        printer.info(&format!("backed up the old file to {}", backup.display()));
    }
    // The project's settings, then the hub it starts with: the checked-in event types and
    // routes, to edit.
    let text = format!("{}\n{}", render(&answers)?, deploy_config::starter_hub());
    // What we write must load: check before it lands.
    deploy_config::parse(&path, &text, &Overrides::default())?;
    std::fs::write(&path, text)
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    // The hub's event types need their contracts: the starter schemas and examples, where the
    // project has none yet.
    let project = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let written = starter::write_missing(project)
        .map_err(|e| CliError::failed(format!("cannot write the starter contracts: {e}")))?;
    if written > 0 {
        printer.info(&format!(
            "wrote {written} starter schema and example files under schemas/ and examples/"
        ));
    }
    printer.status(
        "Wrote",
        console::Style::new().green(),
        &format!("{} (environment {})", path.display(), answers.environment),
    );
    printer.info(
        "next: `deploy plan` shows what would run; `deploy all` deploys it (`deploy all --local` \
         tries it against a local emulator, no AWS account needed)",
    );
    Ok(error::OK)
}
/// The answers: derived with `--defaults`, or asked. `None` when the operator keeps the
/// existing file.
async fn answers(
    printer: &Printer,
    args: &InitArgs,
    path: &Path,
    (env0, region0): (&str, &str),
) -> Result<Option<Answers>, CliError> {
    if args.defaults {
        if path.exists() && !args.force {
            return Err(CliError::usage(format!(
                "{} already exists; pass --force to replace it (the old file is backed up)",
                path.display()
            )));
        }
        let check = |r: Result<String, (String, String)>, flag: &str| {
            r.map_err(|(p, a)| CliError::usage(format!("{flag}: {p}; allowed: {a}")))
        };
        let environment = check(validate::environment(env0), "--environment")?;
        let region = check(validate::region(region0), "--region")?;
        return Ok(Some(Answers::derived(&derived(
            DEFAULT_PROJECT,
            &environment,
            &region,
        )?)));
    }
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
            return Ok(None);
        }
    }
    Ok(Some(ask(printer, env0, region0).await?))
}

fn backup_path(path: &Path) -> PathBuf {
    let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S").to_string();
    path.with_extension(format!("toml.bak-{stamp}"))
}

fn prompt_error(e: dialoguer::Error) -> CliError {
    if crate::prompt::interrupted(&e) {
        crate::prompt::restore_terminal();
        return CliError::new(error::INTERRUPTED, "interrupted: nothing was written");
    }
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

/// A whole number from `min` to `max`. Anything else is asked again, naming the question and
/// the range (not a parser's "invalid digit found in string").
fn number_input(prompt: &str, default: i64, min: i64, max: i64) -> Result<i64, CliError> {
    let question = prompt.to_string();
    let text = Input::<String>::new()
        .with_prompt(format!("{prompt} ({min}-{max})"))
        .default(default.to_string())
        .validate_with(move |s: &String| match s.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(format!(
                "{question}: `{}` is not allowed; give a whole number from {min} to {max}",
                s.trim()
            )),
        })
        .interact_text()
        .map_err(prompt_error)?;
    Ok(text.trim().parse().expect("validated"))
}

/// One of `items` (`(value, what it means)`), `default` first offered.
fn choose(prompt: &str, items: &[(&str, &str)], default: usize) -> Result<usize, CliError> {
    let labels: Vec<String> = items.iter().map(|(v, m)| format!("{v}: {m}")).collect();
    Select::new()
        .with_prompt(prompt)
        .items(&labels)
        .default(default)
        .interact()
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
    let profiles = deploy_steps::aws::known_profiles();
    let profile = if profiles.is_empty() {
        None
    } else {
        let mut items = vec![(
            "(none)",
            "the environment's credentials (AWS_PROFILE, keys, SSO, IMDS)",
        )];
        items.extend(profiles.iter().map(|p| (p.as_str(), "a profile of ~/.aws")));
        match choose("AWS profile", &items, 0)? {
            0 => None,
            n => Some(profiles[n - 1].clone()),
        }
    };
    let bus = text_input("Event bus name", d.bus, validate::bus_name)?;
    let registry = Confirm::new()
        .with_prompt("Deploy the schema registry?")
        .default(d.registry)
        .interact()
        .map_err(prompt_error)?;
    let modes = [
        (
            "auto",
            "give an IAM user a scoped policy; report what a role needs",
        ),
        (
            "user-policy",
            "always put the scoped policy on the IAM user",
        ),
        ("skip", "change no IAM permissions"),
    ];
    let iam_mode = modes[choose("IAM mode", &modes, 0)?].0.to_string();
    let mut lambdas = Vec::new();
    for (i, (key, _)) in LAMBDAS.iter().enumerate() {
        let (memory0, timeout0) = d.lambdas[i];
        let memory = number_input(&format!("{key}: memory in MB"), memory0, 128, 10240)?;
        let timeout = number_input(&format!("{key}: timeout in seconds"), timeout0, 1, 900)?;
        lambdas.push((memory, timeout));
    }
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
        profile,
        bus,
        registry,
        iam_mode,
        lambdas,
        retention,
    })
}

/// The caller's account and principal, if credentials are at hand (short deadline). Asked with
/// the clients every command uses (the profile and endpoint of the environment, the same
/// retries), in the region offered.
async fn detect_identity(region: &str) -> Option<(String, String)> {
    // The environment's name does not matter to STS; any valid one will do.
    let mut config = derived(DEFAULT_PROJECT, "dev", region).ok()?;
    let ambient = Overrides::from_env();
    config.aws.profile = ambient.profile;
    config.aws.endpoint_url = ambient.endpoint_url;
    let aws = AwsClients::new(deploy_steps::aws::sdk_config(&config).await);
    let id = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        deploy_steps::caller::identify(&aws),
    )
    .await
    .ok()?
    .ok()?;
    (!id.account.is_empty() && !id.arn.is_empty()).then_some((id.account, id.arn))
}

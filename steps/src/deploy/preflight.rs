//! The `preflight` step: every check the deployment depends on, all run, all reported at once as
//! a table with a fix for each failure. `aws`, `jq`, `npm` and `zip` are no longer needed.

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState};

use crate::caller;
use crate::checks::{Check, table};
use crate::engine::{Step, StepContext, StepError, TARGET_COMPONENT};
use crate::env::Env;
use crate::terraform::Terraform;
use crate::terraform::prepared::binary;
use crate::tools;

pub struct Preflight;

/// Free space the ledger directory's filesystem must have.
const MIN_FREE_BYTES: u64 = 1 << 30;

async fn check_terraform(env: &Env) -> (Check, Option<String>) {
    // `name 1.11.4`, from the same runner the infrastructure step uses.
    let version = Terraform::new(&binary(env), &env.local_dir).version().await;
    match version {
        Ok(v) if tools::at_least(v.rsplit(' ').next().unwrap_or(""), 1, 5) => {
            (Check::pass("terraform", v.clone()), Some(v))
        }
        Ok(v) => (
            Check::fail(
                "terraform",
                format!("{v} is older than 1.5"),
                "install Terraform >= 1.5 (or OpenTofu) and set [terraform] binary",
            ),
            Some(v),
        ),
        Err(e) => (
            Check::fail(
                "terraform",
                e.message,
                "install Terraform >= 1.5 (or OpenTofu), or point [terraform] binary in deploy.toml at it",
            ),
            None,
        ),
    }
}

async fn check_credentials(env: &Env) -> (Check, Option<caller::CallerIdentity>) {
    let result = match env.aws().await {
        Ok(aws) => caller::identify(aws).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => (
            Check::pass(
                "credentials",
                format!("account {}, {} {}", id.account, id.describe(), id.arn),
            ),
            Some(id),
        ),
        Err(e) => (
            Check::fail(
                "credentials",
                format!("AWS credentials are missing or invalid: {}", e.message),
                "set AWS_PROFILE (then `aws sso login` for SSO), or AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY; with --local, any key works",
            ),
            None,
        ),
    }
}

fn check_region(env: &Env) -> Check {
    let c = &env.config;
    let endpoint = c
        .aws
        .endpoint_url
        .as_deref()
        .map(|e| format!(" via {e}"))
        .unwrap_or_default();
    Check::pass("region", format!("{}{endpoint}", c.project.region))
}

fn check_state_dir(env: &Env) -> Check {
    let dir = &env.local_dir;
    let probe = dir.join(format!(".preflight-{}", std::process::id()));
    match std::fs::write(&probe, b"ok").and_then(|_| std::fs::remove_file(&probe)) {
        Ok(()) => Check::pass("state directory", format!("{} is writable", dir.display())),
        Err(e) => Check::fail(
            "state directory",
            format!("{} is not writable: {e}", dir.display()),
            "fix its permissions or choose another with --state-dir",
        ),
    }
}

fn check_disk(env: &Env) -> Check {
    match rustix::fs::statvfs(&env.local_dir) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let gib = free as f64 / f64::from(1u32 << 30);
            if free >= MIN_FREE_BYTES {
                Check::pass("disk space", format!("{gib:.1} GiB free"))
            } else {
                Check::fail(
                    "disk space",
                    format!("only {gib:.2} GiB free, 1 GiB needed"),
                    "free some space on the filesystem holding the state directory",
                )
            }
        }
        Err(e) => Check::fail(
            "disk space",
            format!("cannot read: {e}"),
            "check the state directory",
        ),
    }
}

fn check_sources(env: &Env) -> Check {
    let mut missing = Vec::new();
    for l in &env.config.lambdas {
        let module = l.handler.split('.').next().unwrap_or("index");
        let found = ["mjs", "js", "cjs"]
            .iter()
            .any(|ext| l.source.join(format!("{module}.{ext}")).is_file());
        if !found {
            missing.push(format!("{} ({}/{module}.mjs)", l.key, l.source.display()));
        }
    }
    if !env.config.terraform.dir.join("versions.tf").is_file()
        && !has_tf_files(&env.config.terraform.dir)
    {
        missing.push(format!(
            "terraform ({}/*.tf)",
            env.config.terraform.dir.display()
        ));
    }
    if missing.is_empty() {
        let n = env.config.lambdas.len();
        Check::pass(
            "sources",
            format!("{n} Lambda functions and the Terraform stack found"),
        )
    } else {
        Check::fail(
            "sources",
            format!("missing: {}", missing.join(", ")),
            "run from the repository root, or fix the paths in [lambdas.*] source / [terraform] dir",
        )
    }
}

fn has_tf_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".tf"))
        })
        .unwrap_or(false)
}

#[async_trait]
impl Step for Preflight {
    fn name(&self) -> &'static str {
        "preflight"
    }

    fn number(&self) -> &'static str {
        "001"
    }

    fn description(&self) -> &'static str {
        "check tools, credentials, region, disk and sources"
    }

    fn critical(&self) -> bool {
        true
    }

    async fn fingerprint(&self, env: &Env, _state: &LedgerState) -> Result<Fingerprint, StepError> {
        let (_, id) = check_credentials(env).await;
        let principal = id.map(|i| i.arn).unwrap_or_else(|| "unknown".into());
        Ok(Fingerprint::new()
            .text("terraform", &tools::binary_identity(&binary(env)))
            .text("principal", &principal)
            .text(
                "endpoint",
                env.config.aws.endpoint_url.as_deref().unwrap_or("aws"),
            )
            .text(TARGET_COMPONENT, &env.target))
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let env = ctx.env;
        let ((tf, version), (creds, id)) =
            tokio::join!(check_terraform(env), check_credentials(env));
        let checks = vec![
            tf,
            creds,
            check_region(env),
            check_state_dir(env),
            check_disk(env),
            check_sources(env),
        ];
        ctx.print(&table(&checks));
        if let Some(v) = version {
            ctx.output("terraform_version", v);
        }
        if let Some(id) = &id {
            ctx.output("account", id.account.clone());
            ctx.output("principal_arn", id.arn.clone());
        }
        ctx.output("region", env.config.project.region.clone());
        let failed: Vec<&Check> = checks.iter().filter(|c| !c.passed).collect();
        if failed.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = failed.iter().map(|c| c.name.as_str()).collect();
        let detail: Vec<String> = failed
            .iter()
            .map(|c| {
                format!(
                    "{}: {} (fix: {})",
                    c.name,
                    c.detail,
                    c.fix.as_deref().unwrap_or("-")
                )
            })
            .collect();
        Err(StepError::permanent(format!(
            "{} check(s) failed: {}\n{}",
            failed.len(),
            names.join(", "),
            detail.join("\n")
        )))
    }
}

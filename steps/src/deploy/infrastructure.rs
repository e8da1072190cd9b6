//! The `infrastructure` step: apply the Terraform stack (bus, rules, archive, queue, roles).
//!
//! The stack is copied into `<ledger>/terraform/` with its variables generated from the
//! configuration; `init`, then `plan -detailed-exitcode`: no changes → done without `apply`;
//! changes → `apply` of the saved plan. Failures are classified from terraform's error blocks
//! (see [`crate::terraform::classify`]). The outputs go to the ledger and the resources to the
//! inventory of what this deployment owns.

use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use deploy_state::{Fingerprint, LedgerState};

use crate::engine::{Live, Step, StepContext, StepError};
use crate::env::Env;
use crate::terraform::classify::{Failure, classify};
use crate::terraform::cli_config::{self, Mirror, MirrorSource};
use crate::terraform::errors::{Setting, step_error};
use crate::terraform::outputs::{KINDS, Outputs};
use crate::terraform::workdir::{self, PLAN_FILE, STACK_EXTENSIONS};
use crate::terraform::{Progress, Terraform, TfRun, TfVars, tfvars, wait_for_stopped};

pub struct Infrastructure;

const STEP: &str = "infrastructure";

#[async_trait]
impl Step for Infrastructure {
    fn name(&self) -> &'static str {
        STEP
    }

    fn number(&self) -> &'static str {
        "020"
    }

    fn description(&self) -> &'static str {
        "apply the Terraform stack (bus, rules, archive, queue, roles)"
    }

    fn critical(&self) -> bool {
        true
    }

    /// Every stack file, the generated variables, the terraform binary (identified without
    /// running it, so a no-op run starts no process) and the AWS target.
    async fn fingerprint(&self, env: &Env) -> Result<Fingerprint, StepError> {
        let config = &env.config;
        let vars = TfVars::from_config(config);
        let read_err = |what: &Path, e: std::io::Error| {
            StepError::permanent(format!("cannot read {}: {e}", what.display()))
        };
        let mut fp = Fingerprint::new()
            .files("terraform", &config.terraform.dir, STACK_EXTENSIONS)
            .map_err(|e| read_err(&config.terraform.dir, e))?
            .bytes("tfvars", &vars.to_json())
            .text(
                "terraform_binary",
                &crate::tools::binary_identity(&binary(env)),
            )
            .text(crate::engine::TARGET_COMPONENT, &env.target);
        if vars.enable_schema_registry {
            fp = fp
                .files("schemas", &config.schemas.dir, &[".schema.json"])
                .map_err(|e| read_err(&config.schemas.dir, e))?;
        }
        Ok(fp)
    }

    async fn live_check(&self, env: &Env, state: &LedgerState) -> Live {
        crate::live::step_live(env, state, STEP).await
    }

    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let run = Prepared::new(ctx)?;
        let version = run.tf.version().await?;
        ctx.detail(&format!("using {version} in {}", run.dir.display()));
        ctx.output("terraform_version", version);
        let init = run
            .exec(ctx, "init", &["init", "-input=false", "-no-color"])
            .await?;
        if !init.success() {
            return Err(run.error(&classify(&init.combined()), "init", &init));
        }
        let out = format!("-out={PLAN_FILE}");
        let plan_args = [
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            &out,
        ];
        let plan = run.exec(ctx, "plan", &plan_args).await?;
        match plan.code {
            Some(0) => ctx.info("plan: no changes, nothing to apply (apply skipped)"),
            Some(2) => {
                let apply = run
                    .exec(
                        ctx,
                        "apply",
                        &["apply", "-input=false", "-no-color", PLAN_FILE],
                    )
                    .await?;
                if !apply.success() {
                    run.tolerate(ctx, "apply", &apply).await?;
                } else {
                    ctx.info(&format!("applied in {:.1}s", apply.elapsed.as_secs_f64()));
                }
            }
            _ => run.tolerate(ctx, "plan", &plan).await?,
        }
        let _ = std::fs::remove_file(run.dir.join(PLAN_FILE));
        let outputs = run.outputs(ctx).await?;
        record(ctx, &outputs, &run.dir)
    }

    async fn cleanup_after_interrupt(&self, ctx: &mut StepContext<'_>) {
        ctx.detail("waiting for terraform to stop gracefully (it writes its state)");
        wait_for_stopped().await;
        ctx.detail("terraform stopped");
    }
}

/// The configured binary; a relative path is relative to the configuration file.
fn binary(env: &Env) -> String {
    let b = &env.config.terraform.binary;
    if b.contains('/') && !Path::new(b).is_absolute() {
        env.config.base_dir.join(b).display().to_string()
    } else {
        b.clone()
    }
}

/// The working directory made ready and the terraform bound to it.
struct Prepared {
    tf: Terraform,
    dir: PathBuf,
    mirror: Option<Mirror>,
    cli_config: Option<PathBuf>,
    /// The schema registry is on and optional: its authorization errors are warnings.
    schemas_optional: bool,
}

impl Prepared {
    fn new(ctx: &mut StepContext<'_>) -> Result<Prepared, StepError> {
        let env = ctx.env;
        let config = &env.config;
        let dir = workdir::path(&env.state_dir);
        let copied = workdir::sync_stack(&config.terraform.dir, &dir)?;
        ctx.detail(&format!(
            "stack: {} files copied from {}",
            copied.len(),
            config.terraform.dir.display()
        ));
        let vars = TfVars::from_config(config);
        workdir::write(&dir, tfvars::FILE_NAME, &vars.to_json())?;
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let ambient = cli_config::ambient_cli_config(home.as_deref());
        let mirror = cli_config::choose(
            config.terraform.plugin_mirror.as_deref(),
            ambient.as_deref(),
            &cli_config::well_known_mirrors(home.as_deref()),
        );
        let mut tf = Terraform::new(&binary(env), &dir).with_envs(env.subprocess_env());
        let mut cli_path = None;
        if let Some(m) = &mirror {
            let path = workdir::write(&dir, cli_config::FILE_NAME, &cli_config::render(m))?;
            let source = match m.source {
                MirrorSource::Configured => "configured",
                MirrorSource::Detected => "detected",
            };
            ctx.detail(&format!(
                "provider mirror ({source}): {} [{}]",
                m.path.display(),
                m.providers.join(", ")
            ));
            if m.providers.is_empty() {
                ctx.warn(&format!(
                    "the provider mirror {} holds no providers",
                    m.path.display()
                ));
            }
            tf = tf.with_env("TF_CLI_CONFIG_FILE", path.display().to_string());
            cli_path = Some(path);
        }
        Ok(Prepared {
            tf,
            dir,
            mirror,
            cli_config: cli_path,
            schemas_optional: vars.enable_schema_registry && config.schemas.optional,
        })
    }

    /// Runs one command with its output streamed into the step log and progress shown.
    async fn exec(
        &self,
        ctx: &mut StepContext<'_>,
        phase: &str,
        args: &[&str],
    ) -> Result<TfRun, StepError> {
        ctx.info(&format!("terraform {phase}"));
        ctx.detail(&format!("$ {} {}", self.tf.program, args.join(" ")));
        let mut progress = Progress::new();
        let run = {
            let ctx = &mut *ctx;
            let mut on_line = |_, line: &str| {
                ctx.raw(format!("{line}\n").as_bytes());
                if let Some(msg) = progress.observe(line, Instant::now()) {
                    ctx.info(&format!("{phase}: {msg}"));
                }
            };
            self.tf.run(args, &mut on_line).await?
        };
        ctx.detail(&format!(
            "terraform {phase} exited with {} after {:.1}s",
            run.code.map_or("a signal".into(), |c| c.to_string()),
            run.elapsed.as_secs_f64()
        ));
        Ok(run)
    }

    fn error(&self, failure: &Failure, command: &str, run: &TfRun) -> StepError {
        step_error(
            failure,
            &Setting {
                command,
                program: &self.tf.program,
                workdir: &self.dir,
                mirror: self.mirror.as_ref(),
                cli_config: self.cli_config.as_deref(),
                code: run.code,
            },
        )
    }

    /// A failed `plan` or `apply`: an error, unless it is only the optional schema registry
    /// being refused while the bus exists (then a warning).
    async fn tolerate(
        &self,
        ctx: &mut StepContext<'_>,
        command: &str,
        run: &TfRun,
    ) -> Result<(), StepError> {
        let failure = classify(&run.combined());
        if let (Failure::SchemaAccess(blocks), true) = (&failure, self.schemas_optional) {
            let out = self.tf.run_quiet(&["output", "-json"]).await?;
            let bus = Outputs::parse(&out.stdout)
                .ok()
                .and_then(|o| o.str("event_bus_name").map(str::to_string));
            if let Some(bus) = bus {
                ctx.warn(&format!(
                    "the schema registry was not created (not authorized: {}); [schemas] \
                     optional = true, and the bus {bus} exists, so the deployment carries on",
                    blocks[0].summary
                ));
                return Ok(());
            }
        }
        Err(self.error(&failure, command, run))
    }

    async fn outputs(&self, ctx: &mut StepContext<'_>) -> Result<Outputs, StepError> {
        let run = self.exec(ctx, "output", &["output", "-json"]).await?;
        if !run.success() {
            return Err(self.error(&classify(&run.combined()), "output", &run));
        }
        let outputs = Outputs::parse(&run.stdout)?;
        if outputs.str("event_bus_name").is_none() {
            return Err(StepError::permanent(
                "terraform finished but the stack has no `event_bus_name` output",
            )
            .with_hint(format!(
                "check the stack's outputs.tf ({})",
                ctx.config().terraform.dir.display()
            )));
        }
        Ok(outputs)
    }
}

/// Outputs into the ledger; owned resources into the inventory (and those that left the stack
/// out of it).
fn record(ctx: &mut StepContext<'_>, outputs: &Outputs, dir: &Path) -> Result<(), StepError> {
    for (k, v) in outputs.step_outputs() {
        ctx.output(&k, v);
    }
    ctx.output("terraform_dir", dir.display().to_string());
    let owned = outputs.owned_resources(STEP);
    let gone: Vec<(String, String)> = ctx
        .state()
        .inventory
        .iter()
        .filter(|r| r.created_by == STEP && KINDS.contains(&r.kind.as_str()))
        .filter(|r| !owned.iter().any(|o| o.kind == r.kind && o.name == r.name))
        .map(|r| (r.kind.clone(), r.name.clone()))
        .collect();
    for (kind, name) in gone {
        ctx.detail(&format!("no longer in the stack: {kind} {name}"));
        ctx.forget(&kind, &name)?;
    }
    let count = |kind: &str| owned.iter().filter(|r| r.kind == kind).count();
    let summary = format!(
        "bus {}: {} rules, {} archive, {} queue, {} roles",
        outputs.str("event_bus_name").unwrap_or_default(),
        count("rule"),
        count("archive"),
        count("queue"),
        count("role"),
    );
    for r in owned {
        ctx.record(r)?;
    }
    ctx.info(&summary);
    Ok(())
}

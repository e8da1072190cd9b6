//! A terraform bound to the ledger's working directory: the stack copied in, the variables
//! written, the provider mirror configured. Shared by `infrastructure` (init, plan, apply) and
//! `destroy` (init, destroy).

use std::path::{Path, PathBuf};

use deploy_state::TerraformBackend;

use crate::engine::{StepContext, StepError};
use crate::env::Env;
use crate::terraform::classify::{Failure, classify};
use crate::terraform::cli_config::{self, Mirror, MirrorSource};
use crate::terraform::errors::{Setting, step_error};
use crate::terraform::json_stream::{self, TfEvent};
use crate::terraform::outputs::Outputs;
use crate::terraform::workdir;
use crate::terraform::{Terraform, TfRun, TfVars, tfvars};

/// Where the working directory keeps the digest of the last `init`'s inputs.
const INIT_MARKER: &str = "deploy-init-inputs";

/// Terraform's provider lock file.
const LOCK_FILE: &str = ".terraform.lock.hcl";

/// The backend configuration written beside the stack when its state is shared.
pub const BACKEND_FILE: &str = "backend_override.tf.json";

/// Terraform's own S3 backend with its lock file, under the deployment's state prefix
/// (`None` for the local backend: `terraform.tfstate` in the working directory).
pub fn backend_file(backend: &TerraformBackend) -> Option<Vec<u8>> {
    let TerraformBackend::S3 {
        bucket,
        key,
        region,
        kms_key_id,
        emulator,
    } = backend
    else {
        return None;
    };
    let mut s3 = serde_json::json!({
        "bucket": bucket,
        "key": key,
        "region": region,
        "encrypt": true,
        "use_lockfile": true,
    });
    if let Some(k) = kms_key_id {
        s3["kms_key_id"] = k.clone().into();
    }
    if *emulator {
        // Only for an emulator endpoint: real AWS keeps every check.
        for flag in [
            "use_path_style",
            "skip_credentials_validation",
            "skip_requesting_account_id",
            "skip_metadata_api_check",
            "skip_region_validation",
        ] {
            s3[flag] = true.into();
        }
    }
    let doc = serde_json::json!({"terraform": {"backend": {"s3": s3}}});
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("json");
    bytes.push(b'\n');
    Some(bytes)
}

pub fn describe_backend(backend: &TerraformBackend) -> String {
    match backend {
        TerraformBackend::Local => "terraform.tfstate in the working directory".into(),
        TerraformBackend::S3 { bucket, key, .. } => {
            format!("s3://{bucket}/{key} (S3 backend, lock file beside it)")
        }
    }
}

/// One line of terraform's output. With `-json`: its human message goes to the step log, resource
/// hooks become resource events, and the change summary becomes the step's summary line (plan:
/// a progress message). Other lines go to the step log as they are.
fn observe(ctx: &mut StepContext<'_>, phase: &str, line: &str) {
    let Some(event) = json_stream::parse_line(line) else {
        ctx.raw(format!("{line}\n").as_bytes());
        return;
    };
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
        && let Some(message) = v["@message"].as_str()
    {
        ctx.raw(format!("{message}\n").as_bytes());
    }
    match event {
        TfEvent::Resource {
            phase: p,
            address,
            action,
            elapsed_seconds,
        } => ctx.resource(&address, &action, p.as_str(), elapsed_seconds),
        TfEvent::Summary {
            operation,
            add,
            change,
            remove,
            import,
        } => {
            let line = json_stream::summary_line(add, change, remove, import);
            if operation == "plan" {
                ctx.info(&format!("{phase}: {line} (planned)"));
            } else {
                ctx.summary(line);
            }
        }
        _ => {}
    }
}

/// The configured binary; a relative path is relative to the configuration file.
pub fn binary(env: &Env) -> String {
    let b = &env.config.terraform.binary;
    if b.contains('/') && !Path::new(b).is_absolute() {
        env.config.base_dir.join(b).display().to_string()
    } else {
        b.clone()
    }
}

/// The working directory made ready and the terraform bound to it.
pub struct Prepared {
    pub tf: Terraform,
    pub dir: PathBuf,
    mirror: Option<Mirror>,
    cli_config: Option<PathBuf>,
    /// The schema registry is on and optional: its authorization errors are warnings.
    schemas_optional: bool,
    /// The outputs the last successful `apply` printed in its stream (saves `terraform output`).
    applied_outputs: std::sync::Mutex<Option<Outputs>>,
}

impl Prepared {
    /// The working directory made ready, logging what was done in the step's log.
    pub async fn new(ctx: &mut StepContext<'_>, vars: &TfVars) -> Result<Prepared, StepError> {
        let (prepared, notes) = Prepared::prepare(ctx.env, vars)?;
        for (warning, note) in notes {
            if warning {
                ctx.warn(&note).await;
            } else {
                ctx.detail(&note);
            }
        }
        Ok(prepared)
    }

    /// The working directory made ready; what was done, as notes (`true`: a warning).
    pub fn prepare(env: &Env, vars: &TfVars) -> Result<(Prepared, Vec<(bool, String)>), StepError> {
        Prepared::prepare_at(env, vars, &workdir::path(&env.local_dir))
    }

    /// As [`Self::prepare`], in the directory `dir` (a scratch copy for a plan that must not
    /// disturb the working directory a run may be using).
    pub fn prepare_at(
        env: &Env,
        vars: &TfVars,
        dir: &Path,
    ) -> Result<(Prepared, Vec<(bool, String)>), StepError> {
        let mut notes = Vec::new();
        let config = &env.config;
        let dir = dir.to_path_buf();
        let copied = workdir::sync_stack(&config.terraform.dir, &dir)?;
        notes.push((
            false,
            format!(
                "stack: {} files copied from {}",
                copied.len(),
                config.terraform.dir.display()
            ),
        ));
        workdir::write(&dir, tfvars::FILE_NAME, &vars.to_json())?;
        workdir::restrict(&dir).map_err(|e| {
            StepError::permanent(format!("cannot make {} private: {e}", dir.display()))
        })?;
        if let Some(backend) = backend_file(&env.terraform_backend) {
            workdir::write(&dir, BACKEND_FILE, &backend)?;
            notes.push((
                false,
                format!(
                    "terraform state: {}",
                    describe_backend(&env.terraform_backend)
                ),
            ));
        }
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
            notes.push((
                false,
                format!(
                    "provider mirror ({source}): {} [{}]",
                    m.path.display(),
                    m.providers.join(", ")
                ),
            ));
            if m.providers.is_empty() {
                notes.push((
                    true,
                    format!(
                        "the provider mirror {} holds no providers",
                        m.path.display()
                    ),
                ));
            }
            tf = tf.with_env("TF_CLI_CONFIG_FILE", path.display().to_string());
            cli_path = Some(path);
        }
        Ok((
            Prepared {
                tf,
                dir,
                mirror,
                cli_config: cli_path,
                schemas_optional: vars.enable_schema_registry && config.schemas.optional,
                applied_outputs: Default::default(),
            },
            notes,
        ))
    }

    /// Runs one command with its output streamed into the step log and progress shown.
    pub async fn exec(
        &self,
        ctx: &mut StepContext<'_>,
        phase: &str,
        args: &[&str],
    ) -> Result<TfRun, StepError> {
        ctx.info(&format!("terraform {phase}"));
        ctx.detail(&format!("$ {} {}", self.tf.program, args.join(" ")));
        let run = {
            let ctx = &mut *ctx;
            let mut on_line = |_, line: &str| observe(ctx, phase, line);
            self.tf.run(args, &mut on_line).await?
        };
        if args.first() == Some(&"apply") {
            *self.applied_outputs.lock().expect("not poisoned") = run
                .success()
                .then(|| Outputs::from_apply_stream(&run.stdout))
                .flatten();
        }
        ctx.detail(&format!(
            "terraform {phase} exited with {} after {:.1}s",
            run.code.map_or("a signal".into(), |c| c.to_string()),
            run.elapsed.as_secs_f64()
        ));
        Ok(run)
    }

    /// `terraform apply` of the saved plan, at the parallelism a run changing `waiting`
    /// resources of the waiting types is given.
    pub async fn apply_saved(
        &self,
        ctx: &mut StepContext<'_>,
        waiting: usize,
    ) -> Result<TfRun, StepError> {
        self.apply(ctx, waiting, Some(workdir::PLAN_FILE)).await
    }

    /// `terraform apply -auto-approve` of the working directory as it is: planned and applied
    /// by one process (one provider start), for a caller that knows what the plan holds
    /// without reading it (the contraction: what retires, and the queues among it).
    pub async fn apply_unsaved(
        &self,
        ctx: &mut StepContext<'_>,
        waiting: usize,
    ) -> Result<TfRun, StepError> {
        self.apply(ctx, waiting, None).await
    }

    async fn apply(
        &self,
        ctx: &mut StepContext<'_>,
        waiting: usize,
        plan: Option<&str>,
    ) -> Result<TfRun, StepError> {
        let parallelism = super::parallelism::for_run(ctx, waiting);
        let mut args = vec!["apply", "-input=false", "-no-color", "-json", &parallelism];
        args.push(plan.unwrap_or("-auto-approve"));
        self.exec(ctx, "apply", &args).await
    }

    /// What a plan would change, without changing anything and without a step (the preview
    /// shown before asking to run `infrastructure`, and `deploy plan --diff`): one line per
    /// resource, replacements flagged.
    pub async fn preview(env: &Env, vars: &TfVars) -> Result<Vec<String>, StepError> {
        let (run, _) = Prepared::prepare(env, vars)?;
        let init = run
            .tf
            .run_quiet(&["init", "-input=false", "-no-color", "-reconfigure"])
            .await?;
        if !init.success() {
            return Err(run.error(&classify(&init.combined()), "init", &init));
        }
        let plan = run
            .tf
            .run_quiet(&["plan", "-input=false", "-no-color", "-json", "-lock=false"])
            .await?;
        if !matches!(plan.code, Some(0 | 2)) {
            return Err(run.error(&classify(&plan.combined()), "plan", &plan));
        }
        Ok(json_stream::planned_lines(&plan.stdout))
    }

    /// `terraform init`. `-reconfigure`: the backend configuration is generated from the state
    /// settings each time, so what `.terraform` remembers of an earlier one is only a cache.
    pub async fn init(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let args = ["init", "-input=false", "-no-color", "-reconfigure"];
        let init = self.exec(ctx, "init", &args).await?;
        if !init.success() {
            return Err(self.error(&classify(&init.combined()), "init", &init));
        }
        Ok(())
    }

    /// `terraform init` when what it depends on changed since the last one in this working
    /// directory (the stack's files, the backend and CLI configuration, the provider lock, the
    /// binary); otherwise nothing, which saves a process on every change to the hub's data.
    pub async fn init_if_needed(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        let inputs = self.init_inputs();
        let marker = self.dir.join(".terraform").join(INIT_MARKER);
        if std::fs::read_to_string(&marker).ok().as_deref() == Some(inputs.as_str()) {
            ctx.detail("terraform init skipped: its inputs are unchanged since the last one");
            return Ok(());
        }
        self.init(ctx).await?;
        // Init may write the provider lock: what it depends on is read again once it is done.
        // A marker that cannot be written only means the next run initialises again.
        let _ = std::fs::write(&marker, self.init_inputs());
        Ok(())
    }

    /// A digest of everything `init` depends on.
    fn init_inputs(&self) -> String {
        let mut fp = deploy_state::Fingerprint::new().text("binary", &self.tf.program);
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().to_string());
                name.is_some_and(|n| {
                    n == cli_config::FILE_NAME
                        || n == LOCK_FILE
                        || workdir::STACK_EXTENSIONS.iter().any(|e| n.ends_with(e))
                })
            })
            .collect();
        names.sort();
        for p in names {
            let bytes = std::fs::read(&p).unwrap_or_default();
            fp = fp.bytes(&p.display().to_string(), &bytes);
        }
        fp.digest()
    }

    pub fn error(&self, failure: &Failure, command: &str, run: &TfRun) -> StepError {
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
    pub async fn judge_failure(
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
                ))
                .await;
                return Ok(());
            }
        }
        Err(self.error(&failure, command, run))
    }

    /// The stack's outputs: those the last apply printed, or `terraform output`'s.
    pub async fn outputs(&self, ctx: &mut StepContext<'_>) -> Result<Outputs, StepError> {
        let applied = self.applied_outputs.lock().expect("not poisoned").take();
        let outputs = match applied {
            Some(outputs) => {
                ctx.detail("terraform outputs: those the apply printed");
                outputs
            }
            None => {
                let run = self.exec(ctx, "output", &["output", "-json"]).await?;
                if !run.success() {
                    return Err(self.error(&classify(&run.combined()), "output", &run));
                }
                Outputs::parse(&run.stdout)?
            }
        };
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

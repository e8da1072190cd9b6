//! Making a plan artifact. Nothing here writes the ledger or takes the run lock: Terraform plans
//! in a scratch directory of its own (`-lock=false`), reading the state as it is.

use std::path::{Path, PathBuf};

use deploy_state::{DeploymentId, Ledger, TERRAFORM_STATE, TerraformBackend};

use super::{Artifact, FORMAT, Manifest, PlannedStep, ResourceChange, StateAt, Touched, VERSION};
use crate::change;
use crate::engine::{self, StepError};
use crate::env::Env;
use crate::pipeline;
use crate::terraform::classify::classify;
use crate::terraform::planned::Planned;
use crate::terraform::prepared::Prepared;

/// Terraform's part of a plan: its saved plan (whenever the infrastructure step runs) and what
/// it changes.
struct TerraformPlan {
    tfplan: Option<Vec<u8>>,
    planned: Planned,
}

/// The plan of the deployment `ledger` holds, as `env` would deploy it now.
pub async fn make(
    env: &Env,
    ledger: &Ledger,
    deployment: &DeploymentId,
) -> Result<Artifact, StepError> {
    let state = ledger.state();
    let steps: Vec<PlannedStep> = engine::plan(&pipeline::deploy(), env, state)
        .await
        .into_iter()
        .map(|(step, d)| PlannedStep {
            step: step.to_string(),
            run: d.run,
            reason: d.reason,
        })
        .collect();
    let infrastructure = steps.iter().any(|s| s.step == "infrastructure" && s.run);
    let tf = if infrastructure {
        terraform_plan(env).await?
    } else {
        TerraformPlan {
            tfplan: None,
            planned: Planned::default(),
        }
    };
    let created = tf.planned.creates.iter().map(Touched::created);
    let touched = tf.planned.touched.iter().map(Touched::of);
    let touched: Vec<Touched> = touched.chain(created).collect();
    let live = super::live::fingerprints(env.aws().await?, &touched).await;
    let manifest = Manifest {
        format: FORMAT,
        deploy_version: VERSION.to_string(),
        deployment: state.identity.clone().unwrap_or_else(|| deployment.clone()),
        state: state_at(ledger).await,
        inputs: super::inputs(env)?,
        steps,
        changes: tf
            .planned
            .changes
            .iter()
            .map(|(address, action)| ResourceChange {
                address: address.clone(),
                action: action.clone(),
            })
            .collect(),
        touched,
        live,
        findings: super::live::findings(env, state).await,
        change: change::pending(env).await,
        contracts: contract_lines(env, ledger),
    };
    Ok(Artifact {
        manifest,
        tfplan: tf.tfplan,
    })
}

/// Where the state stands (`None`: nothing stored for this deployment yet).
pub async fn state_at(ledger: &Ledger) -> Option<StateAt> {
    if ledger.is_empty().await {
        return None;
    }
    let s = ledger.state();
    Some(StateAt {
        location: ledger.location(),
        lineage: s.lineage.clone(),
        serial: s.serial,
        version: ledger.stored_version().map(str::to_string),
    })
}

/// The contract versions this deploy would ship, each with its verdict.
fn contract_lines(env: &Env, ledger: &Ledger) -> Vec<String> {
    let shipped = &ledger.state().contracts;
    let report = crate::contracts::check(&env.config, Some(shipped));
    let verdict = if report.passed() {
        "compatible".to_string()
    } else {
        format!("refused: {}", report.problems().join("; "))
    };
    let mut out = Vec::new();
    for (event, versions) in crate::contracts::to_ship(&env.config) {
        for n in versions.keys() {
            if !shipped.get(&event).is_some_and(|s| s.contains_key(n)) {
                out.push(format!("{event} v{n}: new, {verdict}"));
            }
        }
    }
    out
}

/// Terraform's plan of the expand phase, made in a scratch directory.
async fn terraform_plan(env: &Env) -> Result<TerraformPlan, StepError> {
    let dir = Scratch::new()?;
    let vars = change::for_env(env).await.expanded;
    let (run, _) = Prepared::prepare_at(env, &vars, &dir.0)?;
    if env.terraform_backend == TerraformBackend::Local {
        copy_local_state(env, &dir.0).await?;
    }
    for args in [
        &["init", "-input=false", "-no-color", "-reconfigure"][..],
        &[
            "plan",
            "-input=false",
            "-no-color",
            "-lock=false",
            "-detailed-exitcode",
            "-out=tfplan",
        ],
    ] {
        // A plan without changes is kept too: applied, it changes nothing (not even what
        // drifted since, which a plan made at apply time would repair unreviewed), and
        // Terraform still refuses it if its state moved.
        let out = run.tf.run_quiet(args).await?;
        if !matches!(out.code, Some(0 | 2)) {
            return Err(run.error(&classify(&out.combined()), args[0], &out));
        }
    }
    let show = run.tf.run_quiet(&["show", "-json", "tfplan"]).await?;
    if !show.success() {
        return Err(run.error(&classify(&show.combined()), "show", &show));
    }
    let planned = Planned::parse(&show.stdout).map_err(StepError::permanent)?;
    let tfplan = std::fs::read(dir.0.join("tfplan"))
        .map_err(|e| StepError::permanent(format!("reading terraform's saved plan: {e}")))?;
    Ok(TerraformPlan {
        tfplan: Some(tfplan),
        planned,
    })
}

/// The local backend's state, where the scratch copy's terraform reads it.
async fn copy_local_state(env: &Env, dir: &Path) -> Result<(), StepError> {
    let Some(objects) = &env.state else {
        return Ok(());
    };
    if let Some(o) = objects.read(TERRAFORM_STATE).await? {
        std::fs::write(dir.join("terraform.tfstate"), &o.bytes)
            .map_err(|e| StepError::permanent(format!("copying terraform's state to plan: {e}")))?;
    }
    Ok(())
}

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, StepError> {
        let dir = std::env::temp_dir().join(format!(
            "deploy-plan-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| StepError::permanent(format!("creating {}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

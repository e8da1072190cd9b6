//! Whether a plan artifact still holds: every difference between what it recorded and the
//! deployment now, one line each. Any difference refuses the plan before anything changes.

use deploy_state::{DeploymentId, Ledger};

use super::{Artifact, Manifest, VERSION, build, inputs, live};
use crate::engine::{self, StepError};
use crate::env::Env;
use crate::pipeline;

/// The differences between `artifact` and the deployment `ledger` holds (locked by the caller),
/// as `env` sees it now: empty when the plan may be applied.
pub async fn differences(
    artifact: &Artifact,
    env: &Env,
    ledger: &Ledger,
    deployment: &DeploymentId,
) -> Result<Vec<String>, StepError> {
    let m = &artifact.manifest;
    let mut out = Vec::new();
    if m.deploy_version != VERSION {
        out.push(format!(
            "the plan was made by deploy {} and this is deploy {VERSION}",
            m.deploy_version
        ));
    }
    out.extend(identity(&m.deployment, deployment));
    if ledger.state().applied_plans.contains(&artifact.id()) {
        out.push("this plan was already applied".into());
    } else {
        out.extend(state(m, ledger).await);
    }
    out.extend(inputs::changed(&m.inputs, &super::inputs(env)?));
    if m.runs("infrastructure") && artifact.tfplan.is_none() {
        out.push("the plan runs the infrastructure step but holds no saved Terraform plan".into());
    }
    if out.is_empty() {
        out.extend(decisions(m, env, ledger).await);
        let now = live::fingerprints(env.aws().await?, &m.touched).await;
        out.extend(live::drifted(&m.touched, &m.live, &now));
        let found = live::findings(env, ledger.state()).await;
        out.extend(live::found_since(&m.findings, &found));
    }
    Ok(out)
}

/// Another deployment or account than the plan's.
fn identity(planned: &DeploymentId, now: &DeploymentId) -> Vec<String> {
    let mut out = Vec::new();
    if !planned.same_deployment(now) {
        out.push(format!("the plan is for deployment {planned}, not {now}"));
    }
    if let (Some(a), Some(b)) = (&planned.account, &now.account)
        && a != b
    {
        out.push(format!(
            "the plan is for AWS account {a}, and the credentials are of account {b}"
        ));
    }
    out
}

/// The state since the plan: made with none while one exists now, another lineage, another run.
async fn state(m: &Manifest, ledger: &Ledger) -> Vec<String> {
    let now = build::state_at(ledger).await;
    match (&m.state, &now) {
        (None, None) => Vec::new(),
        (None, Some(_)) => {
            vec!["the plan was made before anything was deployed, and a state exists now".into()]
        }
        (Some(_), None) => vec!["the plan was made against a state that is gone now".into()],
        (Some(p), Some(n)) if p.lineage != n.lineage => {
            vec![format!(
                "the state at {} is another lineage than the plan's",
                n.location
            )]
        }
        (Some(p), Some(n)) if p.serial != n.serial || p.version != n.version => vec![format!(
            "the state changed since the plan (serial {} then, {} now: another run wrote it)",
            p.serial, n.serial
        )],
        _ => Vec::new(),
    }
}

/// Steps that would run now but not in the plan, or the other way round.
async fn decisions(m: &Manifest, env: &Env, ledger: &Ledger) -> Vec<String> {
    let now = engine::plan(&pipeline::deploy(), env, ledger.state()).await;
    let mut out = Vec::new();
    for (step, d) in now {
        let planned = m.steps.iter().find(|s| s.step == step);
        if planned.is_none_or(|p| p.run != d.run) {
            out.push(format!(
                "step {step} would {} now ({}), unlike in the plan",
                if d.run { "run" } else { "not run" },
                d.reason
            ));
        }
    }
    out
}

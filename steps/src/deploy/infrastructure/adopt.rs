//! Resources the plan would create that already exist. One that carries this deployment's
//! ownership tags is its own — made by a run whose state was lost, or by a create whose answer
//! was lost on the way (Terraform's retry of `CreateRole` then meets `EntityAlreadyExists`) —
//! and is imported into Terraform's state; anything else stops the run before any change,
//! named with its likely owner (some creates, like SQS `CreateQueue`, would otherwise take an
//! existing resource over silently).

use deploy_state::Resource;

use crate::engine::{StepContext, StepError};
use crate::ownership;
use crate::terraform::classify::classify;
use crate::terraform::prepared::Prepared;
use crate::terraform::workdir::{self, PLAN_FILE};

/// The `import` blocks of adopted resources (removed with the other copies of the stack by the
/// next run's sync: import blocks of resources already in the state do nothing anyway).
const IMPORTS_FILE: &str = "adopted_imports.tf";

/// What the saved plan would create (each with its Terraform `address`).
pub async fn planned_creates(run: &Prepared) -> Result<Vec<Resource>, StepError> {
    let show = run.tf.run_quiet(&["show", "-json", PLAN_FILE]).await?;
    if !show.success() {
        return Err(run.error(&classify(&show.combined()), "show", &show));
    }
    ownership::planned_creates(&show.stdout).map_err(StepError::permanent)
}

/// Imports the existing creates that are provably this deployment's, and returns how many
/// (the plan must then be made again); refuses, naming them, when any is not.
pub async fn adopt_or_refuse(
    ctx: &mut StepContext<'_>,
    run: &Prepared,
    creates: &[Resource],
) -> Result<usize, StepError> {
    if creates.is_empty() {
        return Ok(0);
    }
    let aws = ctx.env.aws().await?.clone();
    let managed = managed(run).await?;
    let pending: Vec<Resource> = creates
        .iter()
        .filter(|r| {
            r.attributes
                .get("address")
                .is_none_or(|a| !managed.contains(a))
        })
        .cloned()
        .collect();
    let taken = ownership::existing(&aws, &pending).await;
    ctx.detail(&format!(
        "checked {} planned creates through the API: {} already exist",
        creates.len(),
        taken.len()
    ));
    if taken.is_empty() {
        return Ok(0);
    }
    let tags = ownership::ownership_tags(ctx.config());
    let mut ours = Vec::new();
    let mut foreign = Vec::new();
    for r in taken {
        if ownership::proven_ours(&aws, &r, &tags).await {
            ours.push(r);
        } else {
            foreign.push(r);
        }
    }
    if !foreign.is_empty() {
        return Err(refusal(ctx, &foreign).await);
    }
    let mut blocks = String::from(
        "# Written by deploy: resources of this deployment that exist and carry its tags.\n",
    );
    for r in &ours {
        let address = r.attributes.get("address").cloned().unwrap_or_default();
        let id = ownership::import_id(&aws, r).await?;
        // Strings in JSON quoting are valid HCL strings (no interpolation in these ids).
        blocks.push_str(&format!(
            "\nimport {{\n  to = {address}\n  id = {}\n}}\n",
            serde_json::to_string(&id).expect("a string serializes")
        ));
        ctx.info(&format!(
            "adopting {} {}: it exists and carries this deployment's tags ({address})",
            r.kind, r.name
        ));
    }
    // `import` blocks, planned and applied with everything else: `terraform import` of one
    // resource at a time would evaluate outputs over a half-imported state.
    workdir::write(&run.dir, IMPORTS_FILE, blocks.as_bytes())?;
    Ok(ours.len())
}

/// The addresses Terraform's state holds (`terraform state list`).
async fn managed(run: &Prepared) -> Result<Vec<String>, StepError> {
    let list = run.tf.run_quiet(&["state", "list", "-no-color"]).await?;
    // No state yet is an empty list.
    Ok(list
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

async fn refusal(ctx: &StepContext<'_>, foreign: &[Resource]) -> StepError {
    let backend = ctx.ledger.backend().clone();
    let mut named = Vec::new();
    for r in foreign {
        let owner = ownership::likely_owner(backend.as_ref(), r).await;
        named.push(format!("{} {} ({owner})", r.kind, r.name));
    }
    StepError::permanent(format!(
        "stopped before any change: {} this deployment would create already exist{}, without \
         this deployment's tags, and creating them would take them over: {}",
        if foreign.len() == 1 {
            "a resource"
        } else {
            "resources"
        },
        if foreign.len() == 1 { "s" } else { "" },
        named.join("; ")
    ))
    .with_hint(
        "give this deployment other names (project.environment, or the names in deploy.toml), \
         or remove what is in the way if it is nobody's; if it is this deployment's own from a \
         lost state, point deploy at that state ([state] backend/bucket, --state-dir)",
    )
}

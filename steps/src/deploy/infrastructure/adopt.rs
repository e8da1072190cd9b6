//! Resources the plan would create that already exist. One that carries this deployment's
//! ownership tags is its own — made by a run whose state was lost, or by a create whose answer
//! was lost on the way (Terraform's retry of `CreateRole` then meets `EntityAlreadyExists`) —
//! and is imported into Terraform's state; anything else stops the run before any change,
//! named with its likely owner (some creates, like SQS `CreateQueue`, would otherwise take an
//! existing resource over silently).

use std::collections::BTreeMap;

use deploy_state::Resource;

use crate::catalog::{self, Cx, Lookups, Tags};
use crate::discover;
use crate::engine::{StepContext, StepError};
use crate::ownership;
use crate::terraform::Planned;
use crate::terraform::classify::classify;
use crate::terraform::prepared::Prepared;
use crate::terraform::workdir::{self, PLAN_FILE};

/// The `import` blocks of adopted resources (removed with the other copies of the stack by the
/// next run's sync: import blocks of resources already in the state do nothing anyway).
const IMPORTS_FILE: &str = "adopted_imports.tf";

/// What the saved plan would do.
pub async fn planned(run: &Prepared) -> Result<Planned, StepError> {
    let show = run.tf.run_quiet(&["show", "-json", PLAN_FILE]).await?;
    if !show.success() {
        return Err(run.error(&classify(&show.combined()), "show", &show));
    }
    Planned::parse(&show.stdout).map_err(StepError::permanent)
}

/// Imports the existing creates that are provably this deployment's, and returns how many
/// (the plan must then be made again); refuses, naming them, when any is not. A plan's creates
/// are not in Terraform's state; `after_apply`: an apply of them failed, and those it made are
/// (they are left out).
pub async fn adopt_or_refuse(
    ctx: &mut StepContext<'_>,
    run: &Prepared,
    creates: &[Resource],
    after_apply: bool,
) -> Result<usize, StepError> {
    if creates.is_empty() {
        return Ok(0);
    }
    let aws = ctx.env.aws().await?.clone();
    let managed = if after_apply {
        managed(run).await?
    } else {
        Vec::new()
    };
    let pending: Vec<Resource> = creates
        .iter()
        .filter(|r| {
            r.attributes
                .address
                .as_ref()
                .is_none_or(|a| !managed.contains(a))
        })
        .cloned()
        .collect();
    let taken = discover::existing(&aws, &pending).await;
    ctx.detail(&format!(
        "checked {} planned creates through the API: {} already exist",
        creates.len(),
        taken.len()
    ));
    if taken.is_empty() {
        return Ok(0);
    }
    let tags = ownership::ownership_tags(ctx.config());
    let lookups = Lookups::default();
    let cx = Cx {
        aws: &aws,
        lookups: &lookups,
    };
    let mut ours = Vec::new();
    let mut foreign = Vec::new();
    for r in taken {
        let kind = catalog::of(r.kind);
        if kind.proven_ours(&cx, &r, &tags).await {
            ours.push(r);
        } else {
            let found = kind.tags(&cx, &r).await;
            foreign.push((r, found));
        }
    }
    if !foreign.is_empty() {
        return Err(refusal(ctx, &foreign, &tags).await);
    }
    let mut blocks = String::from(
        "# Written by deploy: resources of this deployment that exist and carry its tags.\n",
    );
    for r in &ours {
        let address = r.attributes.address.clone().unwrap_or_default();
        let id = catalog::of(r.kind).import_id(&aws, r).await?;
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

/// Why the resources in the way stop the run, grouped by what is known of their owner: a
/// deployment whose state records them, or what their tags show.
async fn refusal(
    ctx: &StepContext<'_>,
    foreign: &[(Resource, Option<Tags>)],
    ours: &Tags,
) -> StepError {
    let ledgers = ownership::other_ledgers(ctx.ledger.backend().as_ref()).await;
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (r, tags) in foreign {
        let why = match ownership::recorded_owner(&ledgers, r) {
            Some(owner) => format!("recorded by {owner}"),
            None => what_tags_show(tags.as_ref(), ours),
        };
        groups.entry(why).or_default().push(r.label());
    }
    let mut text = format!(
        "stopped before any change: {} this deployment would create already exist{}, without \
         its tags, and creating them would take them over:",
        if foreign.len() == 1 {
            "a resource"
        } else {
            "resources"
        },
        if foreign.len() == 1 { "s" } else { "" },
    );
    for (why, resources) in groups {
        text.push_str(&format!("\n  {why}:"));
        for r in resources {
            text.push_str(&format!("\n    {r}"));
        }
    }
    StepError::permanent(text).with_hint(
        "give this deployment other names (project.environment, or the names in deploy.toml), \
         or remove what is in the way if it is nobody's; if it is this deployment's own from a \
         lost state, point deploy at that state ([state] backend/bucket, --state-dir)",
    )
}

/// What a resource's tags say of its owner, against this deployment's ownership tags.
fn what_tags_show(tags: Option<&Tags>, ours: &Tags) -> String {
    let Some(tags) = tags else {
        return "owner unknown (its tags could not be read), and no state this tool can see \
                records it"
            .into();
    };
    let other: Vec<String> = ours
        .keys()
        .filter_map(|k| {
            let v = tags.get(k)?;
            (Some(v) != ours.get(k)).then(|| format!("{k}={v}"))
        })
        .collect();
    if !other.is_empty() {
        format!("tagged {} (another deployment's)", other.join(", "))
    } else if tags.is_empty() {
        "no tags, and no state this tool can see records it (made by hand, or by another \
         tool)"
            .into()
    } else {
        "tagged without this deployment's ownership tags, and no state this tool can see \
         records it"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_the_other_owner_or_say_there_are_none() {
        let ours = Tags::from([
            ("Project".to_string(), "hub".to_string()),
            ("Environment".to_string(), "dev".to_string()),
        ]);
        let billing = Tags::from([
            ("Project".to_string(), "billing".to_string()),
            ("Environment".to_string(), "dev".to_string()),
        ]);
        assert_eq!(
            what_tags_show(Some(&billing), &ours),
            "tagged Project=billing (another deployment's)"
        );
        assert!(what_tags_show(Some(&Tags::new()), &ours).starts_with("no tags"));
        let team = Tags::from([("team".to_string(), "x".to_string())]);
        assert!(what_tags_show(Some(&team), &ours).starts_with("tagged without"));
        assert!(what_tags_show(None, &ours).starts_with("owner unknown"));
    }
}

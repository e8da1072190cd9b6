//! A change of configuration expanded by one terraform process: `terraform apply` with every
//! resource of the stack under `lifecycle { prevent_destroy = true }` (an override file that
//! exists for that apply only). An expansion deletes nothing, so Terraform applies it as it
//! plans it; a plan that would delete or replace anything (a bus renamed, drift to repair) is
//! refused by Terraform itself, at plan time, before any change. The step then plans it for
//! review instead, with its refusals and its queue guard ([`super::plan_and_apply`]).
//!
//! The creates that could take over an existing resource silently (a rule: `PutRule` updates
//! one; a queue: `CreateQueue` returns one) are looked up first by the names the stack gives
//! them; one that exists also sends the run to the reviewed path, which adopts it or refuses.
//! The others fail loudly when their name is taken (`CreateRole`, `CreateEventBus`, ...).

use std::path::Path;

use deploy_state::{Resource, ResourceKind};

use crate::change::Change;
use crate::discover;
use crate::engine::{StepContext, StepError};
use crate::terraform::classify::{Failure, classify};
use crate::terraform::json_stream;
use crate::terraform::names::StackNames;
use crate::terraform::prepared::Prepared;
use crate::terraform::workdir;

/// The override file, in the working directory while the apply runs (and removed by the next
/// run's copy of the stack if a run is killed meanwhile).
pub const OVERRIDE_FILE: &str = "deploy_expand_override.tf.json";

/// Applies the expansion in one process when it is a change of configuration whose creates are
/// all free. `Ok(true)`: applied; `Ok(false)`: the caller plans it for review (Terraform refused
/// to delete, or a create met an existing resource, or this path was not taken); an apply that
/// failed otherwise is the step's error, judged as the reviewed path judges one.
pub async fn apply(
    ctx: &mut StepContext<'_>,
    run: &Prepared,
    change: &Change,
) -> Result<bool, StepError> {
    let stack = &ctx.config().terraform.dir;
    if change
        .applied
        .as_ref()
        .is_some_and(|a| a.is_applied(stack, &change.expanded))
    {
        // Nothing changed since the last apply: a forced run, or drift to repair.
        return Ok(false);
    }
    let names = StackNames::of(&change.expanded, ctx.config());
    let candidates = takeover_candidates(&names, change);
    let aws = ctx.env.aws().await?.clone();
    let taken = discover::existing(&aws, &candidates).await;
    ctx.detail(&format!(
        "checked {} names this change may create through the API: {} already exist",
        candidates.len(),
        taken.len()
    ));
    if !taken.is_empty() {
        return Ok(false);
    }
    let Some(keep) = prevent_destroy(&run.dir)? else {
        // Resources this override cannot reach (in modules, or in JSON files).
        return Ok(false);
    };
    workdir::write(&run.dir, OVERRIDE_FILE, &keep)?;
    let queues = change.expanded.consumer_queues.len() + 1;
    let apply = run.apply_unsaved(ctx, queues).await;
    let _ = std::fs::remove_file(run.dir.join(OVERRIDE_FILE));
    let apply = apply?;
    if apply.success() {
        ctx.info(&format!(
            "applied in {:.1}s (planned and applied by one terraform process: the change deletes \
             nothing)",
            apply.elapsed.as_secs_f64()
        ));
        return Ok(true);
    }
    let output = apply.combined();
    if json_stream::error_blocks(&output)
        .iter()
        .any(|b| b.summary == REFUSED)
    {
        ctx.info("the change would delete or replace something: planning it for review");
        return Ok(false);
    }
    if let Failure::AlreadyExists(_) = classify(&output) {
        // A create whose answer was lost: the plan finds what it made, and adopts it.
        ctx.info("a create met an existing resource: planning the change again");
        return Ok(false);
    }
    // Anything else is judged as any apply is (a timeout is worth another attempt).
    run.judge_failure(ctx, "apply", &apply).await?;
    Ok(true)
}

/// The summary of the error Terraform stops a plan with when it would destroy a resource under
/// `prevent_destroy`.
const REFUSED: &str = "Instance cannot be destroyed";

/// The creates that would take an existing resource over: rules and queues whose names are not
/// among what was applied last (every named resource when that is not known).
fn takeover_candidates(names: &StackNames, change: &Change) -> Vec<Resource> {
    let all = names.resources();
    let Some(applied) = &change.applied else {
        return all;
    };
    all.into_iter()
        .filter(|r| match r.kind {
            ResourceKind::Rule => !applied.routes.values().any(|x| x.rule_name == r.name),
            ResourceKind::Queue | ResourceKind::ConsumerQueue => {
                r.name != change.expanded.dlq_name
                    && !applied.consumer_queues.values().any(|q| *q == r.name)
            }
            _ => false,
        })
        .collect()
}

/// `prevent_destroy` on every resource block of the stack in `dir` (an override file: merged
/// into each block, whatever else its `lifecycle` says). `None` when the stack has resources it
/// cannot reach: a `module` block, or a `.tf.json` file of the stack's own.
fn prevent_destroy(dir: &Path) -> Result<Option<Vec<u8>>, StepError> {
    let read = |p: &Path, e: std::io::Error| {
        StepError::permanent(format!("cannot read {}: {e}", p.display()))
    };
    let mut resources = serde_json::Map::new();
    for entry in std::fs::read_dir(dir).map_err(|e| read(dir, e))? {
        let path = entry.map_err(|e| read(dir, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".tf.json") && !name.ends_with("_override.tf.json") {
            return Ok(None);
        }
        if path.extension().is_none_or(|x| x != "tf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| read(&path, e))?;
        if text.lines().any(|l| l.starts_with("module ")) {
            return Ok(None);
        }
        for (ty, name) in resource_blocks(&text) {
            let lifecycle = serde_json::json!({"lifecycle": [{"prevent_destroy": true}]});
            resources
                .entry(ty)
                .or_insert_with(|| serde_json::json!({}))
                .as_object_mut()
                .expect("an object")
                .insert(name, lifecycle);
        }
    }
    let doc = serde_json::json!({ "resource": resources });
    Ok(Some(serde_json::to_vec_pretty(&doc).expect("json")))
}

/// The `resource "TYPE" "NAME"` blocks of an HCL file (each opens a line).
fn resource_blocks(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("resource")?;
            let mut quoted = rest.split('"').skip(1).step_by(2);
            let ty = quoted.next()?;
            let name = quoted.next()?;
            Some((ty.to_string(), name.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_blocks_are_read_from_the_lines_that_open_them() {
        let hcl = "resource \"aws_sqs_queue\" \"dlq\" {\n  name = \"x\"\n}\n\
                   data \"aws_partition\" \"current\" {}\n\
                   # resource \"aws_iam_role\" \"commented\" {\n\
                   resource \"aws_iam_role\" \"targets\" {\n  count = 1\n}\n";
        assert_eq!(
            resource_blocks(hcl),
            [
                ("aws_sqs_queue".to_string(), "dlq".to_string()),
                ("aws_iam_role".to_string(), "targets".to_string())
            ]
        );
    }

    #[test]
    fn every_block_of_the_stack_is_kept_from_being_destroyed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.tf"),
            "resource \"aws_sqs_queue\" \"dlq\" {}\nresource \"aws_sqs_queue\" \"consumer\" {}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.md"), "resource \"x\" \"y\"").unwrap();
        let doc: serde_json::Value =
            serde_json::from_slice(&prevent_destroy(dir.path()).unwrap().unwrap()).unwrap();
        let keep = serde_json::json!({"lifecycle": [{"prevent_destroy": true}]});
        assert_eq!(
            doc,
            serde_json::json!({"resource": {"aws_sqs_queue": {"dlq": keep, "consumer": keep}}})
        );
        // What an override cannot reach sends the change to the reviewed plan.
        std::fs::write(
            dir.path().join("m.tf"),
            "module \"x\" {\n  source = \"./x\"\n}\n",
        )
        .unwrap();
        assert!(prevent_destroy(dir.path()).unwrap().is_none());
    }
}

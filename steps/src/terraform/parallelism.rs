//! How many operations terraform runs at once (`-parallelism`) in `apply` and `destroy`, chosen
//! for each run from what it changes.
//!
//! Terraform's default is 10. Most operations of the stack take well under a second, but the
//! AWS provider waits after each SQS queue it creates or updates (about 25 s: it reads the
//! queue's attributes until six reads 5 s apart agree) and polls after each it deletes (a few
//! seconds), holding one of terraform's slots all the while: at 10, a hundred new queues make
//! ten rounds of that wait. So each change to such a resource gets a slot of its own, on top of
//! terraform's 10 for everything else, up to `[terraform] parallelism` (the bound keeps a large
//! plan from putting hundreds of requests in flight at once). A run that changes no queue runs
//! as terraform always did.

use serde_json::Value;

use crate::engine::StepContext;

/// Terraform's own default `-parallelism`.
pub const TERRAFORM_DEFAULT: u32 = 10;

/// Resource types whose operations mostly wait rather than call the API.
const WAITING_TYPES: &[&str] = &["aws_sqs_queue", "aws_sqs_queue_policy"];

/// The `-parallelism` of a run that changes `waiting` resources of the waiting types, at most
/// `bound`.
pub fn choose(waiting: usize, bound: u32) -> u32 {
    let wanted = u32::try_from(waiting)
        .unwrap_or(u32::MAX)
        .saturating_add(TERRAFORM_DEFAULT);
    wanted.min(bound).max(1)
}

/// How many resources of the waiting types a plan's `-json` stream changes (created, updated,
/// deleted or replaced; drift and reads are not changes).
pub fn waiting_in_plan(stream: &str) -> usize {
    planned_waiting(stream, &["create", "update", "delete", "replace"])
}

/// How many of a plan stream's changes with one of `actions` are of the waiting types.
fn planned_waiting(stream: &str, actions: &[&str]) -> usize {
    stream
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(|v| v["type"] == "planned_change")
        .filter(|v| actions.contains(&v["change"]["action"].as_str().unwrap_or_default()))
        .filter(|v| is_waiting(&v["change"]["resource"]["resource_type"]))
        .count()
}

/// How many resource instances of the waiting types a Terraform state holds (what a `destroy`
/// deletes).
pub fn waiting_in_state(state: &[u8]) -> usize {
    let Ok(state) = serde_json::from_slice::<Value>(state) else {
        return 0;
    };
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["mode"] == "managed" && is_waiting(&r["type"]))
        .map(|r| r["instances"].as_array().map_or(0, Vec::len))
        .sum()
}

fn is_waiting(resource_type: &Value) -> bool {
    resource_type
        .as_str()
        .is_some_and(|t| WAITING_TYPES.contains(&t))
}

/// The `-parallelism=N` argument and the line that says why N.
pub fn argument(waiting: usize, bound: u32) -> (String, String) {
    let n = choose(waiting, bound);
    let why = format!(
        "terraform parallelism {n}: {TERRAFORM_DEFAULT} + {waiting} queue change(s) whose \
         operations wait, at most [terraform] parallelism = {bound}"
    );
    (format!("-parallelism={n}"), why)
}

/// The `-parallelism=N` argument of a run that changes `waiting` resources of the waiting types,
/// bounded by `[terraform] parallelism`; why N is said in the step log.
pub fn for_run(ctx: &mut StepContext<'_>, waiting: usize) -> String {
    let (arg, why) = argument(waiting, ctx.config().terraform.parallelism);
    ctx.detail(&why);
    arg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_waiting_change_gets_a_slot_above_the_default_up_to_the_bound() {
        assert_eq!(choose(0, 100), 10, "no queue: terraform's default");
        assert_eq!(choose(1, 100), 11, "the dead-letter queue of a fresh stack");
        assert_eq!(choose(101, 100), 100, "bounded");
        assert_eq!(choose(101, 500), 111);
        assert_eq!(choose(0, 4), 4, "a bound under the default is obeyed");
        assert_eq!(choose(50, 1), 1);
        assert_eq!(choose(usize::MAX, 100), 100);
        assert_eq!(choose(0, 0), 1, "never 0, which terraform refuses");
    }

    fn planned(resource_type: &str, action: &str) -> String {
        format!(
            r#"{{"type":"planned_change","change":{{"resource":{{"addr":"x.y","resource_type":"{resource_type}"}},"action":"{action}"}}}}"#
        )
    }

    #[test]
    fn a_plan_counts_the_queues_it_changes() {
        let stream = [
            planned("aws_sqs_queue", "create"),
            planned("aws_sqs_queue", "update"),
            planned("aws_sqs_queue", "delete"),
            planned("aws_sqs_queue", "replace"),
            planned("aws_sqs_queue_policy", "create"),
            planned("aws_sqs_queue", "read"),
            planned("aws_cloudwatch_event_rule", "create"),
            r#"{"type":"resource_drift","change":{"resource":{"resource_type":"aws_sqs_queue"},"action":"update"}}"#.into(),
            r#"{"type":"change_summary","changes":{"add":5}}"#.into(),
            "not json".into(),
        ]
        .join("\n");
        assert_eq!(waiting_in_plan(&stream), 5);
        assert_eq!(waiting_in_plan(""), 0);
    }

    #[test]
    fn a_state_counts_its_queue_instances() {
        let state = r#"{"resources":[
          {"mode":"managed","type":"aws_sqs_queue","name":"dlq","instances":[{}]},
          {"mode":"managed","type":"aws_sqs_queue","name":"consumer","instances":[{},{},{}]},
          {"mode":"managed","type":"aws_cloudwatch_event_rule","name":"this","instances":[{},{}]},
          {"mode":"data","type":"aws_sqs_queue","name":"other","instances":[{}]}
        ]}"#;
        assert_eq!(waiting_in_state(state.as_bytes()), 4);
        assert_eq!(waiting_in_state(b"{}"), 0);
        assert_eq!(waiting_in_state(b"not json"), 0);
    }

    #[test]
    fn the_argument_says_why() {
        let (arg, why) = argument(101, 100);
        assert_eq!(arg, "-parallelism=100");
        assert!(why.contains("10 + 101 queue change(s)"), "{why}");
        assert!(why.contains("parallelism = 100"), "{why}");
        assert_eq!(argument(0, 100).0, "-parallelism=10");
    }
}

use deploy_config::Config;

use super::*;

fn config(hub: &str) -> Config {
    let text = format!(
        "[project]\nname = \"hub\"\nenvironment = \"dev\"\n\
         [events.a]\nsource = \"s\"\ndetail_type = \"A\"\n{hub}"
    );
    let overrides = deploy_config::Overrides::default();
    deploy_config::parse(std::path::Path::new("/p/deploy.toml"), &text, &overrides).unwrap()
}

fn vars(hub: &str) -> TfVars {
    TfVars::from_config(&config(hub))
}

const QUEUE_ROUTE: &str = "[routes.a]\nevents = [\"a\"]\ntargets = [{ sqs = \"inbox\" }]\n";

#[test]
fn nothing_applied_yet_retires_nothing() {
    let now = vars(QUEUE_ROUTE);
    let c = plan(None, &now);
    assert_eq!(c.expanded, now);
    assert!(c.retiring.is_empty());
    assert_eq!(c.expanding.routes, ["a"]);
    assert_eq!(c.expanding.queues, ["dev-inbox"]);
}

#[test]
fn a_renamed_route_keeps_the_old_rule_until_the_contraction() {
    let before = AppliedHub::of(&vars(QUEUE_ROUTE));
    let now = vars("[routes.b]\nevents = [\"a\"]\ntargets = [{ sqs = \"inbox\" }]\n");
    let c = plan(Some(&before), &now);
    let keys: Vec<&str> = c.expanded.routes.keys().map(String::as_str).collect();
    assert_eq!(keys, ["a", "b"], "both rules deliver during the change");
    assert_eq!(c.retiring.routes["a"], "dev-a");
    assert!(c.retiring.queues.is_empty(), "the queue is still used");
    assert_eq!(c.expanding.routes, ["b"]);
    assert_eq!(c.retiring.lines(), ["route a (rule dev-a)"]);
}

#[test]
fn a_swapped_queue_stays_until_the_contraction_and_the_route_delivers_to_the_new_one() {
    let before = AppliedHub::of(&vars(QUEUE_ROUTE));
    let now = vars("[routes.a]\nevents = [\"a\"]\ntargets = [{ sqs = \"inbox-v2\" }]\n");
    let c = plan(Some(&before), &now);
    assert_eq!(c.retiring.queues["inbox"], "dev-inbox");
    assert_eq!(
        c.expanded.consumer_queues.values().collect::<Vec<_>>(),
        ["dev-inbox", "dev-inbox-v2"]
    );
    // The old target (another id) stays on the route beside the new one.
    let ids: Vec<&str> = c.expanded.routes["a"]
        .targets
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(c.retiring.targets.len(), 1);
    assert_eq!(c.expanding.queues, ["dev-inbox-v2"]);
}

#[test]
fn an_unchanged_hub_expands_to_itself() {
    let now = vars(QUEUE_ROUTE);
    let c = plan(Some(&AppliedHub::of(&now)), &now);
    assert_eq!(c.expanded, now);
    assert!(c.retiring.is_empty());
    assert!(c.expanding.routes.is_empty() && c.expanding.queues.is_empty());
}

//! The hub as data: event types, routes and targets.

use super::*;

const QA_PROJECT: &str = "[project]\nenvironment = \"qa\"\nregion = \"eu-west-1\"\n";

/// A project with the checked-in hub.
fn qa() -> String {
    with("")
}

/// The project, `extra`, then the checked-in hub (so line numbers of `extra` stay small).
fn with(extra: &str) -> String {
    format!("{QA_PROJECT}\n{extra}\n{}", crate::starter_hub())
}

fn route<'a>(c: &'a Config, key: &str) -> &'a Route {
    c.routes.iter().find(|r| r.key == key).unwrap()
}

#[test]
fn the_checked_in_hub_is_the_seven_routes_with_their_exact_patterns() {
    let c = parse_str(&qa()).unwrap();
    assert_eq!(c.events.len(), 5);
    assert_eq!(c.routes.len(), 7);
    assert!(c.rule_names().iter().all(|n| n.starts_with("qa-")));
    // The patterns are what the HCL's jsonencode made, so an existing stack sees no change.
    assert_eq!(
        route(&c, "audio-uploaded-to-transcription").pattern,
        r#"{"detail-type":["Audio Uploaded"],"source":["custom.upload-service"]}"#
    );
    assert_eq!(
        route(&c, "transcription-completed-to-search").pattern,
        r#"{"detail":{"status":["completed"]},"detail-type":["Transcription Completed"],"source":["custom.transcription-service"]}"#
    );
    assert_eq!(
        route(&c, "document-uploaded-to-ocr").pattern,
        r#"{"detail":{"metadata":{"format":["pdf"]}},"detail-type":["Document Uploaded"],"source":["custom.upload-service"]}"#
    );
    assert_eq!(
        route(&c, "all-events-to-logger").pattern,
        r#"{"source":[{"prefix":"custom."}]}"#
    );
    assert_eq!(
        route(&c, "all-events-to-logger").targets[0].kind,
        TargetKind::Lambda {
            key: "event-logger".into()
        }
    );
    assert!(
        c.events
            .iter()
            .all(|e| e.compatibility == deploy_contracts::Mode::Backward)
    );
}

#[test]
fn a_new_event_type_and_route_to_a_new_queue_are_added() {
    let c = parse_str(&with(
        "[events.invoice-paid]\nsource = \"custom.billing\"\ndetail_type = \"Invoice Paid\"\n\
         compatibility = \"full\"\n\n[routes.invoice-paid-to-ledger]\nevents = [\"invoice-paid\"]\n\
         targets = [{ sqs = \"ledger-inbox\", retry_attempts = 3, max_event_age_seconds = 600 }]\n",
    ))
    .unwrap();
    assert_eq!(c.events.len(), 6);
    assert_eq!(c.routes.len(), 8);
    let r = route(&c, "invoice-paid-to-ledger");
    assert_eq!(r.rule_name, "qa-invoice-paid-to-ledger");
    assert_eq!(r.targets[0].id, "ledger-inbox");
    assert_eq!(r.targets[0].retry_attempts, Some(3));
    assert!(r.targets[0].dead_letter);
    assert_eq!(c.consumer_queues(), ["qa-ledger-inbox"]);
}

#[test]
fn a_route_can_be_switched_off_and_a_hub_can_be_empty() {
    let hub = qa().replace(
        "[routes.video-uploaded-to-thumbnail]\n",
        "[routes.video-uploaded-to-thumbnail]\nenabled = false\n",
    );
    assert_eq!(parse_str(&hub).unwrap().routes.len(), 6);
    let c = parse_str(QA_PROJECT).unwrap();
    assert!(c.routes.is_empty() && c.events.is_empty());
}

fn error(extra: &str) -> String {
    parse_str(&with(extra)).unwrap_err().to_string()
}

#[test]
fn a_route_to_an_unknown_event_type_names_the_line_and_the_known_ones() {
    let e = error("[routes.x]\nevents = [\"nope\"]\n");
    assert!(e.starts_with("/p/deploy.toml:6:"), "{e}");
    assert!(e.contains("routes.x.events"), "{e}");
    assert!(e.contains("`nope` is not an event type"), "{e}");
    assert!(e.contains("audio-uploaded"), "lists the known ones: {e}");
}

#[test]
fn a_pattern_that_is_not_json_is_refused() {
    let e = error("[routes.x]\npattern = '{\"source\": [}'\n");
    assert!(e.contains("routes.x.pattern"), "{e}");
    assert!(e.contains("not valid JSON"), "{e}");
    let e = error("[routes.x]\nevents = [\"audio-uploaded\"]\npattern = '{}'\n");
    assert!(e.contains("exactly one of `events` and `pattern`"), "{e}");
}

#[test]
fn a_target_arn_of_the_wrong_service_or_region_is_refused() {
    let wrong_service = error(
        "[routes.x]\nevents = [\"audio-uploaded\"]\n\
         targets = [{ state_machine_arn = \"arn:aws:sqs:eu-west-1:123456789012:q\" }]\n",
    );
    assert!(
        wrong_service.contains("an ARN of sqs, not of states"),
        "{wrong_service}"
    );
    assert!(
        wrong_service.contains("routes.x.targets"),
        "{wrong_service}"
    );
    let wrong_region = error(
        "[routes.x]\nevents = [\"audio-uploaded\"]\n\
         targets = [{ bus_arn = \"arn:aws:events:us-east-1:123456789012:event-bus/other\" }]\n",
    );
    assert!(
        wrong_region.contains("not in the deployment's region eu-west-1"),
        "{wrong_region}"
    );
}

#[test]
fn unknown_functions_and_duplicate_target_ids_are_refused() {
    let e = error("[routes.x]\nevents = [\"audio-uploaded\"]\ntargets = [{ lambda = \"nope\" }]\n");
    assert!(e.contains("`nope` is not a function of [lambdas]"), "{e}");
    let e = error(
        "[routes.x]\nevents = [\"audio-uploaded\"]\n\
         targets = [{ sqs = \"a\", id = \"t\" }, { sqs = \"b\", id = \"t\" }]\n",
    );
    assert!(e.contains("two targets have the id `t`"), "{e}");
    let e =
        error("[events.x]\nsource = \"s\"\ndetail_type = \"d\"\ncompatibility = \"sideways\"\n");
    assert!(e.contains("events.x.compatibility"), "{e}");
    assert!(e.contains("backward-transitive"), "{e}");
}

#[test]
fn a_functions_rule_of_the_earlier_form_names_a_route() {
    let c = parse_str(&with(
        "[lambdas.audit]\nsource = \"lambdas/audit\"\nrule = \"qa-user-registered-to-welcome\"\n",
    ))
    .unwrap();
    let r = route(&c, "user-registered-to-welcome");
    assert_eq!(r.targets[0].id, "audit");
    assert_eq!(c.lambda_routes("audit").len(), 1);
}

#[test]
fn route_keys_of_deploys_own_probes_are_refused() {
    let e = error("[routes.deploy-probe-x]\nevents = [\"audio-uploaded\"]\n");
    assert!(e.contains("routes.deploy-probe-x"), "{e}");
    assert!(e.contains("probe rules use"), "{e}");
}

//! The `lambdas` step against ministack with real terraform: both functions deployed and Active,
//! wired to the logger rule and the dead-letter queue, recorded in the inventory; a second run
//! updates nothing; editing one function's code updates exactly that function; a permission or
//! target changed behind the step's back is put right.
//!
//! One stack (`run infrastructure`, `run lambdas`) is deployed per test process and shared
//! ([`stack::STACK`]): the tests that only look read it side by side; those that run the step or
//! change something behind its back hold it alone and leave it as deployed.

#[path = "lambdas/stack.rs"]
mod stack;
mod support;

use aws_sdk_lambda::types::FunctionResponseType;
use predicates::prelude::*;
use stack::{STACK, function, permission_source};

#[tokio::test(flavor = "multi_thread")]
async fn both_functions_are_active_with_the_runtime_handler_and_environment_asked_for() {
    let s = STACK.read().await;
    let (lambda, _) = s.clients().await;
    assert_eq!(s.ctx.step_status("lambdas"), "completed");
    function(&lambda, &s.logger).await;
    function(&lambda, &s.processor).await;
    let conf = lambda
        .get_function_configuration()
        .function_name(&s.processor)
        .send()
        .await
        .unwrap();
    assert_eq!(conf.runtime().unwrap().as_str(), "nodejs20.x");
    assert_eq!(conf.handler(), Some("index.handler"));
    let vars = conf.environment().unwrap().variables().unwrap();
    assert_eq!(vars.get("EVENT_BUS_NAME"), Some(&s.bus));
    assert!(vars.get("DLQ_URL").unwrap().ends_with("-eventbridge-dlq"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_logger_is_its_rules_only_target_with_the_dead_letter_queue_as_its_dead_letter_config()
{
    let s = STACK.read().await;
    let (_, events) = s.clients().await;
    let targets = events
        .list_targets_by_rule()
        .rule(&s.logger_rule)
        .event_bus_name(&s.bus)
        .send()
        .await
        .unwrap();
    let target = targets
        .targets()
        .iter()
        .find(|t| t.id() == "event-logger")
        .expect("logger target");
    assert!(
        target
            .arn()
            .ends_with(&format!(":function:{}:live", s.logger)),
        "the rule invokes the logger's alias: {}",
        target.arn()
    );
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some(s.dlq_arn.as_str())
    );
    assert!(target.retry_policy().is_some());
    assert_eq!(
        targets.targets().len(),
        1,
        "the DLQ is never a plain target"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_loggers_invoke_permission_is_scoped_to_its_rule() {
    let s = STACK.read().await;
    let (lambda, _) = s.clients().await;
    assert_eq!(
        permission_source(&lambda, &s.logger, &s.sid).await,
        s.logger_rule_arn
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dead_letter_queue_feeds_the_processor_reporting_batch_item_failures() {
    let s = STACK.read().await;
    let (lambda, _) = s.clients().await;
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(&s.processor)
        .send()
        .await
        .unwrap();
    let m = mappings.event_source_mappings();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].event_source_arn(), Some(s.dlq_arn.as_str()));
    assert!(
        m[0].function_arn().unwrap().ends_with(":live"),
        "the queue feeds the processor's alias: {:?}",
        m[0].function_arn()
    );
    assert!(
        m[0].function_response_types()
            .contains(&FunctionResponseType::ReportBatchItemFailures)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn functions_permission_target_and_mapping_are_in_the_owned_resource_inventory() {
    let s = STACK.read().await;
    let (lambda, _) = s.clients().await;
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(&s.processor)
        .send()
        .await
        .unwrap();
    let uuid = mappings.event_source_mappings()[0].uuid().unwrap();
    let state = s.ctx.state_json();
    let owned: Vec<(String, String)> = state["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["created_by"] == "lambdas")
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("function", s.logger.as_str()),
        ("function", s.processor.as_str()),
        ("permission", s.sid.as_str()),
        ("target", "event-logger"),
        ("event-source-mapping", uuid),
    ] {
        assert!(
            owned.iter().any(|(k, n)| k == want.0 && n == want.1),
            "{want:?} not in {owned:?}"
        );
    }
}

/// Each function is invoked through its alias `live`, at the version the inventory records,
/// and its asynchronous invocations (alias and `$LATEST`) fail over to the dead-letter queue.
#[tokio::test(flavor = "multi_thread")]
async fn each_function_has_an_alias_at_its_recorded_version_with_the_dlq_on_failure() {
    let s = STACK.read().await;
    let (lambda, _) = s.clients().await;
    let state = s.ctx.state_json();
    for name in [&s.logger, &s.processor] {
        let alias = lambda
            .get_alias()
            .function_name(name)
            .name("live")
            .send()
            .await
            .unwrap();
        let version = alias.function_version().unwrap();
        assert_ne!(
            version, "$LATEST",
            "{name}: the alias names a published version"
        );
        let recorded = state["inventory"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "alias" && r["attributes"]["function"] == name.as_str())
            .unwrap_or_else(|| panic!("no alias of {name} in the inventory"));
        assert_eq!(recorded["attributes"]["version"], version, "{name}");
        assert_eq!(recorded["attributes"]["destination"], s.dlq_arn.as_str());
        for qualifier in [Some("live"), None] {
            let c = lambda
                .get_function_event_invoke_config()
                .function_name(name)
                .set_qualifier(qualifier.map(str::to_string))
                .send()
                .await
                .unwrap();
            assert_eq!(c.maximum_retry_attempts(), Some(2), "{name} {qualifier:?}");
            assert_eq!(c.maximum_event_age_in_seconds(), Some(21_600));
            let on_failure = c.destination_config().unwrap().on_failure().unwrap();
            assert_eq!(on_failure.destination(), Some(s.dlq_arn.as_str()));
        }
    }
    let versions = s.ctx.state_json()["steps"]["lambdas"]["outputs"]["versions"].clone();
    assert!(versions.as_str().unwrap().contains(&s.logger), "{versions}");
}

/// Nothing changed since the last run, so nothing runs.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_with_nothing_changed_is_up_to_date() {
    let s = STACK.write().await;
    s.ctx
        .deploy()
        .args(["run", "lambdas"])
        .assert()
        .success()
        .stderr(predicate::str::contains("up to date"));
}

/// Forced, the step runs, but compares hashes and updates nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_forced_run_updates_no_function_whose_code_is_unchanged() {
    let s = STACK.write().await;
    let (lambda, _) = s.clients().await;
    let logger = function(&lambda, &s.logger).await;
    let processor = function(&lambda, &s.processor).await;
    s.ctx
        .deploy()
        .args(["run", "lambdas", "--force"])
        .assert()
        .success();
    let log = s.step_log();
    for name in [&s.logger, &s.processor] {
        assert!(
            log.contains(&format!("{name}: code unchanged (sha256 matches)")),
            "{log}"
        );
    }
    assert!(!log.contains("code updated"), "{log}");
    assert_eq!(function(&lambda, &s.logger).await.revision, logger.revision);
    assert_eq!(
        function(&lambda, &s.processor).await.revision,
        processor.revision
    );
    s.assert_one_mapping(&lambda).await;
}

/// Editing the logger's code updates exactly the logger (and putting the code back updates it
/// again).
#[tokio::test(flavor = "multi_thread")]
async fn editing_one_functions_code_updates_only_that_function() {
    let s = STACK.write().await;
    let (lambda, _) = s.clients().await;
    let logger = function(&lambda, &s.logger).await;
    let processor = function(&lambda, &s.processor).await;
    let live_before = stack::alias_version(&lambda, &s.logger).await;
    let index = s.lambdas.join("event-logger/index.mjs");
    {
        let _edit =
            support::shared::FileEdit::new(&index, |code| format!("{code}// edited by the test\n"));
        s.ctx.deploy().args(["run", "lambdas"]).assert().success();
        let log = s.step_log();
        assert!(
            log.contains(&format!("{}: code updated", s.logger)),
            "{log}"
        );
        assert!(
            log.contains(&format!("{}: code unchanged (sha256 matches)", s.processor)),
            "{log}"
        );
        assert_ne!(function(&lambda, &s.logger).await.sha, logger.sha);
        let now_processor = function(&lambda, &s.processor).await;
        assert_eq!(now_processor.sha, processor.sha);
        assert_eq!(now_processor.revision, processor.revision);
        // A new version, the alias on it, the one before it kept.
        let live = stack::alias_version(&lambda, &s.logger).await;
        assert_ne!(live, live_before);
        let versions = stack::versions(&lambda, &s.logger).await;
        assert!(versions.contains(&live_before), "{versions:?}");
        assert!(versions.contains(&live), "{versions:?}");
        assert!(
            log.contains(&format!(
                "alias live moved from version {live_before} to {live}"
            )),
            "{log}"
        );
    }
    // The code as it was: deployed again, as it was.
    s.ctx.deploy().args(["run", "lambdas"]).assert().success();
    let log = s.step_log();
    assert!(
        log.contains(&format!("{}: code updated", s.logger)),
        "{log}"
    );
    assert_eq!(function(&lambda, &s.logger).await.sha, logger.sha);
    s.assert_one_mapping(&lambda).await;
}

/// A permission for another source under the step's statement id is replaced by the right one.
#[tokio::test(flavor = "multi_thread")]
async fn a_permission_for_another_source_is_replaced_by_one_scoped_to_the_rule() {
    let s = STACK.write().await;
    let (lambda, _) = s.clients().await;
    lambda
        .remove_permission()
        .function_name(&s.logger)
        .qualifier("live")
        .statement_id(&s.sid)
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name(&s.logger)
        .qualifier("live")
        .statement_id(&s.sid)
        .action("lambda:InvokeFunction")
        .principal("events.amazonaws.com")
        .source_arn("arn:aws:events:us-east-1:000000000000:rule/elsewhere/other")
        .send()
        .await
        .unwrap();
    s.ctx
        .deploy()
        .args(["run", "lambdas", "--force"])
        .assert()
        .success();
    assert!(s.step_log().contains("invoke permission for"));
    assert_eq!(
        permission_source(&lambda, &s.logger, &s.sid).await,
        s.logger_rule_arn
    );
    s.assert_one_mapping(&lambda).await;
}

/// A target removed behind the step's back makes the step run again (unforced) and restores it.
#[tokio::test(flavor = "multi_thread")]
async fn a_target_removed_behind_its_back_makes_the_step_run_again_and_restore_it() {
    let s = STACK.write().await;
    let (lambda, events) = s.clients().await;
    events
        .remove_targets()
        .rule(&s.logger_rule)
        .event_bus_name(&s.bus)
        .ids("event-logger")
        .send()
        .await
        .unwrap();
    assert!(
        !s.logger_rule_targets(&events)
            .await
            .contains(&"event-logger".to_string())
    );
    s.ctx.deploy().args(["run", "lambdas"]).assert().success();
    let log = s.step_log();
    assert!(
        log.contains("resources missing: target event-logger"),
        "{log}"
    );
    assert!(
        s.logger_rule_targets(&events)
            .await
            .contains(&"event-logger".to_string())
    );
    s.assert_one_mapping(&lambda).await;
}

//! A plan refused as stale (exit 10), one test per cause, naming it and changing nothing: the
//! rule the plan changes is as it was in AWS, and the state's serial did not move.

use serde_json::json;

use crate::snapshot::{pattern, put_pattern, snapshot};
use crate::stack::{self, STACK, Stack, apply, assert_refused, plan, run, serial, text, widen};
use crate::{file, store, support};

/// Plans [`widen`] on runner A; then `between` happens; then runner B (its checkout made by
/// `checkout_b`) applies the plan: refused naming `cause`, and neither the rule the plan
/// changes nor the state's serial moved.
async fn refused_when(
    stack: &Stack,
    between: impl AsyncFnOnce(&Stack),
    checkout_b: impl FnOnce(&Stack) -> support::TestContext,
    cause: &str,
) {
    let artifacts = store();
    let file = plan(&stack.checkout(widen), artifacts.path(), "pr.plan");
    between(stack).await;
    let b = checkout_b(stack);
    let rule = pattern(&stack.template, &stack.rule()).await;
    let serial_before = serial(&stack.template).await;
    assert_refused(&apply(&b, &file), cause);
    assert_eq!(pattern(&stack.template, &stack.rule()).await, rule);
    assert_eq!(serial(&stack.template).await, serial_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_deploy_toml_was_edited_since() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let edited = |s: &Stack| {
        s.checkout(|dir| {
            widen(dir);
            stack::edit_file(&dir.join("deploy.toml"), |t| {
                t.replace("PDF document uploads to OCR", "Documents to OCR")
            });
        })
    };
    let cause = "the configuration (deploy.toml) changed since the plan";
    refused_when(&stack, async |_| {}, edited, cause).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_a_schema_version_was_added_since() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let added = |s: &Stack| {
        s.checkout(|dir| {
            widen(dir);
            let schemas = dir.join("schemas/document-uploaded");
            std::fs::copy(schemas.join("v1.json"), schemas.join("v2.json")).unwrap();
        })
    };
    let cause = "schemas/document-uploaded/v2.json added since the plan";
    refused_when(&stack, async |_| {}, added, cause).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_a_lambda_source_file_was_edited_since() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let edited = |s: &Stack| {
        s.checkout(|dir| {
            widen(dir);
            let source = dir.join("lambdas/event-logger/lib.mjs");
            stack::edit_file(&source, |t| format!("{t}\n// a later commit\n"));
        })
    };
    let cause = "the Lambda source of event-logger changed since the plan";
    refused_when(&stack, async |_| {}, edited, cause).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_another_deploy_ran_since_even_one_that_changed_nothing() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let other_run = async |s: &Stack| {
        let before = snapshot(&s.template).await;
        let out = run(&s.checkout(|_| {}), &["all", "--auto-approve"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("nothing to do"), "{}", text(&out));
        assert_eq!(snapshot(&s.template).await, before, "a no-op");
    };
    let cause = "the state changed since the plan";
    refused_when(&stack, other_run, |s| s.checkout(widen), cause).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_a_rule_the_plan_changes_was_edited_behind_its_back() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let original = pattern(&stack.template, &stack.rule()).await;
    let mut edited = original.clone();
    edited["detail"]["metadata"]["format"] = json!(["txt"]);
    let by_hand = async |s: &Stack| put_pattern(&s.template, &s.rule(), &edited).await;
    let cause = format!("rule {} changed in AWS since the plan", stack.rule());
    refused_when(&stack, by_hand, |s| s.checkout(widen), &cause).await;
    put_pattern(&stack.template, &stack.rule(), &original).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_used_for_another_environment() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let other = format!("{}o", stack.template.environment);
    let elsewhere = |s: &Stack| {
        let mut ctx = s.template.fresh_copy();
        ctx.environment = other.clone();
        ctx.write_config();
        stack::checkout(ctx, widen)
    };
    let cause = format!(
        "the plan is for deployment hub/{}",
        stack.template.environment
    );
    let b = elsewhere(&stack);
    refused_when(&stack, async |_| {}, elsewhere, &cause).await;
    assert_eq!(
        stack::ledger(&b).await,
        (None, false),
        "nothing written for {other}"
    );
    assert_eq!(support::aws::leftovers(&b).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_artifact_was_edited_by_hand() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let artifacts = store();
    let file = plan(&stack.checkout(widen), artifacts.path(), "pr.plan");
    // Someone makes an old plan look fresh, or a change look smaller.
    file::edit_manifest(&file, |m| m.replace("\"update\"", "\"delete\""));
    let rule = pattern(&stack.template, &stack.rule()).await;
    let serial_before = serial(&stack.template).await;
    let cause = "the artifact was changed after it was made";
    assert_refused(&apply(&stack.checkout(widen), &file), cause);
    let shown = run(
        &stack.checkout(widen),
        &["show-plan", file.to_str().unwrap()],
    );
    assert_eq!(shown.status.code(), Some(10), "{}", text(&shown));
    assert_eq!(pattern(&stack.template, &stack.rule()).await, rule);
    assert_eq!(serial(&stack.template).await, serial_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_made_before_the_first_deploy_and_applied_after_it() {
    // A deployment of its own: nothing is deployed when the plan is made.
    let _alone = stack::alone().await;
    let template = stack::template();
    let out = run(
        &stack::checkout(template.fresh_copy(), |_| {}),
        &["state", "bootstrap"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let artifacts = store();
    let a = stack::checkout(template.fresh_copy(), |_| {});
    let file = plan(&a, artifacts.path(), "first.plan");
    assert_eq!(file::manifest(&a, &file)["state"], json!(null));
    let first = run(
        &stack::checkout(template.fresh_copy(), |_| {}),
        &["all", "--auto-approve"],
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));

    let before = snapshot(&template).await;
    let serial_before = serial(&template).await;
    let out = apply(&stack::checkout(template.fresh_copy(), |_| {}), &file);
    assert_refused(&out, "the plan was made before anything was deployed");
    assert_eq!(snapshot(&template).await, before);
    assert_eq!(serial(&template).await, serial_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_a_resource_the_plan_creates_was_made_by_someone_else_since() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let artifacts = store();
    let file = plan(
        &stack.checkout(stack::add_route),
        artifacts.path(),
        "pr.plan",
    );
    // Someone makes the rule the plan creates (EventBridge's PutRule would answer Terraform's
    // create by updating it: the plan would take it over).
    let theirs = stack::added_rule(&stack.template);
    let pattern = json!({"source": ["someone.else"]});
    put_pattern(&stack.template, &theirs, &pattern).await;
    let serial_before = serial(&stack.template).await;
    let out = apply(&stack.checkout(stack::add_route), &file);
    assert_refused(
        &out,
        &format!("rule {theirs} changed in AWS since the plan"),
    );
    assert!(text(&out).contains("the plan creates it"), "{}", text(&out));
    assert_eq!(
        crate::snapshot::pattern(&stack.template, &theirs).await,
        pattern
    );
    assert_eq!(serial(&stack.template).await, serial_before);
    crate::snapshot::delete_rule(&stack.template, &theirs).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_a_resource_the_plan_does_not_change_drifted_since() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    // Another route's rule: applying the plan would not touch it, and the run would then trip
    // on it (or a plan made at apply time would repair it, unreviewed).
    let other = format!("{}-video-uploaded-to-thumbnail", stack.template.environment);
    let original = pattern(&stack.template, &other).await;
    let mut edited = original.clone();
    edited["source"] = json!(["custom.somewhere-else"]);
    let by_hand = async |s: &Stack| put_pattern(&s.template, &other, &edited).await;
    let cause = format!("the event pattern of rule {other} differs (found by infrastructure");
    refused_when(&stack, by_hand, |s| s.checkout(widen), &cause).await;
    assert_eq!(pattern(&stack.template, &other).await, edited);
    put_pattern(&stack.template, &other, &original).await;
}

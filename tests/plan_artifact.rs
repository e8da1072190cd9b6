//! What was reviewed is what gets applied: `deploy plan --out FILE` on one CI runner, `deploy
//! all --plan FILE` on another, each a fresh checkout, the state in S3 (ministack) and real
//! terraform. A plan that no longer holds is refused (exit 10) naming why, changing nothing.

#[path = "plan_artifact/file.rs"]
mod file;
#[path = "plan_artifact/snapshot.rs"]
mod snapshot;
#[path = "plan_artifact/stack.rs"]
mod stack;
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use snapshot::{changed, pattern, put_pattern, snapshot};
use stack::{STACK, Stack, apply, assert_refused, plan, run, serial, text, widen};
use support::gate::{At, Gate};

/// The artifact store: what a PR job uploads and the merge job downloads.
fn store() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

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
async fn a_plan_made_on_one_runner_is_applied_exactly_on_another() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let artifacts = store();
    let a = stack.checkout(widen);
    let file = plan(&a, artifacts.path(), "pr.plan");
    let m = file::manifest(&a, &file);
    let changes = m["changes"].as_array().unwrap();
    let route = format!("aws_cloudwatch_event_rule.this[\"{}\"]", stack::ROUTE);
    assert_eq!(
        changes,
        &[json!({"address": route, "action": "update"})],
        "{m:#}"
    );
    let touched = [format!("rule {}", stack.rule())];
    assert_eq!(
        m["live"].as_object().unwrap().keys().collect::<Vec<_>>(),
        touched.iter().collect::<Vec<_>>()
    );

    let before = snapshot(&stack.template).await;
    let b = stack.checkout(widen);
    let out = apply(&b, &file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after = snapshot(&stack.template).await;
    let diff = changed(&before, &after);
    for k in &diff {
        eprintln!(
            "{k}\n  before {:?}\n  after  {:?}",
            before.get(k),
            after.get(k)
        );
    }
    assert_eq!(diff, touched.into_iter().collect());
    let live = run(&b, &["status", "--live"]);
    assert_eq!(live.status.code(), Some(0), "{}", text(&live));

    let again = apply(&stack.checkout(widen), &file);
    assert_refused(&again, "already applied");
    assert_eq!(snapshot(&stack.template).await, after);

    // The next pull request takes the change back, the same way.
    let file = plan(&stack.checkout(|_| {}), artifacts.path(), "revert.plan");
    let out = apply(&stack.checkout(|_| {}), &file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(snapshot(&stack.template).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_when_deploy_toml_was_edited_since() {
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
async fn stale_when_a_schema_version_was_added_since() {
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
async fn stale_when_a_lambda_source_file_was_edited_since() {
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
async fn stale_when_another_deploy_ran_since_even_one_that_changed_nothing() {
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
async fn stale_when_a_rule_the_plan_changes_was_edited_behind_its_back() {
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
async fn stale_when_used_for_another_environment() {
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
async fn stale_when_the_artifact_was_edited_by_hand() {
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
async fn stale_when_made_before_the_first_deploy_and_applied_after_it() {
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
async fn twenty_plans_in_a_row_each_applied_on_another_runner_none_refused() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let artifacts = store();
    let start = Instant::now();
    let mut refused = Vec::new();
    for i in 0..20 {
        let file = plan(
            &stack.checkout(|_| {}),
            artifacts.path(),
            &format!("{i}.plan"),
        );
        let out = apply(&stack.checkout(|_| {}), &file);
        if out.status.code() != Some(0) {
            refused.push(format!("cycle {i}: {}", text(&out)));
        }
    }
    assert_eq!(refused, Vec::<String>::new());
    eprintln!("20 plan-then-apply cycles in {:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn planning_writes_nothing_and_keeps_no_lock_a_deploy_has_to_wait_for() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let artifacts = store();
    let (before, locked) = stack::ledger(&stack.template).await;
    assert!(!locked);
    let file = plan(&stack.checkout(widen), artifacts.path(), "pr.plan");
    assert_eq!(stack::ledger(&stack.template).await, (before, false));

    // A plan held inside Terraform's plan (it has read the state): a `deploy all` started
    // meanwhile, without --wait-lock, runs to its end while the plan is still held.
    let gate = Gate::new();
    let held = stack::checkout(
        gate.apply(stack.template.fresh_copy(), At::Subcommand("plan")),
        widen,
    );
    let held_file = artifacts.path().join("held.plan");
    let mut planning = support::gate::spawn(&held, &["plan", "--out", held_file.to_str().unwrap()]);
    gate.wait_closed(Duration::from_secs(120));
    let started = Instant::now();
    let out = run(&stack.checkout(|_| {}), &["all", "--auto-approve"]);
    let deploy_took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        planning.try_wait().unwrap().is_none(),
        "the plan is still held"
    );
    gate.open();
    let planned = planning.wait().unwrap();
    assert!(planned.success(), "the held plan finished");
    eprintln!(
        "deploy all took {deploy_took:?} while the plan was held for {:?}",
        started.elapsed()
    );
    // What it planned against is gone: both plans are stale now.
    for f in [&file, &held_file] {
        assert_refused(
            &apply(&stack.checkout(widen), f),
            "the state changed since the plan",
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_inputs_make_the_same_plan_and_no_secret_is_in_it() {
    let _alone = stack::alone().await;
    let stack = STACK.read().await;
    let artifacts = store();
    let a = stack.checkout(widen);
    let first = plan(&a, artifacts.path(), "1.plan");
    let second = plan(&stack.checkout(widen), artifacts.path(), "2.plan");
    assert_eq!(file::manifest(&a, &first), file::manifest(&a, &second));
    // With nothing to apply there is no saved Terraform plan: the files are the same bytes.
    let noop = [3, 4].map(|n| {
        plan(
            &stack.checkout(|_| {}),
            artifacts.path(),
            &format!("{n}.plan"),
        )
    });
    assert_eq!(
        std::fs::read(&noop[0]).unwrap(),
        std::fs::read(&noop[1]).unwrap()
    );

    let secrets =
        ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"].map(|k| stack.template.env_value(k));
    for f in [&first, &second, &noop[0]] {
        for s in &secrets {
            assert_eq!(
                file::occurrences(f, s),
                Vec::<String>::new(),
                "{s} in {}",
                f.display()
            );
        }
        assert!(
            !file::occurrences(f, &stack.template.environment).is_empty(),
            "searchable"
        );
    }

    // The review comment names every resource the plan changes.
    let out = run(&a, &["plan", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let markdown = String::from_utf8(out.stdout).unwrap();
    for c in file::manifest(&a, &first)["changes"].as_array().unwrap() {
        let address = c["address"].as_str().unwrap();
        assert!(markdown.contains(address), "{address} in\n{markdown}");
    }
}

//! What was reviewed is what gets applied: `deploy plan --out FILE` on one CI runner, `deploy
//! all --plan FILE` on another, each a fresh checkout, the state in S3 (ministack) and real
//! terraform. A plan that no longer holds is refused (exit 10) naming why, changing nothing.

#[path = "plan_artifact/file.rs"]
mod file;
#[path = "plan_artifact/snapshot.rs"]
mod snapshot;
#[path = "plan_artifact/stack.rs"]
mod stack;
#[path = "plan_artifact/stale.rs"]
mod stale;
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use snapshot::{changed, put_description, snapshot};
use stack::{STACK, apply, assert_refused, plan, run, text, widen};
use support::gate::{At, Gate};

/// The artifact store: what a PR job uploads and the merge job downloads.
fn store() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
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
        let noop = String::from_utf8_lossy(&out.stderr).contains("nothing to do");
        if out.status.code() != Some(0) || !noop {
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
    let stored = stack::objects(&stack.template).await;
    let file = plan(&stack.checkout(widen), artifacts.path(), "pr.plan");
    assert_eq!(stack::ledger(&stack.template).await, (before, false));
    assert_eq!(
        stack::objects(&stack.template).await,
        stored,
        "nothing written"
    );

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

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_in_which_terraform_changes_nothing_applies_nothing_not_even_what_drifted_since() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let artifacts = store();
    // A commit that touches the stack's files and nothing they make: the infrastructure step
    // runs, and Terraform plans no change.
    let commit = |dir: &std::path::Path| {
        let rules = dir.join("terraform/rules.tf");
        stack::edit_file(&rules, |t| format!("{t}\n# Reviewed in a pull request.\n"));
    };
    let a = stack.checkout(commit);
    let file = plan(&a, artifacts.path(), "pr.plan");
    let m = file::manifest(&a, &file);
    let infrastructure = json!({"step": "infrastructure", "run": true});
    let runs = m["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["step"] == infrastructure["step"] && s["run"] == infrastructure["run"]);
    assert!(runs && m["changes"] == json!([]), "{m:#}");
    // Then the description of a rule is edited by hand (no live check looks at it; Terraform
    // would put it back).
    let rule = stack.rule();
    let original = snapshot::description(&stack.template, &rule).await;
    put_description(&stack.template, &rule, "edited by hand").await;

    let out = apply(&stack.checkout(commit), &file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let now = snapshot::description(&stack.template, &rule).await;
    assert_eq!(
        now.as_deref(),
        Some("edited by hand"),
        "the reviewed plan changed nothing"
    );

    // The next plan shows it, and applying that repairs it.
    let file = plan(&stack.checkout(|_| {}), artifacts.path(), "next.plan");
    let route = format!("aws_cloudwatch_event_rule.this[\"{}\"]", stack::ROUTE);
    let update = json!([{"address": route, "action": "update"}]);
    assert_eq!(file::manifest(&a, &file)["changes"], update);
    let out = apply(&stack.checkout(|_| {}), &file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        snapshot::description(&stack.template, &rule).await,
        original
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_that_changes_a_queue_still_holds_once_messages_came_and_went() {
    let _alone = stack::alone().await;
    let stack = STACK.write().await;
    let artifacts = store();
    let shorter = |dir: &std::path::Path| {
        let config = dir.join("deploy.toml");
        stack::edit_file(&config, |t| format!("{t}\n[dlq]\nretention_days = 4\n"));
    };
    let before = snapshot::dlq_retention(&stack.template).await;
    // A dead letter waits in the queue while the plan is made (its processor paused)...
    snapshot::dlq_processor(&stack.template, false).await;
    let (sqs, dlq) = snapshot::dlq(&stack.template).await;
    sqs.send_message()
        .queue_url(&dlq)
        .message_body("{}")
        .send()
        .await
        .unwrap();
    let a = stack.checkout(shorter);
    let file = plan(&a, artifacts.path(), "pr.plan");
    let queue = format!("queue {}-eventbridge-dlq", stack.template.environment);
    assert!(file::manifest(&a, &file)["live"].get(&queue).is_some());
    // ... and is read before the plan is applied: the queue itself did not change.
    sqs.purge_queue().queue_url(&dlq).send().await.unwrap();
    snapshot::dlq_processor(&stack.template, true).await;

    let out = apply(&stack.checkout(shorter), &file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(snapshot::dlq_retention(&stack.template).await, "345600");
    let file = plan(&stack.checkout(|_| {}), artifacts.path(), "revert.plan");
    let out = apply(&stack.checkout(|_| {}), &file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(snapshot::dlq_retention(&stack.template).await, before);
}

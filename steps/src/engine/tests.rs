//! Engine behaviour with test-only steps: no AWS, no terraform.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deploy_config::{Overrides, parse};
use deploy_state::backend::local::LocalBackend;
use deploy_state::{
    DeploymentId, Fingerprint, Ledger, LedgerState, LockHolder, OnCorrupt, StepStatus,
    TerraformBackend,
};
use tokio::sync::Notify;

use super::*;
use crate::env::Env;

#[derive(Clone, Copy)]
enum Behaviour {
    Succeed,
    Transient,
    Permanent,
    /// Signal `started`, then wait forever (until the engine drops it).
    Hang,
}

struct TestStep {
    name: &'static str,
    critical: bool,
    input: Mutex<String>,
    script: Mutex<VecDeque<Behaviour>>,
    runs: AtomicU32,
    /// How many times its inputs were read (once per decision).
    fingerprints: AtomicU32,
    started: Arc<Notify>,
    cleaned_up: AtomicU32,
}

impl TestStep {
    fn new(name: &'static str, critical: bool) -> Arc<TestStep> {
        Arc::new(TestStep {
            name,
            critical,
            input: Mutex::new("v1".into()),
            script: Mutex::new(VecDeque::new()),
            runs: AtomicU32::new(0),
            fingerprints: AtomicU32::new(0),
            started: Arc::new(Notify::new()),
            cleaned_up: AtomicU32::new(0),
        })
    }

    fn then(self: &Arc<Self>, b: Behaviour) -> Arc<Self> {
        self.script.lock().unwrap().push_back(b);
        self.clone()
    }

    fn set_input(&self, v: &str) {
        *self.input.lock().unwrap() = v.into();
    }

    fn runs(&self) -> u32 {
        self.runs.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Step for TestStep {
    fn name(&self) -> &'static str {
        self.name
    }
    fn number(&self) -> &'static str {
        "0"
    }
    fn description(&self) -> &'static str {
        "a test-only step"
    }
    fn critical(&self) -> bool {
        self.critical
    }
    async fn fingerprint(
        &self,
        _env: &Env,
        _state: &LedgerState,
    ) -> Result<Fingerprint, StepError> {
        self.fingerprints.fetch_add(1, Ordering::SeqCst);
        Ok(Fingerprint::new().text("input", &self.input.lock().unwrap()))
    }
    async fn run(&self, ctx: &mut StepContext<'_>) -> Result<(), StepError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let b = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Behaviour::Succeed);
        match b {
            Behaviour::Succeed => {
                ctx.output("result", "ok");
                Ok(())
            }
            Behaviour::Transient => Err(StepError::transient("ThrottlingException: slow down")),
            Behaviour::Permanent => Err(StepError::permanent("AccessDenied: no")),
            Behaviour::Hang => {
                self.started.notify_one();
                std::future::pending().await
            }
        }
    }
    async fn cleanup_after_interrupt(&self, _ctx: &mut StepContext<'_>) {
        self.cleaned_up.fetch_add(1, Ordering::SeqCst);
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    env: Env,
    handle: CancelHandle,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = parse(
        Path::new("deploy.toml"),
        "[retry]\ninitial_delay_ms = 1\nmax_delay_seconds = 0.005\nmax_elapsed_seconds = 5\n",
        &Overrides::default(),
    )
    .unwrap();
    let (handle, cancel) = cancel_pair();
    let env = Env::new(
        config,
        dir.path().to_path_buf(),
        TerraformBackend::Local,
        "test".into(),
        cancel,
    );
    Fixture { dir, env, handle }
}

fn pipeline(steps: &[&Arc<TestStep>]) -> Vec<Arc<dyn Step>> {
    steps
        .iter()
        .map(|s| (*s).clone() as Arc<dyn Step>)
        .collect()
}

impl Fixture {
    async fn ledger(&self) -> Ledger {
        Ledger::open_locked(
            self.backend(),
            &LockHolder::current("deploy test"),
            None,
            &DeploymentId::new("hub", "dev", "us-east-1"),
            OnCorrupt::Refuse,
        )
        .await
        .unwrap()
        .0
    }

    fn backend(&self) -> Arc<dyn deploy_state::Full> {
        Arc::new(LocalBackend::new(self.dir.path()))
    }

    async fn run(&self, steps: &[Arc<dyn Step>], sel: Selection) -> Outcome {
        let mut ledger = self.ledger().await;
        Engine::new(&self.env, &mut ledger, &Silent, &AutoApprove)
            .run(steps, &sel)
            .await
    }

    /// A run whose decisions were all made before it started (as a `--json` run's are).
    async fn run_decided_ahead(&self, steps: &[Arc<dyn Step>]) -> Outcome {
        let mut ledger = self.ledger().await;
        let ahead = decide_all(steps, &self.env, ledger.state()).await;
        Engine::new(&self.env, &mut ledger, &Silent, &AutoApprove)
            .with_decisions(ahead)
            .run(steps, &Selection::default())
            .await
    }

    async fn status(&self, step: &str) -> StepStatus {
        Ledger::open_read(self.backend())
            .await
            .unwrap()
            .step(step)
            .status
    }

    async fn attempts(&self, step: &str) -> u32 {
        Ledger::open_read(self.backend())
            .await
            .unwrap()
            .step(step)
            .attempts
    }
}

#[tokio::test]
async fn unchanged_fingerprint_skips_the_step() {
    let f = fixture();
    let a = TestStep::new("a", true);
    let p = pipeline(&[&a]);
    assert!(f.run(&p, Selection::default()).await.success());
    let second = f.run(&p, Selection::default()).await;
    assert_eq!(a.runs(), 1);
    assert_eq!(second.results, [("a".to_string(), StepResult::UpToDate)]);
    assert_eq!(f.status("a").await, StepStatus::Completed);
    let rec = Ledger::open_read(f.backend()).await.unwrap().step("a");
    assert_eq!(rec.outputs["result"], "ok");
}

#[tokio::test]
async fn changed_fingerprint_reruns_and_marks_later_steps_stale() {
    let f = fixture();
    let (a, b, c) = (
        TestStep::new("a", true),
        TestStep::new("b", true),
        TestStep::new("c", false),
    );
    let p = pipeline(&[&a, &b, &c]);
    assert!(f.run(&p, Selection::default()).await.success());
    a.set_input("v2");
    let only_a = Selection {
        only: Some("a".into()),
        ..Selection::default()
    };
    let d = decide(a.as_ref(), &f.env, f.ledger().await.state(), false).await;
    assert!(d.run);
    assert_eq!(d.reason, "inputs changed in input");
    assert!(f.run(&p, only_a).await.success());
    assert_eq!(a.runs(), 2);
    assert_eq!(f.status("b").await, StepStatus::Stale);
    assert_eq!(f.status("c").await, StepStatus::Stale);
    // The next full run brings them up to date again.
    assert!(f.run(&p, Selection::default()).await.success());
    assert_eq!((a.runs(), b.runs(), c.runs()), (2, 2, 2));
    assert_eq!(f.status("c").await, StepStatus::Completed);
}

#[tokio::test]
async fn decisions_made_ahead_are_used_until_the_ledger_changes() {
    let f = fixture();
    let (a, b) = (TestStep::new("a", true), TestStep::new("b", true));
    let p = pipeline(&[&a, &b]);
    assert!(f.run(&p, Selection::default()).await.success());
    // Nothing changed: each step's inputs are read once (ahead), not again by the engine.
    let before = b.fingerprints.load(Ordering::SeqCst);
    let idle = f.run_decided_ahead(&p).await;
    assert_eq!(b.fingerprints.load(Ordering::SeqCst), before + 1);
    assert!(!idle.ran_anything());
    // `a` changed: it runs, and `b`'s decision made before that ("up to date") is not used:
    // `b` is stale once `a` re-ran, so it runs too.
    a.set_input("v2");
    let after_change = f.run_decided_ahead(&p).await;
    assert!(after_change.success());
    assert_eq!((a.runs(), b.runs()), (2, 2));
    assert_eq!(f.status("b").await, StepStatus::Completed);
}

#[tokio::test]
async fn transient_error_is_retried_and_attempts_recorded() {
    let f = fixture();
    let a = TestStep::new("a", true).then(Behaviour::Transient);
    let outcome = f.run(&pipeline(&[&a]), Selection::default()).await;
    assert!(outcome.success());
    assert_eq!(a.runs(), 2);
    assert_eq!(f.attempts("a").await, 2);
    assert_eq!(f.status("a").await, StepStatus::Completed);
}

#[tokio::test]
async fn transient_errors_give_up_at_the_deadline() {
    let mut f = fixture();
    f.env.config.retry.max_elapsed = std::time::Duration::from_millis(30);
    let a = TestStep::new("a", true);
    for _ in 0..10_000 {
        a.then(Behaviour::Transient);
    }
    let outcome = f.run(&pipeline(&[&a]), Selection::default()).await;
    assert!(!outcome.success());
    let rec = Ledger::open_read(f.backend()).await.unwrap().step("a");
    assert!(rec.last_error.unwrap().contains("gave up after"));
}

#[tokio::test]
async fn permanent_error_is_not_retried() {
    let f = fixture();
    let a = TestStep::new("a", true).then(Behaviour::Permanent);
    let outcome = f.run(&pipeline(&[&a]), Selection::default()).await;
    assert_eq!(outcome.failed, ["a"]);
    assert_eq!(a.runs(), 1);
    assert_eq!(f.attempts("a").await, 1);
    let rec = Ledger::open_read(f.backend()).await.unwrap().step("a");
    assert_eq!(rec.status, StepStatus::Failed);
    assert_eq!(rec.last_error.as_deref(), Some("AccessDenied: no"));
}

#[tokio::test]
async fn critical_failure_stops_the_run() {
    let f = fixture();
    let a = TestStep::new("a", true).then(Behaviour::Permanent);
    let b = TestStep::new("b", false);
    let outcome = f.run(&pipeline(&[&a, &b]), Selection::default()).await;
    assert!(outcome.aborted);
    assert_eq!(b.runs(), 0);
    assert_eq!(f.status("b").await, StepStatus::NotStarted);
}

#[tokio::test]
async fn non_critical_failure_continues_and_fails_the_run() {
    let f = fixture();
    let a = TestStep::new("a", false).then(Behaviour::Permanent);
    let b = TestStep::new("b", false);
    let outcome = f.run(&pipeline(&[&a, &b]), Selection::default()).await;
    assert!(!outcome.aborted);
    assert!(!outcome.success());
    assert_eq!(b.runs(), 1);
    assert_eq!(f.status("a").await, StepStatus::Failed);
    assert_eq!(f.status("b").await, StepStatus::Completed);
}

#[tokio::test]
async fn interruption_is_recorded_and_the_next_run_resumes() {
    let f = fixture();
    let a = TestStep::new("a", true);
    let b = TestStep::new("b", true).then(Behaviour::Hang);
    let c = TestStep::new("c", true);
    let p = pipeline(&[&a, &b, &c]);
    let started = b.started.clone();
    let (outcome, ()) = tokio::join!(f.run(&p, Selection::default()), async {
        started.notified().await;
        f.handle.cancel();
    });
    assert!(outcome.interrupted);
    assert_eq!(f.status("b").await, StepStatus::Interrupted);
    assert_eq!(b.cleaned_up.load(Ordering::SeqCst), 1);
    assert_eq!(c.runs(), 0);

    let g = Fixture {
        env: Env::new(
            f.env.config.clone(),
            f.dir.path().into(),
            TerraformBackend::Local,
            "test".into(),
            Cancel::new(),
        ),
        ..f
    };
    let outcome = g.run(&p, Selection::default()).await;
    assert!(outcome.success());
    assert_eq!((a.runs(), b.runs(), c.runs()), (1, 2, 1));
    assert_eq!(g.status("c").await, StepStatus::Completed);
}

#[tokio::test]
async fn from_and_skip_select_steps() {
    let f = fixture();
    let (a, b) = (TestStep::new("a", true), TestStep::new("b", true));
    let p = pipeline(&[&a, &b]);
    let sel = Selection {
        from: Some("b".into()),
        ..Selection::default()
    };
    f.run(&p, sel).await;
    assert_eq!((a.runs(), b.runs()), (0, 1));
    let sel = Selection {
        skip: vec!["a".into()],
        ..Selection::default()
    };
    f.run(&p, sel).await;
    assert_eq!(f.status("a").await, StepStatus::Skipped);
}

struct Answering(Answer);

impl Prompter for Answering {
    fn confirm(&self, _: &str, _: &str, _: &str, _: Option<&[String]>) -> Answer {
        self.0
    }
}

#[tokio::test]
async fn operator_answers_are_honoured() {
    let f = fixture();
    let a = TestStep::new("a", true);
    let p = pipeline(&[&a]);
    let mut ledger = f.ledger().await;
    let no = Engine::new(&f.env, &mut ledger, &Silent, &Answering(Answer::No))
        .run(&p, &Selection::default())
        .await;
    assert!(no.stopped);
    let skip = Engine::new(&f.env, &mut ledger, &Silent, &Answering(Answer::Skip))
        .run(&p, &Selection::default())
        .await;
    assert_eq!(skip.results, [("a".to_string(), StepResult::Skipped)]);
    assert_eq!(a.runs(), 0);
}

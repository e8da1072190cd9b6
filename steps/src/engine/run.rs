//! The engine: runs a pipeline of steps against the ledger, with skip, retry, stale marking,
//! prompts and interruption.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deploy_state::{Ledger, Level, StepLog, StepStatus};
use jiff::Timestamp;

use super::decide::{Decision, decide};
use super::events::{Answer, Event, Prompter, Reporter};
use super::retry::RetryPolicy;
use super::step::{Step, StepContext};
use crate::env::Env;

/// What to run of a pipeline.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Start at this step (earlier ones are left as they are).
    pub from: Option<String>,
    /// Run only this step.
    pub only: Option<String>,
    /// Run even when up to date.
    pub force: bool,
    /// Steps to mark `skipped` without running (`--skip-preflight`).
    pub skip: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepResult {
    Completed,
    UpToDate,
    Skipped,
    Failed,
    Interrupted,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub results: Vec<(String, StepResult)>,
    pub failed: Vec<String>,
    pub interrupted: bool,
    /// The operator answered "no": the run stopped there.
    pub stopped: bool,
    /// A critical step failed: the run stopped there.
    pub aborted: bool,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.failed.is_empty() && !self.interrupted
    }

    pub fn ran_anything(&self) -> bool {
        self.results
            .iter()
            .any(|(_, r)| matches!(r, StepResult::Completed | StepResult::Failed))
    }
}

pub struct Engine<'a> {
    pub env: &'a Env,
    pub ledger: &'a mut Ledger,
    pub reporter: &'a dyn Reporter,
    pub prompter: &'a dyn Prompter,
    /// Grace period for a step's cleanup after an interruption.
    pub cleanup_deadline: Duration,
    /// The SDK's retry count when the running step started.
    retries_before: u64,
    /// Decisions already made for the ledger as it is (the plan a `--json` run announces),
    /// used until the run changes the ledger instead of checking everything twice.
    decided: Vec<(&'static str, Decision)>,
}

impl<'a> Engine<'a> {
    pub fn new(
        env: &'a Env,
        ledger: &'a mut Ledger,
        reporter: &'a dyn Reporter,
        prompter: &'a dyn Prompter,
    ) -> Self {
        Engine {
            env,
            ledger,
            reporter,
            prompter,
            cleanup_deadline: Duration::from_secs(60),
            retries_before: 0,
            decided: Vec::new(),
        }
    }

    /// Decisions made by [`super::decide_all`] for the ledger as it is now: a step reached
    /// before the run changes the ledger uses its decision instead of deciding again.
    pub fn with_decisions(mut self, decided: Vec<(&'static str, Decision)>) -> Self {
        self.decided = decided;
        self
    }

    /// Runs the selected steps of `pipeline` in order.
    pub async fn run(&mut self, pipeline: &[Arc<dyn Step>], sel: &Selection) -> Outcome {
        let mut outcome = Outcome::default();
        let start = match &sel.from {
            Some(f) => pipeline.iter().position(|s| s.name() == f).unwrap_or(0),
            None => 0,
        };
        for (i, step) in pipeline.iter().enumerate().skip(start) {
            let name = step.name();
            if sel.only.as_deref().is_some_and(|o| o != name) {
                continue;
            }
            if self.env.cancel.is_cancelled() {
                outcome.interrupted = true;
                break;
            }
            if sel.skip.iter().any(|s| s == name) {
                self.mark(name, StepStatus::Skipped, "skipped on request")
                    .await;
                self.reporter.event(Event::Skipped {
                    step: name,
                    reason: "skipped on request",
                });
                outcome.results.push((name.into(), StepResult::Skipped));
                continue;
            }
            let made = self.decided.iter().position(|(n, _)| *n == name);
            let decision = match made.filter(|_| !sel.force) {
                Some(at) => self.decided.swap_remove(at).1,
                None => decide(step.as_ref(), self.env, self.ledger.state(), sel.force).await,
            };
            if !decision.run {
                self.reporter.event(Event::Skipped {
                    step: name,
                    reason: &decision.reason,
                });
                outcome.results.push((name.into(), StepResult::UpToDate));
                continue;
            }
            let preview = if self.prompter.wants_preview() {
                step.preview(self.env).await
            } else {
                None
            };
            match self.prompter.confirm(
                name,
                step.description(),
                &decision.reason,
                preview.as_deref(),
            ) {
                Answer::Yes => {}
                Answer::No => {
                    self.ledger
                        .log(Level::Info, Some(name), "stopped by the operator")
                        .await;
                    outcome.stopped = true;
                    break;
                }
                Answer::Interrupt => {
                    self.ledger
                        .log(Level::Info, Some(name), "interrupted at the prompt")
                        .await;
                    outcome.interrupted = true;
                    break;
                }
                Answer::Skip => {
                    self.mark(name, StepStatus::Skipped, "skipped by the operator")
                        .await;
                    self.reporter.event(Event::Skipped {
                        step: name,
                        reason: "skipped by the operator",
                    });
                    outcome.results.push((name.into(), StepResult::Skipped));
                    continue;
                }
            }
            // The ledger changes from here: what was decided before no longer holds.
            self.decided.clear();
            if decision.invalidates_later {
                self.mark_later_stale(&pipeline[i + 1..], name, &decision.reason)
                    .await;
            }
            let result = self.run_step(step.as_ref(), &decision).await;
            outcome.results.push((name.into(), result));
            match result {
                StepResult::Failed => {
                    outcome.failed.push(name.into());
                    if step.critical() {
                        outcome.aborted = true;
                        break;
                    }
                }
                StepResult::Interrupted => {
                    outcome.interrupted = true;
                    break;
                }
                _ => {}
            }
        }
        outcome
    }

    async fn mark(&mut self, step: &str, status: StepStatus, note: &str) {
        self.decided.clear();
        let note = note.to_string();
        if let Err(e) = self
            .ledger
            .transition(step, status, |r| r.note = Some(note))
            .await
        {
            self.reporter.event(Event::Warning {
                step,
                message: &e.to_string(),
            });
        }
    }

    async fn mark_later_stale(&mut self, later: &[Arc<dyn Step>], because: &str, reason: &str) {
        for s in later {
            if self.ledger.step(s.name()).status == StepStatus::Completed {
                self.mark(
                    s.name(),
                    StepStatus::Stale,
                    &format!("{because} re-ran ({reason})"),
                )
                .await;
            }
        }
    }

    /// Runs one step (with its retries), then makes its log part of the state.
    async fn run_step(&mut self, step: &dyn Step, decision: &Decision) -> StepResult {
        self.retries_before = self.env.api_retries();
        let result = self.attempts(step, decision).await;
        if let Some(log) = self.ledger.step(step.name()).log
            && let Err(e) = self.ledger.publish_log(&log).await
        {
            self.reporter.event(Event::Warning {
                step: step.name(),
                message: &format!("the step log was not stored with the state: {e}"),
            });
        }
        result
    }

    async fn attempts(&mut self, step: &dyn Step, decision: &Decision) -> StepResult {
        let name = step.name();
        let policy = RetryPolicy::from(&self.env.config.retry);
        let mut backoff = policy.backoff();
        let started_at = Timestamp::now();
        let clock = Instant::now();
        let (digest, inputs) = match &decision.fingerprint {
            Some(fp) => (Some(fp.digest()), fp.components().clone()),
            None => (None, Default::default()),
        };
        let log = match StepLog::create(self.ledger.local_dir(), name) {
            Ok(l) => l,
            Err(e) => {
                return self
                    .fail(
                        name,
                        step.critical(),
                        &format!("cannot create step log: {e}"),
                        clock,
                    )
                    .await;
            }
        };
        let log_rel = log
            .path()
            .strip_prefix(self.ledger.local_dir())
            .map(|p| p.to_string_lossy().to_string())
            .ok();
        let mut log = Some(log);
        let mut attempt = 0;
        self.ledger
            .log(
                Level::Info,
                Some(name),
                &format!("starting: {}", decision.reason),
            )
            .await;
        loop {
            attempt += 1;
            let begin = self.ledger.transition(name, StepStatus::InProgress, |r| {
                r.attempts = attempt;
                r.api_retries = 0;
                r.started_at = Some(started_at);
                r.finished_at = None;
                r.duration_ms = None;
                r.last_error = None;
                r.note = None;
                r.fingerprint = digest.clone();
                r.inputs = inputs.clone();
                r.log = log_rel.clone();
            });
            if let Err(e) = begin.await {
                return self
                    .fail(name, step.critical(), &e.to_string(), clock)
                    .await;
            }
            self.reporter.event(Event::Started {
                step: name,
                description: step.description(),
                attempt,
                reason: &decision.reason,
            });
            let mut ctx = StepContext::new(
                self.env,
                self.ledger,
                self.reporter,
                name,
                log.take().expect("log is handed back after every attempt"),
                attempt,
            );
            ctx.detail(&format!("attempt {attempt}: {}", decision.reason));
            let result = tokio::select! {
                r = step.run(&mut ctx) => Some(r),
                _ = self.env.cancel.cancelled() => None,
            };
            match result {
                None => {
                    ctx.warn("interrupted: cleaning up").await;
                    let _ = tokio::time::timeout(
                        self.cleanup_deadline,
                        step.cleanup_after_interrupt(&mut ctx),
                    )
                    .await;
                    ctx.log.flush();
                    let elapsed = clock.elapsed();
                    let interrupted = self.ledger.transition(name, StepStatus::Interrupted, |r| {
                        r.finished_at = Some(Timestamp::now());
                        r.duration_ms = Some(elapsed.as_millis() as u64);
                        r.last_error = Some("interrupted by a signal".into());
                    });
                    let _ = interrupted.await;
                    self.ledger
                        .log(Level::Warn, Some(name), "interrupted")
                        .await;
                    self.reporter.event(Event::Interrupted { step: name });
                    return StepResult::Interrupted;
                }
                Some(Ok(())) => {
                    let outputs = std::mem::take(&mut ctx.outputs);
                    let summary = ctx.summary.take();
                    ctx.detail("completed");
                    ctx.log.flush();
                    let elapsed = clock.elapsed();
                    let retries = self.retries();
                    let done = self.ledger.transition(name, StepStatus::Completed, |r| {
                        r.finished_at = Some(Timestamp::now());
                        r.duration_ms = Some(elapsed.as_millis() as u64);
                        r.outputs = outputs.clone();
                        r.api_retries = retries;
                        r.summary = summary.clone();
                    });
                    if let Err(e) = done.await {
                        return self
                            .fail(name, step.critical(), &e.to_string(), clock)
                            .await;
                    }
                    self.ledger
                        .log(
                            Level::Info,
                            Some(name),
                            &format!("completed in {:.1}s", elapsed.as_secs_f64()),
                        )
                        .await;
                    self.reporter.event(Event::Completed {
                        step: name,
                        duration: elapsed,
                        attempts: attempt,
                        summary: summary.as_deref(),
                        outputs: &outputs,
                    });
                    return StepResult::Completed;
                }
                Some(Err(e)) => {
                    let message = e.to_string();
                    let delay = if e.is_transient() {
                        backoff.next()
                    } else {
                        None
                    };
                    let Some(delay) = delay else {
                        let message = if e.is_transient() {
                            format!(
                                "{message} (transient, gave up after {attempt} attempts in {:.0}s)",
                                clock.elapsed().as_secs_f64()
                            )
                        } else {
                            message
                        };
                        ctx.log.line(Level::Error, &message);
                        ctx.log.flush();
                        return self.fail(name, step.critical(), &message, clock).await;
                    };
                    ctx.log.line(
                        Level::Warn,
                        &format!(
                            "attempt {attempt} failed (transient): {message}; retrying in {:.1}s",
                            delay.as_secs_f64()
                        ),
                    );
                    log = Some(ctx.log);
                    self.ledger
                        .log(
                            Level::Warn,
                            Some(name),
                            &format!("attempt {attempt} failed (transient): {message}"),
                        )
                        .await;
                    self.reporter.event(Event::Retrying {
                        step: name,
                        attempt,
                        delay,
                        error: &message,
                        class: "transient",
                    });
                    let interrupted = tokio::select! {
                        _ = tokio::time::sleep(delay) => false,
                        _ = self.env.cancel.cancelled() => true,
                    };
                    if interrupted {
                        let _ = self
                            .ledger
                            .transition(name, StepStatus::Interrupted, |r| {
                                r.finished_at = Some(Timestamp::now());
                                r.last_error =
                                    Some("interrupted by a signal while waiting to retry".into());
                            })
                            .await;
                        self.reporter.event(Event::Interrupted { step: name });
                        return StepResult::Interrupted;
                    }
                }
            }
        }
    }

    /// The SDK's retries since the running step started.
    fn retries(&self) -> u64 {
        self.env.api_retries().saturating_sub(self.retries_before)
    }

    async fn fail(
        &mut self,
        name: &str,
        critical: bool,
        message: &str,
        clock: Instant,
    ) -> StepResult {
        let elapsed = clock.elapsed();
        let msg = message.to_string();
        let retries = self.retries();
        let failed = self.ledger.transition(name, StepStatus::Failed, |r| {
            r.finished_at = Some(Timestamp::now());
            r.duration_ms = Some(elapsed.as_millis() as u64);
            r.last_error = Some(msg);
            r.api_retries = retries;
        });
        let _ = failed.await;
        self.ledger.log(Level::Error, Some(name), message).await;
        let attempts = self.ledger.step(name).attempts;
        self.reporter.event(Event::Failed {
            step: name,
            error: message,
            critical,
            duration: elapsed,
            attempts,
        });
        StepResult::Failed
    }
}

//! The engine: runs a pipeline of steps against the ledger, with skip, retry, stale marking,
//! prompts and interruption.

use std::sync::Arc;
use std::time::Duration;

use deploy_state::{Ledger, Level, StepStatus};

use super::decide::{Decision, decide};
use super::events::{Answer, Event, Prompter, Reporter};
use super::step::Step;
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

/// What the operator said about running a step.
enum Confirmed {
    Run,
    Stop,
    Interrupt,
    Skip,
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
    /// Steps that stopped for want of the operator's consent (a queue holding messages).
    pub needs_consent: Vec<String>,
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
    pub(super) retries_before: u64,
    /// Decisions already made for the ledger as it is (the plan a `--json` run announces),
    /// used until the run changes the ledger instead of checking everything twice.
    decided: Vec<(&'static str, Decision)>,
    /// Steps that stopped for want of consent, this run.
    pub(super) needs_consent: Vec<String>,
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
            needs_consent: Vec::new(),
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
                self.skip(name, "skipped on request").await;
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
            match self.confirm(step.as_ref(), &decision).await {
                Confirmed::Run => {}
                Confirmed::Stop => {
                    outcome.stopped = true;
                    break;
                }
                Confirmed::Interrupt => {
                    outcome.interrupted = true;
                    break;
                }
                Confirmed::Skip => {
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
        outcome.needs_consent = std::mem::take(&mut self.needs_consent);
        outcome
    }

    /// Asks the operator whether to run `step` (with what it would change, when they want to
    /// see it).
    async fn confirm(&mut self, step: &dyn Step, decision: &Decision) -> Confirmed {
        let name = step.name();
        let preview = if self.prompter.wants_preview() {
            step.preview(self.env).await
        } else {
            None
        };
        // Interrupted while the preview was made: no question (it would wait for an answer).
        let answer = if self.env.cancel.is_cancelled() {
            Answer::Interrupt
        } else {
            self.prompter.confirm(
                name,
                step.description(),
                &decision.reason,
                preview.as_deref(),
            )
        };
        match answer {
            Answer::Yes => Confirmed::Run,
            Answer::No => {
                self.ledger
                    .log(Level::Info, Some(name), "stopped by the operator")
                    .await;
                Confirmed::Stop
            }
            Answer::Interrupt => {
                self.ledger
                    .log(Level::Info, Some(name), "interrupted at the prompt")
                    .await;
                Confirmed::Interrupt
            }
            Answer::Skip => {
                self.skip(name, "skipped by the operator").await;
                Confirmed::Skip
            }
        }
    }

    /// Marks `step` skipped, and says why.
    async fn skip(&mut self, step: &'static str, reason: &str) {
        self.mark(step, StepStatus::Skipped, reason).await;
        self.reporter.event(Event::Skipped { step, reason });
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
}

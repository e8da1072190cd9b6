//! Running one step: its attempts (a transient failure is tried again after a backoff), each
//! transition recorded in the ledger before it is reported, the step's log made part of the
//! state, and an interruption cleaned up and recorded.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use deploy_state::{Level, StepLog, StepStatus};
use jiff::Timestamp;

use super::decide::Decision;
use super::error::StepError;
use super::events::Event;
use super::retry::RetryPolicy;
use super::run::{Engine, StepResult};
use super::step::{Step, StepContext};

/// What every attempt of one run of a step shares.
struct Run<'s> {
    step: &'s dyn Step,
    decision: &'s Decision,
    started_at: Timestamp,
    clock: Instant,
    /// The step log's path, relative to the ledger's directory.
    log_rel: Option<String>,
}

impl Run<'_> {
    fn name(&self) -> &'static str {
        self.step.name()
    }
}

/// How an attempt ended.
enum Ended {
    Done(StepResult),
    /// Failed for a reason waiting may fix: try again after `delay`, with the log handed back.
    Retry {
        delay: Duration,
        log: StepLog,
    },
}

impl Engine<'_> {
    /// Runs one step (with its retries), then makes its log part of the state.
    pub(super) async fn run_step(&mut self, step: &dyn Step, decision: &Decision) -> StepResult {
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
        let clock = Instant::now();
        let mut log = match StepLog::create(self.ledger.local_dir(), step.name()) {
            Ok(l) => l,
            Err(e) => {
                let why = format!("cannot create step log: {e}");
                return self.fail(step.name(), step.critical(), &why, clock).await;
            }
        };
        let run = Run {
            step,
            decision,
            started_at: Timestamp::now(),
            clock,
            log_rel: log
                .path()
                .strip_prefix(self.ledger.local_dir())
                .map(|p| p.to_string_lossy().to_string())
                .ok(),
        };
        let why = format!("starting: {}", decision.reason);
        self.ledger.log(Level::Info, Some(run.name()), &why).await;
        let mut backoff = RetryPolicy::from(&self.env.config.retry).backoff();
        for attempt in 1.. {
            match self.attempt(&run, attempt, log, &mut backoff).await {
                Ended::Done(result) => return result,
                Ended::Retry { delay, log: back } => {
                    log = back;
                    if !self.wait_to_retry(run.name(), delay).await {
                        return StepResult::Interrupted;
                    }
                }
            }
        }
        unreachable!("attempts are counted until one ends the run")
    }

    /// One attempt: recorded as in progress, run until it ends or the run is interrupted.
    async fn attempt(
        &mut self,
        run: &Run<'_>,
        attempt: u32,
        log: StepLog,
        backoff: &mut impl Iterator<Item = Duration>,
    ) -> Ended {
        let name = run.name();
        if let Err(e) = self.begin(run, attempt).await {
            let failed = self.fail(name, run.step.critical(), &e, run.clock).await;
            return Ended::Done(failed);
        }
        let mut ctx = StepContext::new(self.env, self.ledger, self.reporter, name, log, attempt);
        ctx.detail(&format!("attempt {attempt}: {}", run.decision.reason));
        let result = tokio::select! {
            r = run.step.run(&mut ctx) => Some(r),
            _ = self.env.cancel.cancelled() => None,
        };
        match result {
            None => {
                ctx.warn("interrupted: cleaning up").await;
                let cleanup = run.step.cleanup_after_interrupt(&mut ctx);
                let _ = tokio::time::timeout(self.cleanup_deadline, cleanup).await;
                ctx.log.flush();
                Ended::Done(self.interrupted(run).await)
            }
            Some(Ok(())) => {
                let finished = Finished {
                    attempt,
                    outputs: std::mem::take(&mut ctx.outputs),
                    summary: ctx.summary.take(),
                };
                ctx.detail("completed");
                ctx.log.flush();
                Ended::Done(self.completed(run, finished).await)
            }
            Some(Err(e)) => {
                let log = ctx.log;
                self.failed_attempt(run, attempt, log, e, backoff).await
            }
        }
    }

    /// Records the attempt as in progress, and announces it.
    async fn begin(&mut self, run: &Run<'_>, attempt: u32) -> Result<(), String> {
        let (digest, inputs) = match &run.decision.fingerprint {
            Some(fp) => (Some(fp.digest()), fp.components().clone()),
            None => (None, Default::default()),
        };
        let (started_at, log_rel) = (run.started_at, run.log_rel.clone());
        self.ledger
            .transition(run.name(), StepStatus::InProgress, |r| {
                r.attempts = attempt;
                r.api_retries = 0;
                r.started_at = Some(started_at);
                r.finished_at = None;
                r.duration_ms = None;
                r.last_error = None;
                r.note = None;
                r.fingerprint = digest;
                r.inputs = inputs;
                r.log = log_rel;
            })
            .await
            .map_err(|e| e.to_string())?;
        self.reporter.event(Event::Started {
            step: run.name(),
            description: run.step.description(),
            attempt,
            reason: &run.decision.reason,
        });
        Ok(())
    }

    /// The run was interrupted (and the step cleaned up): the ledger records where it stopped.
    async fn interrupted(&mut self, run: &Run<'_>) -> StepResult {
        let name = run.name();
        let elapsed = run.clock.elapsed();
        let recorded = self.ledger.transition(name, StepStatus::Interrupted, |r| {
            r.finished_at = Some(Timestamp::now());
            r.duration_ms = Some(elapsed.as_millis() as u64);
            r.last_error = Some("interrupted by a signal".into());
        });
        let _ = recorded.await;
        self.ledger
            .log(Level::Warn, Some(name), "interrupted")
            .await;
        self.reporter.event(Event::Interrupted { step: name });
        StepResult::Interrupted
    }

    /// The step completed: its outputs and summary recorded, then reported.
    async fn completed(&mut self, run: &Run<'_>, f: Finished) -> StepResult {
        let name = run.name();
        let elapsed = run.clock.elapsed();
        let retries = self.retries();
        let (outputs, summary) = (f.outputs.clone(), f.summary.clone());
        let done = self.ledger.transition(name, StepStatus::Completed, |r| {
            r.finished_at = Some(Timestamp::now());
            r.duration_ms = Some(elapsed.as_millis() as u64);
            r.outputs = outputs;
            r.api_retries = retries;
            r.summary = summary;
        });
        if let Err(e) = done.await {
            let why = e.to_string();
            return self.fail(name, run.step.critical(), &why, run.clock).await;
        }
        let line = format!("completed in {:.1}s", elapsed.as_secs_f64());
        self.ledger.log(Level::Info, Some(name), &line).await;
        self.reporter.event(Event::Completed {
            step: name,
            duration: elapsed,
            attempts: f.attempt,
            summary: f.summary.as_deref(),
            outputs: &f.outputs,
        });
        StepResult::Completed
    }

    /// An attempt failed: a permanent error, or a transient one past the retry budget, fails
    /// the step; another transient one is tried again after the backoff's next delay.
    async fn failed_attempt(
        &mut self,
        run: &Run<'_>,
        attempt: u32,
        mut log: StepLog,
        e: StepError,
        backoff: &mut impl Iterator<Item = Duration>,
    ) -> Ended {
        let name = run.name();
        let message = e.to_string();
        if e.needs_consent {
            self.needs_consent.push(name.to_string());
        }
        let delay = if e.is_transient() {
            backoff.next()
        } else {
            None
        };
        let Some(delay) = delay else {
            let message = if e.is_transient() {
                format!(
                    "{message} (transient, gave up after {attempt} attempts in {:.0}s)",
                    run.clock.elapsed().as_secs_f64()
                )
            } else {
                message
            };
            log.line(Level::Error, &message);
            log.flush();
            let critical = run.step.critical();
            return Ended::Done(self.fail(name, critical, &message, run.clock).await);
        };
        log.line(
            Level::Warn,
            &format!(
                "attempt {attempt} failed (transient): {message}; retrying in {:.1}s",
                delay.as_secs_f64()
            ),
        );
        let line = format!("attempt {attempt} failed (transient): {message}");
        self.ledger.log(Level::Warn, Some(name), &line).await;
        self.reporter.event(Event::Retrying {
            step: name,
            attempt,
            delay,
            error: &message,
            class: "transient",
        });
        Ended::Retry { delay, log }
    }

    /// Waits `delay` before the next attempt; `false` (recorded) when the run is interrupted
    /// meanwhile.
    async fn wait_to_retry(&mut self, name: &'static str, delay: Duration) -> bool {
        let interrupted = tokio::select! {
            _ = tokio::time::sleep(delay) => false,
            _ = self.env.cancel.cancelled() => true,
        };
        if interrupted {
            let _ = self
                .ledger
                .transition(name, StepStatus::Interrupted, |r| {
                    r.finished_at = Some(Timestamp::now());
                    r.last_error = Some("interrupted by a signal while waiting to retry".into());
                })
                .await;
            self.reporter.event(Event::Interrupted { step: name });
        }
        !interrupted
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

/// What a completed attempt hands back.
struct Finished {
    attempt: u32,
    outputs: BTreeMap<String, String>,
    summary: Option<String>,
}

//! `--json` on `all`, `run`, `destroy`, `adopt`: a versioned NDJSON stream on stdout, one object
//! a line, described by `docs/events.schema.json`. Every object has `type`, `timestamp` (RFC
//! 3339) and `run_id`; the stream opens with a `version` object (major.minor: a minor bump only
//! adds fields) and ends with `run_finished`, whose `exit_code` is the process's.

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use deploy_steps::engine::Event;
use serde_json::{Value, json};

/// The version of the stream's format.
pub const VERSION: &str = "1.0";

pub struct Ndjson {
    run_id: String,
    started: Instant,
    out: Mutex<std::io::Stdout>,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    completed: u64,
    skipped: u64,
    failed: u64,
    retries: u64,
}

impl Counts {
    /// How a step ended, and retries; the other events count nothing.
    fn count(&mut self, event: &Event<'_>) {
        match event {
            Event::Retrying { .. } => self.retries += 1,
            Event::Completed { .. } => self.completed += 1,
            Event::Skipped { .. } => self.skipped += 1,
            Event::Failed { .. } => self.failed += 1,
            Event::Started { .. }
            | Event::Progress { .. }
            | Event::Resource { .. }
            | Event::Output { .. }
            | Event::Warning { .. }
            | Event::Interrupted { .. } => {}
        }
    }
}

impl Ndjson {
    pub fn new() -> Ndjson {
        let now = jiff::Timestamp::now();
        let stream = Ndjson {
            run_id: format!("{}-{}", now.as_millisecond(), std::process::id()),
            started: Instant::now(),
            out: Mutex::new(std::io::stdout()),
            counts: Mutex::new(Counts::default()),
        };
        stream.emit("version", json!({"version": VERSION}));
        stream
    }

    /// One object: `type`, `timestamp`, `run_id`, then `fields`.
    pub fn emit(&self, kind: &str, fields: Value) {
        let mut obj = json!({
            "type": kind,
            "timestamp": jiff::Timestamp::now().to_string(),
            "run_id": self.run_id,
        });
        if let (Some(o), Value::Object(f)) = (obj.as_object_mut(), fields) {
            o.extend(f);
        }
        let mut line = serde_json::to_vec(&obj).expect("json");
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = out.write_all(&line);
        let _ = out.flush();
    }

    pub fn run_started(&self, command: &str, deployment: &Value, planned: Vec<Value>) {
        self.emit(
            "run_started",
            json!({"command": command, "deployment": deployment, "steps": planned}),
        );
    }

    pub fn run_finished(&self, exit_code: u8) {
        let c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        self.emit(
            "run_finished",
            json!({
                "exit_code": exit_code,
                "duration_ms": self.started.elapsed().as_millis() as u64,
                "counts": {
                    "completed": c.completed,
                    "skipped": c.skipped,
                    "failed": c.failed,
                    "retries": c.retries,
                },
            }),
        );
    }

    /// A warning or an error for people, with where it comes from when it is about a file.
    pub fn diagnostic(&self, level: &str, message: &str, at: Option<(&str, usize, &str)>) {
        let mut d = json!({"level": level, "message": message});
        if let Some((file, line, key)) = at {
            d["file"] = file.into();
            d["line"] = line.into();
            d["key"] = key.into();
        }
        self.emit("diagnostic", d);
    }

    /// A step's event: counted for `run_finished`, then its object.
    pub fn event(&self, event: &Event<'_>) {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .count(event);
        self.emit(kind(event), fields(event));
    }
}

/// The `type` of an event's object.
fn kind(event: &Event<'_>) -> &'static str {
    match event {
        Event::Started { .. } => "step_started",
        Event::Progress { .. } | Event::Resource { .. } | Event::Output { .. } => "step_progress",
        Event::Warning { .. } => "diagnostic",
        Event::Retrying { .. } => "retry",
        Event::Completed { .. }
        | Event::Skipped { .. }
        | Event::Failed { .. }
        | Event::Interrupted { .. } => "step_finished",
    }
}

/// The fields of an event's object.
fn fields(event: &Event<'_>) -> Value {
    match event {
        Event::Started {
            step,
            attempt,
            reason,
            ..
        } => json!({"step": step, "attempt": attempt, "reason": reason}),
        Event::Progress { step, message } => json!({"step": step, "message": message}),
        Event::Resource {
            step,
            address,
            action,
            phase,
            elapsed_seconds,
        } => json!({"step": step, "resource": {
            "address": address, "action": action, "phase": phase,
            "elapsed_seconds": elapsed_seconds,
        }}),
        Event::Output { step, text } => json!({"step": step, "message": text}),
        Event::Warning { step, message } => {
            json!({"level": "warning", "step": step, "message": message})
        }
        Event::Retrying {
            step,
            attempt,
            delay,
            error,
            class,
        } => json!({"step": step, "attempt": attempt,
                    "delay_ms": delay.as_millis() as u64, "class": class,
                    "message": error}),
        Event::Completed {
            step,
            duration,
            attempts,
            summary,
            outputs,
        } => json!({"step": step, "status": "completed",
                    "duration_ms": duration.as_millis() as u64, "attempts": attempts,
                    "summary": summary, "outputs": outputs}),
        Event::Skipped { step, reason } => {
            json!({"step": step, "status": "skipped", "reason": reason})
        }
        Event::Failed {
            step,
            error,
            critical,
            duration,
            attempts,
        } => json!({"step": step, "status": "failed", "error": error,
                    "critical": critical, "duration_ms": duration.as_millis() as u64,
                    "attempts": attempts}),
        Event::Interrupted { step } => json!({"step": step, "status": "interrupted"}),
    }
}

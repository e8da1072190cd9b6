//! Every line the user sees goes through the `Printer`: progress on stderr (a spinner when
//! stderr is a terminal, one plain line per event otherwise — and always under `CI=true`),
//! results on stdout; with `--json`, stdout carries only the NDJSON stream; under GitHub Actions,
//! groups, annotations, the step summary and the outputs file as well.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use console::{Style, style};
use deploy_steps::engine::{Event, Reporter};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{ColorChoice, Global};
use crate::github::GitHub;
use crate::ndjson::Ndjson;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

pub struct Printer {
    verbosity: Verbosity,
    spinner: Mutex<Option<ProgressBar>>,
    /// A spinner and in-place progress (a terminal, not CI).
    fancy: bool,
    json: Option<Ndjson>,
    github: Option<GitHub>,
}

/// `CI=true` (any CI): no spinner, no colours, one line per event.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

impl Printer {
    /// `json`: the command streams NDJSON on stdout (`--json`).
    pub fn new(g: &Global, json: bool) -> Self {
        let ci = in_ci() || std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let colors = match g.output.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
                    && !ci
            }
        };
        console::set_colors_enabled(colors);
        console::set_colors_enabled_stderr(colors);
        let verbosity = if g.output.quiet {
            Verbosity::Quiet
        } else if g.output.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Printer {
            verbosity,
            spinner: Mutex::new(None),
            fancy: std::io::stderr().is_terminal() && verbosity == Verbosity::Normal && !ci,
            json: json.then(Ndjson::new),
            github: GitHub::detect(),
        }
    }

    pub fn json(&self) -> Option<&Ndjson> {
        self.json.as_ref()
    }

    pub fn github(&self) -> Option<&GitHub> {
        self.github.as_ref()
    }

    /// A right-aligned verb and a message, cargo style: `   Completed preflight in 0.2s`.
    pub fn status(&self, verb: &str, style_: Style, message: &str) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        self.line(&format!(
            "{} {message}",
            style_.apply_to(format!("{verb:>12}")).bold()
        ));
    }

    pub fn info(&self, message: &str) {
        self.status("Info", Style::new().cyan(), message);
    }

    /// Detail shown only with `-v`.
    pub fn verbose(&self, message: &str) {
        if self.verbosity == Verbosity::Verbose {
            self.status("Note", Style::new().dim(), message);
        }
    }

    pub fn warn(&self, message: &str) {
        self.line(&format!("{} {message}", style("warning:").yellow().bold()));
        if let Some(j) = &self.json {
            j.diagnostic("warning", message, None);
        }
        if let Some(g) = &self.github {
            g.annotate("warning", "deploy", message, None);
        }
    }

    pub fn error(&self, message: &str) {
        self.error_at(message, None);
    }

    /// An error, and where it is when it is about a file (`file`, `line`, `key`).
    pub fn error_at(&self, message: &str, at: Option<(&str, usize, &str)>) {
        self.line(&format!("{} {message}", style("error:").red().bold()));
        if let Some(j) = &self.json {
            j.diagnostic("error", message, at);
        }
        if let Some(g) = &self.github {
            let title = match at {
                Some((_, _, key)) if !key.is_empty() => format!("deploy: {key}"),
                _ => "deploy".to_string(),
            };
            g.annotate("error", &title, message, at.map(|(f, l, _)| (f, l)));
        }
    }

    /// The end of a run: the stream's last object, and the GitHub summary.
    pub fn run_finished(&self, title: &str, exit_code: u8, next: Option<&str>) {
        self.finish_spinner();
        if let Some(j) = &self.json {
            j.run_finished(exit_code);
        }
        if let Some(g) = &self.github {
            g.write_summary(title, exit_code, next);
        }
    }

    /// A result on stdout (tables, JSON); on stderr when stdout carries the NDJSON stream.
    pub fn out(&self, text: &str) {
        self.finish_spinner();
        let bytes = if text.ends_with('\n') {
            text.to_string()
        } else {
            format!("{text}\n")
        };
        if self.json.is_some() {
            let _ = std::io::stderr().lock().write_all(bytes.as_bytes());
        } else {
            let _ = std::io::stdout().lock().write_all(bytes.as_bytes());
        }
    }

    fn line(&self, text: &str) {
        let guard = self.spinner.lock().unwrap();
        match guard.as_ref() {
            Some(pb) => pb.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn start_spinner(&self, message: String) {
        if !self.fancy {
            return;
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {wide_msg} {elapsed:>4}")
                .expect("valid template"),
        );
        pb.set_prefix(message);
        pb.enable_steady_tick(Duration::from_millis(100));
        *self.spinner.lock().unwrap() = Some(pb);
    }

    fn finish_spinner(&self) {
        if let Some(pb) = self.spinner.lock().unwrap().take() {
            pb.finish_and_clear();
        }
    }

    /// A step starts: its line, and a spinner named for it.
    fn started(&self, step: &str, description: &str, attempt: u32) {
        self.finish_spinner();
        let what = if attempt > 1 {
            format!("{step} (attempt {attempt})")
        } else {
            format!("{step}: {description}")
        };
        self.status("Running", Style::new().cyan(), &what);
        self.start_spinner(step.to_string());
    }

    /// Progress inside a step: the spinner's message, or a line with `-v`.
    fn progress(&self, step: &str, message: &str) {
        let guard = self.spinner.lock().unwrap();
        if let Some(pb) = guard.as_ref() {
            pb.set_message(message.to_string());
        } else if self.verbosity == Verbosity::Verbose {
            eprintln!("{:>12} [{step}] {message}", "");
        }
    }

    /// A step ends well: its time, and its summary if it has one.
    fn completed(&self, step: &str, duration: Duration, summary: Option<&str>) {
        self.finish_spinner();
        let tail = summary.map(|s| format!(": {s}")).unwrap_or_default();
        self.status(
            "Completed",
            Style::new().green(),
            &format!("{step} in {:.1}s{tail}", duration.as_secs_f64()),
        );
    }

    /// A step fails: whether that stops the run, and its error.
    fn failed(&self, step: &str, error: &str, critical: bool) {
        self.finish_spinner();
        let tail = if critical {
            " (critical: stopping)"
        } else {
            ""
        };
        self.status("Failed", Style::new().red(), &format!("{step}{tail}"));
        self.line(&format!(
            "{} [{step}] {error}",
            style("error:").red().bold()
        ));
    }

    /// One timestamped line for a resource event (not a terminal: a CI log is never silent for
    /// the length of an apply).
    fn resource_line(
        &self,
        step: &str,
        address: &str,
        action: &str,
        phase: &str,
        elapsed: Option<u64>,
    ) {
        let now = jiff::Timestamp::now();
        let when = elapsed.map(|s| format!(" after {s}s")).unwrap_or_default();
        self.line(&format!(
            "{:>12} {} {step}: {address}: {action} {phase}{when}",
            "",
            now.strftime("%H:%M:%S")
        ));
    }
}

impl Reporter for Printer {
    fn event(&self, event: Event<'_>) {
        if let Some(j) = &self.json {
            j.event(&event);
        }
        if let Some(g) = &self.github {
            g.event(&event);
        }
        match event {
            Event::Started {
                step,
                description,
                attempt,
                ..
            } => self.started(step, description, attempt),
            Event::Progress { step, message } => self.progress(step, message),
            Event::Resource {
                step,
                address,
                action,
                phase,
                elapsed_seconds,
            } => {
                let guard = self.spinner.lock().unwrap();
                if let Some(pb) = guard.as_ref() {
                    pb.set_message(format!("{address}: {action} {phase}"));
                } else if self.verbosity != Verbosity::Quiet && phase != "progress" {
                    drop(guard);
                    self.resource_line(step, address, action, phase, elapsed_seconds);
                }
            }
            Event::Output { text, .. } => {
                if self.verbosity != Verbosity::Quiet {
                    self.line(text.trim_end());
                }
            }
            Event::Warning { step, message } => {
                self.line(&format!(
                    "{} [{step}] {message}",
                    style("warning:").yellow().bold()
                ));
            }
            Event::Retrying {
                step,
                attempt,
                delay,
                error,
                ..
            } => self.line(&format!(
                "{} [{step}] attempt {attempt} failed with a transient error, retrying in {:.1}s: {error}",
                style("warning:").yellow().bold(),
                delay.as_secs_f64()
            )),
            Event::Completed {
                step,
                duration,
                summary,
                ..
            } => self.completed(step, duration, summary),
            Event::Skipped { step, reason } => {
                self.status("Skipped", Style::new().dim(), &format!("{step}: {reason}"));
            }
            Event::Failed {
                step,
                error,
                critical,
                ..
            } => self.failed(step, error, critical),
            Event::Interrupted { step } => {
                self.finish_spinner();
                self.status("Interrupted", Style::new().yellow(), step);
            }
        }
    }
}

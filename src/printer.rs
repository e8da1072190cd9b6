//! Every line the user sees goes through the `Printer`: progress on stderr (a spinner when
//! stderr is a terminal, plain lines otherwise), results on stdout.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use console::{Style, style};
use deploy_steps::engine::{Event, Reporter};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{ColorChoice, Global};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

pub struct Printer {
    verbosity: Verbosity,
    spinner: Mutex<Option<ProgressBar>>,
    fancy: bool,
}

impl Printer {
    pub fn new(g: &Global) -> Self {
        let colors = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        };
        console::set_colors_enabled(colors);
        console::set_colors_enabled_stderr(colors);
        let verbosity = if g.quiet {
            Verbosity::Quiet
        } else if g.verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        };
        Printer {
            verbosity,
            spinner: Mutex::new(None),
            fancy: std::io::stderr().is_terminal() && verbosity == Verbosity::Normal,
        }
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
    }

    pub fn error(&self, message: &str) {
        self.line(&format!("{} {message}", style("error:").red().bold()));
    }

    /// A result on stdout (tables, JSON).
    pub fn out(&self, text: &str) {
        self.finish_spinner();
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
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
}

impl Reporter for Printer {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Started {
                step,
                description,
                attempt,
            } => {
                self.finish_spinner();
                let what = if attempt > 1 {
                    format!("{step} (attempt {attempt})")
                } else {
                    format!("{step}: {description}")
                };
                self.status("Running", Style::new().cyan(), &what);
                self.start_spinner(step.to_string());
            }
            Event::Progress { step, message } => {
                let guard = self.spinner.lock().unwrap();
                if let Some(pb) = guard.as_ref() {
                    pb.set_message(message.to_string());
                } else if self.verbosity == Verbosity::Verbose {
                    eprintln!("{:>12} [{step}] {message}", "");
                }
            }
            Event::Output { text, .. } => {
                if self.verbosity != Verbosity::Quiet {
                    self.line(text.trim_end());
                }
            }
            Event::Warning { step, message } => self.warn(&format!("[{step}] {message}")),
            Event::Retrying {
                step,
                attempt,
                delay,
                error,
            } => self.warn(&format!(
                "[{step}] attempt {attempt} failed with a transient error, retrying in {:.1}s: {error}",
                delay.as_secs_f64()
            )),
            Event::Completed { step, duration } => {
                self.finish_spinner();
                self.status(
                    "Completed",
                    Style::new().green(),
                    &format!("{step} in {:.1}s", duration.as_secs_f64()),
                );
            }
            Event::Skipped { step, reason } => {
                self.status("Skipped", Style::new().dim(), &format!("{step}: {reason}"));
            }
            Event::Failed {
                step,
                error,
                critical,
            } => {
                self.finish_spinner();
                let tail = if critical { " (critical: stopping)" } else { "" };
                self.status("Failed", Style::new().red(), &format!("{step}{tail}"));
                self.error(&format!("[{step}] {error}"));
            }
            Event::Interrupted { step } => {
                self.finish_spinner();
                self.status("Interrupted", Style::new().yellow(), step);
            }
        }
    }
}

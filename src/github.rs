//! GitHub Actions, detected by `GITHUB_ACTIONS=true`: each step's lines in a `::group::`, errors
//! and warnings as annotations (with `file=` and `line=` for configuration errors), a Markdown
//! summary appended to `$GITHUB_STEP_SUMMARY`, and the deployment's outputs written to
//! `$GITHUB_OUTPUT`. Workflow commands go to stderr with the rest of the human output (the
//! runner reads both streams), so stdout stays clean for `--json`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use deploy_steps::engine::Event;

/// The summary stays far below the 1 MiB GitHub allows.
const SUMMARY_LIMIT: usize = 64 * 1024;

pub struct GitHub {
    summary: Option<PathBuf>,
    output: Option<PathBuf>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    open_group: bool,
    rows: Vec<Row>,
    resources: Vec<String>,
}

struct Row {
    step: String,
    status: &'static str,
    duration: Option<Duration>,
    attempts: Option<u32>,
    note: String,
}

/// `%`, CR and LF, as workflow command data requires.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Data escaping plus `:` and `,`, for command properties (`title=`, `file=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One Markdown table cell: no pipes, no line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

impl GitHub {
    pub fn detect() -> Option<GitHub> {
        if std::env::var("GITHUB_ACTIONS").ok().as_deref() != Some("true") {
            return None;
        }
        let path = |var: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Some(GitHub {
            summary: path("GITHUB_STEP_SUMMARY"),
            output: path("GITHUB_OUTPUT"),
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn command(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }

    /// `::error` / `::warning` with a title, and `file=`/`line=` when it is about a file.
    pub fn annotate(&self, level: &str, title: &str, message: &str, at: Option<(&str, usize)>) {
        let mut props = format!("title={}", escape_property(title));
        if let Some((file, line)) = at {
            props = format!("file={},line={line},{props}", escape_property(file));
        }
        self.command(&format!("::{level} {props}::{}", escape_data(message)));
    }

    fn open(&self, title: &str) {
        let mut s = self.state();
        if s.open_group {
            drop(s);
            self.command("::endgroup::");
            s = self.state();
        }
        s.open_group = true;
        drop(s);
        self.command(&format!("::group::{}", escape_data(title)));
    }

    fn close(&self) {
        let was = std::mem::replace(&mut self.state().open_group, false);
        if was {
            self.command("::endgroup::");
        }
    }

    pub fn event(&self, event: &Event<'_>) {
        match event {
            Event::Started {
                step,
                description,
                attempt,
                ..
            } => self.open(&if *attempt > 1 {
                format!("{step} (attempt {attempt})")
            } else {
                format!("{step}: {description}")
            }),
            Event::Completed {
                step,
                duration,
                attempts,
                summary,
                ..
            } => {
                self.close();
                let mut s = self.state();
                if let Some(line) = summary {
                    s.resources.push(format!("{step}: {line}"));
                }
                s.rows.push(Row {
                    step: step.to_string(),
                    status: "completed",
                    duration: Some(*duration),
                    attempts: Some(*attempts),
                    note: summary.unwrap_or_default().to_string(),
                });
            }
            Event::Skipped { step, reason } => self.state().rows.push(Row {
                step: step.to_string(),
                status: "skipped",
                duration: None,
                attempts: None,
                note: reason.to_string(),
            }),
            Event::Failed {
                step,
                error,
                duration,
                attempts,
                ..
            } => {
                self.close();
                self.annotate("error", &format!("deploy: {step} failed"), error, None);
                self.state().rows.push(Row {
                    step: step.to_string(),
                    status: "failed",
                    duration: Some(*duration),
                    attempts: Some(*attempts),
                    note: error.lines().next().unwrap_or_default().to_string(),
                });
            }
            Event::Interrupted { step } => {
                self.close();
                self.state().rows.push(Row {
                    step: step.to_string(),
                    status: "interrupted",
                    duration: None,
                    attempts: None,
                    note: String::new(),
                });
            }
            Event::Warning { step, message } => {
                self.annotate("warning", &format!("deploy: {step}"), message, None);
            }
            _ => {}
        }
    }

    /// Appends the run's Markdown summary: one row per step, what changed, the next command.
    pub fn write_summary(&self, title: &str, exit_code: u8, next: Option<&str>) {
        self.close();
        let Some(path) = &self.summary else {
            return;
        };
        let s = self.state();
        let mut md = format!(
            "### {}\n\n| step | status | duration | attempts | notes |\n|---|---|---|---|---|\n",
            cell(title)
        );
        for r in &s.rows {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                cell(&r.step),
                r.status,
                r.duration
                    .map(|d| format!("{:.1}s", d.as_secs_f64()))
                    .unwrap_or_default(),
                r.attempts.map(|a| a.to_string()).unwrap_or_default(),
                cell(&r.note)
            ));
        }
        if !s.resources.is_empty() {
            md.push_str("\n**Changes**\n\n");
            for line in &s.resources {
                md.push_str(&format!("- {}\n", cell(line)));
            }
        }
        md.push_str(&format!("\nExit code: `{exit_code}`\n"));
        if let Some(n) = next {
            md.push_str(&format!("\nNext: {n}\n"));
        }
        if md.len() > SUMMARY_LIMIT {
            md.truncate(SUMMARY_LIMIT);
            md.push_str("\n\n(truncated)\n");
        }
        append(path, &md);
    }

    /// Writes `name=value` pairs to `$GITHUB_OUTPUT`; a multi-line value uses a random delimiter.
    pub fn write_outputs(&self, outputs: &[(String, String)]) {
        let Some(path) = &self.output else {
            return;
        };
        let mut text = String::new();
        for (name, value) in outputs {
            if value.contains('\n') || value.contains('\r') {
                let delim = loop {
                    let d = format!("deploy_{:016x}", fastrand::u64(..));
                    if !value.contains(&d) {
                        break d;
                    }
                };
                text.push_str(&format!("{name}<<{delim}\n{value}\n{delim}\n"));
            } else {
                text.push_str(&format!("{name}={value}\n"));
            }
        }
        append(path, &text);
    }
}

fn append(path: &PathBuf, text: &str) {
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_values_are_escaped() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}

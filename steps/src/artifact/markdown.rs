//! A plan as a pull request comment: a summary table first (steps, resources added / changed /
//! replaced / destroyed, contract changes with their verdict, queues that would lose messages,
//! replacements flagged), then the details in collapsible sections. Always within GitHub's
//! 65,535 characters: details that do not fit are cut, and the comment says so.

use super::Manifest;

/// GitHub's limit on a comment's length.
pub const LIMIT: usize = 65_535;

/// Room kept for the line that says what was cut.
const CUT_NOTE_ROOM: usize = 300;

pub fn render(m: &Manifest) -> String {
    let mut out = summary(m);
    let sections = details(m);
    let total: usize = sections.iter().map(|s| s.len()).sum();
    if out.len() + total <= LIMIT {
        for s in sections {
            out.push_str(&s);
        }
        return out;
    }
    let budget = LIMIT - CUT_NOTE_ROOM - out.len().min(LIMIT - CUT_NOTE_ROOM);
    let mut cut = 0;
    let mut used = 0;
    for s in sections {
        for line in s.split_inclusive('\n') {
            if used + line.len() <= budget {
                out.push_str(line);
                used += line.len();
            } else if line.starts_with("- ") {
                cut += 1;
            }
        }
    }
    out.push_str(&format!(
        "\n\n**{cut} detail line(s) were cut to fit a comment**: `deploy show-plan FILE` shows \
         the whole plan from the artifact.\n"
    ));
    out
}

fn summary(m: &Manifest) -> String {
    let [add, change, replace, destroy] = m.counts();
    let running: Vec<&str> = m
        .steps
        .iter()
        .filter(|s| s.run)
        .map(|s| s.step.as_str())
        .collect();
    let replaced: Vec<String> = m
        .changes
        .iter()
        .filter(|c| c.action == "replace")
        .map(|c| format!("`{}`", c.address))
        .collect();
    let losing: Vec<String> = m
        .change
        .queue_depths
        .iter()
        .filter(|(_, d)| d.is_some_and(|d| d.total() > 0))
        .map(|(q, d)| format!("`{q}` ({})", d.expect("filtered")))
        .collect();
    let or_none = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let mut out = format!("## deploy plan: {}\n\n", m.deployment);
    out.push_str("| | |\n|---|---|\n");
    let steps = if running.is_empty() {
        "nothing would run".to_string()
    } else {
        running.join(", ")
    };
    out.push_str(&format!("| steps | {steps} |\n"));
    out.push_str(&format!(
        "| resources | {add} to add, {change} to change, {replace} to replace, {destroy} to destroy |\n"
    ));
    let flag = if replaced.is_empty() { "" } else { "⚠ " };
    out.push_str(&format!("| replacements | {flag}{} |\n", or_none(replaced)));
    out.push_str(&format!(
        "| contracts | {} |\n",
        or_none(m.contracts.clone())
    ));
    out.push_str(&format!(
        "| queues that would lose messages | {} |\n",
        or_none(losing)
    ));
    out
}

fn details(m: &Manifest) -> Vec<String> {
    let mut sections = Vec::new();
    let steps: Vec<String> = m
        .steps
        .iter()
        .map(|s| {
            let verb = if s.run { "run" } else { "skip" };
            format!("- {verb} `{}`: {}", s.step, s.reason)
        })
        .collect();
    sections.push(section("Steps", &steps));
    let changes: Vec<String> = m
        .changes
        .iter()
        .map(|c| format!("- {} `{}`", c.action, c.address))
        .collect();
    if !changes.is_empty() {
        sections.push(section("Resource changes", &changes));
    }
    let hub: Vec<String> = m.change.lines().iter().map(|l| format!("- {l}")).collect();
    if !hub.is_empty() {
        sections.push(section("What the change expands and retires", &hub));
    }
    sections
}

fn section(title: &str, lines: &[String]) -> String {
    format!(
        "\n<details><summary>{title} ({})</summary>\n\n{}\n\n</details>\n",
        lines.len(),
        lines.join("\n")
    )
}

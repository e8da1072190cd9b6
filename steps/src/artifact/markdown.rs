//! A plan as a pull request comment: a summary table first (steps, resources added / changed /
//! replaced / destroyed, contract changes with their verdict, queues that would lose messages,
//! replacements flagged), then the details in collapsible sections. Always within GitHub's
//! 65,535 characters: when the details do not fit, each section shows what fits, every section
//! stays closed, and a note says how many lines of which sections were cut and where the whole
//! plan is (the artifact, `deploy show-plan FILE`).

use super::Manifest;

/// GitHub's limit on a comment's length (in characters; the budget here counts bytes, which
/// are never fewer).
pub const LIMIT: usize = 65_535;

/// How many names a summary cell lists before it says how many more there are.
const CELL_NAMES: usize = 10;

/// One collapsible section of the details.
struct Section {
    title: &'static str,
    lines: Vec<String>,
}

impl Section {
    /// The section with its first `shown` lines (`shown < lines`: the title says so).
    fn render(&self, shown: usize) -> String {
        let total = self.lines.len();
        let count = if shown < total {
            format!("{shown} of {total} shown")
        } else {
            total.to_string()
        };
        format!(
            "\n<details><summary>{} ({count})</summary>\n\n{}\n\n</details>\n",
            self.title,
            self.lines[..shown].join("\n")
        )
    }
}

pub fn render(m: &Manifest) -> String {
    render_within(m, LIMIT)
}

/// The comment, within `limit` bytes.
fn render_within(m: &Manifest, limit: usize) -> String {
    let mut out = summary(m);
    let sections = details(m);
    let whole: String = sections.iter().map(|s| s.render(s.lines.len())).collect();
    if out.len() + whole.len() <= limit {
        out.push_str(&whole);
        return out;
    }
    let shown = fit(
        &sections,
        limit.saturating_sub(out.len() + note_room(&sections)),
    );
    for (s, n) in sections.iter().zip(&shown) {
        out.push_str(&s.render(*n));
    }
    out.push_str(&cut_note(&sections, &shown));
    out
}

/// How many lines of each section fit in `budget` bytes, sections in order, each section's
/// frame counted whether or not any of its lines fits.
fn fit(sections: &[Section], budget: usize) -> Vec<usize> {
    let frames: usize = sections.iter().map(|s| s.render(0).len() + 32).sum();
    let mut left = budget.saturating_sub(frames);
    sections
        .iter()
        .map(|s| {
            let mut n = 0;
            for line in &s.lines {
                if line.len() + 1 > left {
                    break;
                }
                left -= line.len() + 1;
                n += 1;
            }
            n
        })
        .collect()
}

/// Room for the note that says what was cut: a line per section, and the pointer.
fn note_room(sections: &[Section]) -> usize {
    300 + sections.iter().map(|s| s.title.len() + 60).sum::<usize>()
}

fn cut_note(sections: &[Section], shown: &[usize]) -> String {
    let cut: Vec<String> = sections
        .iter()
        .zip(shown)
        .filter(|(s, n)| **n < s.lines.len())
        .map(|(s, n)| format!("{} of {} {}", s.lines.len() - n, s.lines.len(), s.title))
        .collect();
    format!(
        "\n**Cut to fit a comment ({LIMIT} characters)**: {}. The plan artifact holds the whole \
         plan: `deploy show-plan FILE` shows it.\n",
        cut.join(", ")
    )
}

fn summary(m: &Manifest) -> String {
    let [add, change, replace, destroy] = m.counts();
    let running: Vec<String> = m
        .steps
        .iter()
        .filter(|s| s.run)
        .map(|s| s.step.clone())
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
    let mut out = format!("## deploy plan: {}\n\n", m.deployment);
    out.push_str("| | |\n|---|---|\n");
    let steps = if running.is_empty() {
        "nothing would run".to_string()
    } else {
        cell(&running)
    };
    out.push_str(&format!("| steps | {steps} |\n"));
    out.push_str(&format!(
        "| resources | {add} to add, {change} to change, {replace} to replace, {destroy} to destroy |\n"
    ));
    let flag = if replaced.is_empty() { "" } else { "⚠ " };
    out.push_str(&format!("| replacements | {flag}{} |\n", cell(&replaced)));
    out.push_str(&format!("| contracts | {} |\n", cell(&m.contracts)));
    out.push_str(&format!(
        "| queues that would lose messages | {} |\n",
        cell(&losing)
    ));
    out
}

/// A table cell listing `names`: `none`, or the first few and how many more; `|` escaped.
fn cell(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let mut text = names[..names.len().min(CELL_NAMES)].join(", ");
    if names.len() > CELL_NAMES {
        text.push_str(&format!(" and {} more", names.len() - CELL_NAMES));
    }
    text.replace('|', "\\|")
}

fn details(m: &Manifest) -> Vec<Section> {
    let steps = m
        .steps
        .iter()
        .map(|s| {
            let verb = if s.run { "run" } else { "skip" };
            format!("- {verb} `{}`: {}", s.step, s.reason)
        })
        .collect();
    let changes = m
        .changes
        .iter()
        .map(|c| format!("- {} `{}`", c.action, c.address))
        .collect();
    let hub = m.change.lines().iter().map(|l| format!("- {l}")).collect();
    let found = m
        .findings
        .iter()
        .flat_map(|(step, lines)| lines.iter().map(move |l| format!("- `{step}`: {l}")))
        .collect();
    [
        ("Steps", steps),
        ("Resource changes", changes),
        ("What the change expands and retires", hub),
        ("What the live checks found", found),
    ]
    .into_iter()
    .filter(|(_, lines): &(_, Vec<String>)| !lines.is_empty())
    .map(|(title, lines)| Section { title, lines })
    .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use deploy_state::DeploymentId;

    use super::*;
    use crate::artifact::{FORMAT, PlannedStep, ResourceChange, VERSION};

    /// A plan of `routes` new routes, each a rule, a target, a consumer queue and its policy,
    /// named as long as route names may be.
    fn manifest(routes: usize) -> Manifest {
        let mut m = Manifest {
            format: FORMAT,
            deploy_version: VERSION.into(),
            deployment: DeploymentId::new("hub", "staging", "us-east-1"),
            state: None,
            inputs: BTreeMap::new(),
            steps: [
                "preflight",
                "iam",
                "infrastructure",
                "lambdas",
                "test-events",
            ]
            .map(|s| PlannedStep {
                step: s.into(),
                run: true,
                reason: "inputs changed in tfvars".into(),
            })
            .into(),
            changes: Vec::new(),
            touched: Vec::new(),
            live: BTreeMap::new(),
            findings: BTreeMap::new(),
            change: Default::default(),
            contracts: vec!["orders-created v2: new, compatible".into()],
        };
        for i in 0..routes {
            let route = format!("orders-created-in-the-european-region-to-fulfilment-{i:04}");
            m.change.expanding.routes.push(route.clone());
            for (resource, key) in [
                ("aws_cloudwatch_event_rule.this", route.clone()),
                ("aws_cloudwatch_event_target.this", format!("{route}/inbox")),
                ("aws_sqs_queue.consumer", format!("{route}-inbox")),
                ("aws_sqs_queue_policy.consumer", format!("{route}-inbox")),
            ] {
                m.changes.push(ResourceChange {
                    address: format!("{resource}[\"{key}\"]"),
                    action: "create".into(),
                });
            }
        }
        m
    }

    #[test]
    fn a_change_of_300_routes_fits_a_comment_and_says_what_was_cut() {
        let m = manifest(300);
        assert!(
            render_within(&m, usize::MAX).len() > LIMIT,
            "it has to be cut"
        );
        let text = render(&m);
        assert!(text.chars().count() <= LIMIT, "{} characters", text.len());
        assert!(
            text.contains("| resources | 1200 to add, 0 to change"),
            "{text}"
        );
        assert!(text.contains("Cut to fit a comment"), "the cut is said");
        let note = text.lines().last().unwrap();
        assert!(note.contains("of 1200 Resource changes"), "{note}");
        assert!(note.contains("of 300 What the change expands"), "{note}");
        assert!(note.contains("deploy show-plan FILE"), "{note}");
        assert!(text.contains("Resource changes (") && text.contains(" of 1200 shown)"));
        assert_eq!(
            text.matches("<details>").count(),
            text.matches("</details>").count(),
            "every section is closed"
        );
        // What is shown of the changes is their beginning, whole lines.
        let shown = text.matches("- create `").count();
        assert!(shown > 100, "{shown} changes shown");
        assert!(text.contains("- create `aws_cloudwatch_event_rule.this[\"orders-created-in-the-european-region-to-fulfilment-0000\"]`"));
    }

    #[test]
    fn a_normal_change_is_shown_whole() {
        let m = manifest(3);
        let text = render(&m);
        assert!(!text.contains("Cut to fit"), "{text}");
        for c in &m.changes {
            assert!(
                text.contains(&format!("- create `{}`", c.address)),
                "{text}"
            );
        }
        assert!(text.contains("Resource changes (12)"), "{text}");
        assert!(text.contains("| contracts | orders-created v2: new, compatible |"));
    }

    #[test]
    fn summary_cells_name_the_first_few_and_count_the_rest() {
        let names: Vec<String> = (0..25).map(|i| format!("`q{i}`")).collect();
        assert_eq!(cell(&names[..2]), "`q0`, `q1`");
        assert!(cell(&names).ends_with("`q9` and 15 more"));
        assert_eq!(cell(&["a | b".to_string()]), "a \\| b");
        assert_eq!(cell(&[]), "none");
    }
}

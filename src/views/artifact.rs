//! A plan artifact for people: what it is for, what would run, what Terraform would change.

use deploy_steps::artifact::Manifest;

pub fn text(m: &Manifest, id: &str) -> String {
    let [add, change, replace, destroy] = m.counts();
    let mut t = format!(
        "Plan {} for deployment {} (deploy {})\n",
        &id[..12.min(id.len())],
        m.deployment,
        m.deploy_version
    );
    t.push_str(&match &m.state {
        Some(s) => format!("  state: {} (serial {})\n", s.location, s.serial),
        None => "  state: none yet (a first deploy)\n".into(),
    });
    for s in &m.steps {
        let verb = if s.run { "run " } else { "skip" };
        t.push_str(&format!("  {verb}  {:<15} {}\n", s.step, s.reason));
    }
    t.push_str(&format!(
        "  terraform: {add} to add, {change} to change, {replace} to replace, {destroy} to destroy\n"
    ));
    for c in &m.changes {
        t.push_str(&format!("    {} {}\n", c.action, c.address));
    }
    for line in m.change.lines() {
        t.push_str(&format!("  change {line}\n"));
    }
    for (step, lines) in &m.findings {
        for line in lines {
            t.push_str(&format!("  found by {step}'s live check: {line}\n"));
        }
    }
    for line in &m.contracts {
        t.push_str(&format!("  contract {line}\n"));
    }
    t.push_str(if m.is_noop() {
        "Nothing to do: applying it changes nothing."
    } else {
        "`deploy all --plan FILE` applies exactly this, or refuses if anything changed since."
    });
    t
}

//! `type` (`docs/COMPATIBILITY.md` rows 12, 13) and `enum` / `const` (row 16).

use serde_json::{Map, Value};

use super::{Breaks, Diff};
use crate::schema::{child, show};

/// The primitive types; `integer` is contained in `number`.
const ALL_TYPES: [&str; 6] = ["null", "boolean", "object", "array", "number", "string"];

/// The types a schema allows: `None` when it has no `type` (every type).
pub(crate) struct TypeSet(Option<Vec<String>>);

impl TypeSet {
    /// Reads `type` (a name or an array of names) and OpenAPI's `nullable: true`.
    pub(crate) fn of(schema: &Map<String, Value>) -> Self {
        let mut names: Vec<String> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.clone()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => return TypeSet(None),
        };
        if schema.get("nullable") == Some(&Value::Bool(true)) {
            names.push("null".to_owned());
        }
        let mut unique = Vec::with_capacity(names.len());
        for name in names {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        TypeSet(Some(unique))
    }

    /// Whether a value of type `t` can be valid (`integer` values are numbers too).
    pub(crate) fn admits(&self, t: &str) -> bool {
        match &self.0 {
            None => true,
            Some(names) => covers(names, t) || (t == "number" && covers(names, "integer")),
        }
    }

    /// Whether every value this set allows is allowed by `other`.
    fn within(&self, other: &TypeSet) -> bool {
        match (&self.0, &other.0) {
            (_, None) => true,
            (None, Some(theirs)) => ALL_TYPES.iter().all(|t| covers(theirs, t)),
            (Some(ours), Some(theirs)) => ours.iter().all(|t| covers(theirs, t)),
        }
    }

    fn describe(&self) -> String {
        match &self.0 {
            None => "any type".to_owned(),
            Some(names) if names.len() == 1 => names[0].clone(),
            Some(names) => show(&Value::from(names.clone())),
        }
    }
}

/// Whether `names` allows type `t`.
fn covers(names: &[String], t: &str) -> bool {
    names
        .iter()
        .any(|n| n == t || (t == "integer" && n == "number"))
}

/// `docs/COMPATIBILITY.md` row 12 (widened: backward ✓, forward ✗) and row 13 (narrowed:
/// backward ✗, forward ✓; changed: both ✗).
pub(crate) fn compare_types(diff: &mut Diff<'_>, old: &TypeSet, new: &TypeSet, at: &str) {
    let (widened, narrowed) = (old.within(new), new.within(old));
    let (from, to) = (old.describe(), new.describe());
    let at = child(at, "type");
    match (widened, narrowed) {
        (true, true) => {}
        (true, false) => diff.report(
            Breaks::Forward,
            12,
            at,
            &format!("type widened from {from} to {to}"),
        ),
        (false, true) => diff.report(
            Breaks::Backward,
            13,
            at,
            &format!("type narrowed from {from} to {to}"),
        ),
        (false, false) => diff.report(
            Breaks::Both,
            13,
            at,
            &format!("type changed from {from} to {to}"),
        ),
    }
}

/// The allowed values of `enum` or `const`, and the keyword that gave them.
fn allowed(schema: &Map<String, Value>) -> Option<(&'static str, Vec<&Value>)> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        return Some(("enum", values.iter().collect()));
    }
    schema.get("const").map(|v| ("const", vec![v]))
}

fn list(values: &[&Value]) -> String {
    values
        .iter()
        .map(|v| show(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `docs/COMPATIBILITY.md` row 16: enum values added (backward ✓, forward ✗), removed (✗, ✓),
/// replaced (✗, ✗); an `enum` (or `const`) added is a restriction, one removed a relaxation.
pub(crate) fn compare_enums(
    diff: &mut Diff<'_>,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    at: &str,
) {
    match (allowed(o), allowed(n)) {
        (None, None) => {}
        (None, Some((keyword, new))) => {
            let what = format!("{keyword} added: only {} allowed now", list(&new));
            diff.report(Breaks::Backward, 16, child(at, keyword), &what);
        }
        (Some((keyword, old)), None) => {
            let what = format!("{keyword} removed (it allowed only {})", list(&old));
            diff.report(Breaks::Forward, 16, child(at, keyword), &what);
        }
        (Some((_, old)), Some((keyword, new))) => {
            let added: Vec<&Value> = new.iter().copied().filter(|v| !old.contains(v)).collect();
            let removed: Vec<&Value> = old.iter().copied().filter(|v| !new.contains(v)).collect();
            let at = child(at, keyword);
            match (added.is_empty(), removed.is_empty()) {
                (true, true) => {}
                (false, true) => {
                    let what = format!("{keyword} values added: {}", list(&added));
                    diff.report(Breaks::Forward, 16, at, &what);
                }
                (true, false) => {
                    let what = format!("{keyword} values removed: {}", list(&removed));
                    diff.report(Breaks::Backward, 16, at, &what);
                }
                (false, false) => {
                    let what = format!(
                        "{keyword} values replaced: {} removed, {} added",
                        list(&removed),
                        list(&added)
                    );
                    diff.report(Breaks::Both, 16, at, &what);
                }
            }
        }
    }
}

//! Content models (open, closed, partially open) and members one version lists and the other
//! does not: properties of objects and positions of tuples (`docs/COMPATIBILITY.md` rows 1–4, 6,
//! 7, 10, 11).

use serde_json::Value;

use super::{Breaks, Diff};
use crate::finding::Direction;
use crate::schema::{self, FALSE, TRUE};

/// What an additional-members keyword (`additionalProperties`, `additionalItems`) allows.
#[derive(Clone, Copy)]
pub(crate) enum Rest<'a> {
    /// Absent, `true` or `{}`: anything.
    Open,
    /// `false`: nothing.
    Closed,
    /// A schema every additional member must match.
    Schema(&'a Value),
}

impl<'a> Rest<'a> {
    /// Classifies the keyword's value; `resolved` is the value with its `$ref` followed.
    pub(crate) fn of(value: Option<&'a Value>, resolved: Option<&'a Value>) -> Self {
        match (value, resolved) {
            (Some(value), Some(resolved)) if !schema::accepts_all(resolved) => {
                if schema::rejects_all(resolved) {
                    Rest::Closed
                } else {
                    Rest::Schema(value)
                }
            }
            _ => Rest::Open,
        }
    }

    /// The keyword as a schema: `true`, `false` or the schema.
    pub(crate) fn as_schema(self) -> &'a Value {
        match self {
            Rest::Open => &TRUE,
            Rest::Closed => &FALSE,
            Rest::Schema(s) => s,
        }
    }

    fn describe(self, raw: Option<&Value>) -> String {
        match (self, raw) {
            (Rest::Schema(_), Some(raw)) => format!("the schema {}", schema::show(raw)),
            (_, Some(raw)) => format!("`{}`", schema::show(raw)),
            (_, None) => "absent (anything allowed)".to_owned(),
        }
    }
}

/// A schema that governs members a version does not list, and its name for messages
/// (e.g. "patternProperties `^x-`").
pub(crate) struct Governing<'a> {
    pub schema: &'a Value,
    pub name: String,
}

/// What a version allows for a member it does not list.
pub(crate) enum Slot<'a> {
    /// Any value (an open content model).
    Any,
    /// No value (a closed content model).
    Nothing,
    /// Values matching every one of these schemas (a partially open content model).
    Schemas(Vec<Governing<'a>>),
}

impl Slot<'_> {
    /// The `docs/COMPATIBILITY.md` row of a member added to or removed from a content model like
    /// this one.
    pub(crate) fn rule(&self, closed_rule: u8, open_rule: u8) -> u8 {
        match self {
            Slot::Any => open_rule,
            Slot::Nothing => closed_rule,
            Slot::Schemas(_) => 4,
        }
    }
}

/// A property or tuple position that only one version lists.
pub(crate) struct Member<'a> {
    /// "property `fileId`" or "tuple item 2".
    pub label: String,
    /// Where it is (added) or was (removed), as a pointer into the new schema.
    pub pointer: String,
    /// Its schema in the version that lists it.
    pub schema: &'a Value,
    /// The keyword that closes the content model, for messages ("additionalProperties: false").
    pub closed_by: &'static str,
}

/// A member only the new version lists; `old` is what the old version allowed in its place.
/// `closed_rule` is the row reported when the old version is closed (1, or 5 when required).
pub(crate) fn added<'a>(diff: &mut Diff<'a>, member: &Member<'a>, old: &Slot<'a>, closed_rule: u8) {
    let backward = diff.direction() == Direction::Backward;
    let resolved = diff.new_schema(member.schema);
    let Member {
        label,
        pointer,
        closed_by,
        ..
    } = member;
    match old {
        Slot::Any if backward && !schema::accepts_all(resolved) => {
            let message = format!(
                "{label} added with a schema, but the old version is open (no `{closed_by}`), so old events may carry it with any value and the new version rejects some of them; give it the schema {{}} or close the schema in both versions"
            );
            diff.push(2, pointer.clone(), message);
        }
        Slot::Nothing if !backward && !schema::rejects_all(resolved) => {
            let message = format!(
                "{label} added, but the old version is closed (`{closed_by}`) and rejects events that carry it"
            );
            diff.push(closed_rule, pointer.clone(), message);
        }
        Slot::Schemas(list) => {
            // Backward: old values matched every governing schema, one that the new schema
            // accepts is enough. Forward: the old version checks new values against all of them.
            let misfit = misfit(diff, list, |g| (g.schema, member.schema), !backward);
            if let Some((name, why)) = misfit {
                let message = if backward {
                    format!(
                        "{label} added, but old events could already carry it under {name}, and the new schema does not accept all of those values ({why})"
                    )
                } else {
                    format!(
                        "{label} added; the old version checks it against {name}, which rejects some of what the new schema allows ({why})"
                    )
                };
                diff.push(4, pointer.clone(), message);
            }
        }
        _ => {}
    }
}

/// A member only the old version lists; `new` is what the new version allows in its place.
pub(crate) fn removed<'a>(diff: &mut Diff<'a>, member: &Member<'a>, new: &Slot<'a>) {
    let backward = diff.direction() == Direction::Backward;
    let resolved = diff.old_schema(member.schema);
    let Member {
        label,
        pointer,
        closed_by,
        ..
    } = member;
    match new {
        Slot::Any if !backward && !schema::accepts_all(resolved) => {
            let message = format!(
                "{label} removed while the new version is open (no `{closed_by}`): new events may carry it with any value, but the old version accepts only {} there",
                schema::show(resolved)
            );
            diff.push(6, pointer.clone(), message);
        }
        Slot::Nothing if backward && !schema::rejects_all(resolved) => {
            let message = format!(
                "{label} removed, but the new version is closed (`{closed_by}`): old events that carry it are rejected"
            );
            diff.push(7, pointer.clone(), message);
        }
        Slot::Schemas(list) => {
            let misfit = misfit(diff, list, |g| (member.schema, g.schema), backward);
            if let Some((name, why)) = misfit {
                let message = if backward {
                    format!(
                        "{label} removed; the new version checks it against {name}, which does not accept all the values the old version allowed ({why})"
                    )
                } else {
                    format!(
                        "{label} removed; new events may carry it as {name} allows, and the old schema for it rejects some of that ({why})"
                    )
                };
                diff.push(4, pointer.clone(), message);
            }
        }
        _ => {}
    }
}

/// Checks a member against governing schemas: with `all`, every pair must fit, otherwise one
/// fitting pair is enough. Returns the governing schema's name and the first reason it does not
/// fit.
fn misfit<'a>(
    diff: &Diff<'a>,
    list: &[Governing<'a>],
    pair: impl Fn(&Governing<'a>) -> (&'a Value, &'a Value),
    all: bool,
) -> Option<(String, String)> {
    let mut first = None;
    for governing in list {
        let (old, new) = pair(governing);
        match diff.probe(old, new, String::new()).into_iter().next() {
            None if !all => return None,
            None => {}
            Some(finding) => {
                first.get_or_insert((governing.name.clone(), finding.message));
                if all {
                    break;
                }
            }
        }
    }
    first
}

/// `docs/COMPATIBILITY.md` rows 10 and 11 for an additional-members keyword at `pointer`:
/// relaxed (`false` → `true`, a schema removed) breaks forward, restricted (`true` → `false`, a
/// schema added) breaks backward; two schemas are compared recursively.
pub(crate) fn compare_rest<'a>(
    diff: &mut Diff<'a>,
    (old, old_raw): (Rest<'a>, Option<&'a Value>),
    (new, new_raw): (Rest<'a>, Option<&'a Value>),
    keyword: &str,
    pointer: String,
) {
    let what = |verb: &str| {
        format!(
            "{keyword} {verb} from {} to {}",
            old.describe(old_raw),
            new.describe(new_raw)
        )
    };
    match (old, new) {
        (Rest::Open, Rest::Open) | (Rest::Closed, Rest::Closed) => {}
        (Rest::Schema(a), Rest::Schema(b)) => diff.compare(a, b, pointer),
        (Rest::Closed, _) | (Rest::Schema(_), Rest::Open) => {
            diff.report(Breaks::Forward, 10, pointer, &what("relaxed"));
        }
        (Rest::Open, _) | (Rest::Schema(_), Rest::Closed) => {
            diff.report(Breaks::Backward, 11, pointer, &what("restricted"));
        }
    }
}

//! `anyOf` / `oneOf` (`docs/COMPATIBILITY.md` row 14) and `allOf` (row 15).
//!
//! Branches are matched by compatibility, not position: for a sum (`anyOf`, `oneOf`) every
//! branch the writer may use needs a reader branch that accepts it; for a product (`allOf`)
//! every reader branch needs a writer branch that implies it. When no branch matches and both
//! versions have as many branches, the branches at the same position are compared in detail.

use serde_json::{Map, Value};

use super::Diff;
use crate::finding::Direction;
use crate::schema::{TRUE, path};

fn branches<'a>(map: &'a Map<String, Value>, keyword: &str) -> Option<&'a [Value]> {
    map.get(keyword)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
}

/// Compares the combinators of two schemas. `anyOf` and `oneOf` count as the same kind when each
/// version uses only one of them (`oneOf`'s exclusivity is not checked).
pub(crate) fn compare<'a>(
    diff: &mut Diff<'a>,
    o: &'a Map<String, Value>,
    n: &'a Map<String, Value>,
    at: &str,
) {
    let sum = |m: &'a Map<String, Value>| match (branches(m, "anyOf"), branches(m, "oneOf")) {
        (Some(a), None) => Some(("anyOf", a)),
        (None, Some(b)) => Some(("oneOf", b)),
        _ => None,
    };
    let has_both = |m: &Map<String, Value>| m.contains_key("anyOf") && m.contains_key("oneOf");
    if has_both(o) || has_both(n) {
        for keyword in ["anyOf", "oneOf"] {
            if o.contains_key(keyword) || n.contains_key(keyword) {
                let (old, new) = (branches(o, keyword), branches(n, keyword));
                compare_sum(diff, (keyword, old), (keyword, new), at);
            }
        }
    } else {
        match (sum(o), sum(n)) {
            (None, None) => {}
            (Some(old), None) => compare_sum(diff, (old.0, Some(old.1)), (old.0, None), at),
            (None, Some(new)) => compare_sum(diff, (new.0, None), (new.0, Some(new.1)), at),
            (Some(old), Some(new)) => {
                compare_sum(diff, (old.0, Some(old.1)), (new.0, Some(new.1)), at);
            }
        }
    }
    if o.contains_key("allOf") || n.contains_key("allOf") {
        compare_product(
            diff,
            branches(o, "allOf").unwrap_or(&[]),
            branches(n, "allOf").unwrap_or(&[]),
            at,
        );
    }
}

/// Which side's branches must each be covered by a branch of the other.
#[derive(Clone, Copy)]
enum Covered {
    /// Every old branch fits into some new one.
    Old,
    /// Every new branch has an old one fitting into it.
    New,
}

/// Checks that each branch of one side is covered by a branch of the other. A branch that is
/// not is compared in detail with its positional twin when both sides have as many branches, and
/// otherwise reported: `report(i)` gives the pointer, the rule and the message.
fn cover<'a>(
    diff: &mut Diff<'a>,
    old: &'a [Value],
    new: &'a [Value],
    side: Covered,
    twin: impl Fn(usize) -> String,
    report: impl Fn(usize) -> (String, u8, String),
) {
    let branches = match side {
        Covered::Old => old,
        Covered::New => new,
    };
    for (i, branch) in branches.iter().enumerate() {
        let covered = match side {
            Covered::Old => new.iter().any(|b| diff.fits(branch, b)),
            Covered::New => old.iter().any(|a| diff.fits(a, branch)),
        };
        if covered {
            continue;
        }
        if old.len() == new.len() {
            diff.compare(&old[i], &new[i], twin(i));
        } else {
            let (pointer, rule, message) = report(i);
            diff.push(rule, pointer, message);
        }
    }
}

/// `docs/COMPATIBILITY.md` row 14. An absent sum is one branch that accepts everything.
fn compare_sum<'a>(
    diff: &mut Diff<'a>,
    (old_keyword, old): (&str, Option<&'a [Value]>),
    (new_keyword, new): (&str, Option<&'a [Value]>),
    at: &str,
) {
    let everything = std::slice::from_ref(&TRUE);
    let (old, new) = (old.unwrap_or(everything), new.unwrap_or(everything));
    let pointer = |i: usize| path(at, &[new_keyword, &i.to_string()]);
    match diff.direction() {
        Direction::Backward => cover(diff, old, new, Covered::Old, pointer, |i| {
            (
                path(at, &[new_keyword]),
                14,
                format!(
                    "{old_keyword} branch {i} of the old version is gone: no branch of the new {new_keyword} accepts everything it accepted, so old events matching only it are rejected"
                ),
            )
        }),
        Direction::Forward => cover(diff, old, new, Covered::New, pointer, |j| {
            (
                pointer(j),
                14,
                format!(
                    "{new_keyword} branch {j} added: no branch of the old {old_keyword} accepts everything it allows, so the old version rejects events matching only it"
                ),
            )
        }),
    }
}

/// `docs/COMPATIBILITY.md` row 15. An absent `allOf` has no branches.
fn compare_product<'a>(diff: &mut Diff<'a>, old: &'a [Value], new: &'a [Value], at: &str) {
    let pointer = |i: usize| path(at, &["allOf", &i.to_string()]);
    match diff.direction() {
        Direction::Backward => cover(diff, old, new, Covered::New, pointer, |j| {
            (
                pointer(j),
                15,
                format!(
                    "allOf branch {j} added: old events were not required to match it, so the new version rejects some of them"
                ),
            )
        }),
        Direction::Forward => cover(diff, old, new, Covered::Old, pointer, |i| {
            (
                path(at, &["allOf"]),
                15,
                format!(
                    "allOf branch {i} of the old version removed: new events need not match it, but the old version requires them to"
                ),
            )
        }),
    }
}

//! `anyOf` / `oneOf` (row 14) and `allOf` (row 15).
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

/// Row 14. An absent sum is one branch that accepts everything.
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
        Direction::Backward => {
            for (i, branch) in old.iter().enumerate() {
                if new.iter().any(|b| diff.fits(branch, b)) {
                    continue;
                }
                if old.len() == new.len() {
                    diff.compare(branch, &new[i], pointer(i));
                } else {
                    let message = format!(
                        "{old_keyword} branch {i} of the old version is gone: no branch of the new {new_keyword} accepts everything it accepted, so old events matching only it are rejected"
                    );
                    diff.push(14, path(at, &[new_keyword]), message);
                }
            }
        }
        Direction::Forward => {
            for (j, branch) in new.iter().enumerate() {
                if old.iter().any(|a| diff.fits(a, branch)) {
                    continue;
                }
                if old.len() == new.len() {
                    diff.compare(&old[j], branch, pointer(j));
                } else {
                    let message = format!(
                        "{new_keyword} branch {j} added: no branch of the old {old_keyword} accepts everything it allows, so the old version rejects events matching only it"
                    );
                    diff.push(14, pointer(j), message);
                }
            }
        }
    }
}

/// Row 15. An absent `allOf` has no branches.
fn compare_product<'a>(diff: &mut Diff<'a>, old: &'a [Value], new: &'a [Value], at: &str) {
    let pointer = |i: usize| path(at, &["allOf", &i.to_string()]);
    match diff.direction() {
        Direction::Backward => {
            for (j, branch) in new.iter().enumerate() {
                if old.iter().any(|a| diff.fits(a, branch)) {
                    continue;
                }
                if old.len() == new.len() {
                    diff.compare(&old[j], branch, pointer(j));
                } else {
                    let message = format!(
                        "allOf branch {j} added: old events were not required to match it, so the new version rejects some of them"
                    );
                    diff.push(15, pointer(j), message);
                }
            }
        }
        Direction::Forward => {
            for (i, branch) in old.iter().enumerate() {
                if new.iter().any(|b| diff.fits(branch, b)) {
                    continue;
                }
                if old.len() == new.len() {
                    diff.compare(branch, &new[i], pointer(i));
                } else {
                    let message = format!(
                        "allOf branch {i} of the old version removed: new events need not match it, but the old version requires them to"
                    );
                    diff.push(15, path(at, &["allOf"]), message);
                }
            }
        }
    }
}

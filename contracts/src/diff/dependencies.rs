//! `dependencies`, `dependentRequired`, `dependentSchemas` (`docs/COMPATIBILITY.md` row 22).

use serde_json::{Map, Value};

use super::{Breaks, Diff};
use crate::schema::{self, path};

/// One dependency: when `name` is present, these properties are required / this schema applies.
enum Dependency<'a> {
    Names(Vec<&'a str>),
    Schema(&'a Value),
}

struct Entry<'a> {
    keyword: &'static str,
    name: &'a str,
    dependency: Dependency<'a>,
}

fn read(map: &Map<String, Value>) -> Vec<Entry<'_>> {
    let mut entries = Vec::new();
    for keyword in ["dependencies", "dependentRequired", "dependentSchemas"] {
        let Some(deps) = map.get(keyword).and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in deps {
            let dependency = match value {
                Value::Array(names) => {
                    Dependency::Names(names.iter().filter_map(Value::as_str).collect())
                }
                schema => Dependency::Schema(schema),
            };
            entries.push(Entry {
                keyword,
                name,
                dependency,
            });
        }
    }
    entries
}

fn same_kind(a: &Dependency<'_>, b: &Dependency<'_>) -> bool {
    matches!(
        (a, b),
        (Dependency::Names(_), Dependency::Names(_))
            | (Dependency::Schema(_), Dependency::Schema(_))
    )
}

/// The entry of `entries` for the same property and of the same kind as `e`.
fn find<'e, 'a>(entries: &'e [Entry<'a>], e: &Entry<'_>) -> Option<&'e Entry<'a>> {
    entries
        .iter()
        .find(|x| x.name == e.name && same_kind(&x.dependency, &e.dependency))
}

fn names(list: &[&str]) -> String {
    list.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `docs/COMPATIBILITY.md` row 22: a dependency removed or narrowed breaks forward, one added or
/// extended breaks backward; schema dependencies are compared recursively.
pub(crate) fn compare<'a>(
    diff: &mut Diff<'a>,
    o: &'a Map<String, Value>,
    n: &'a Map<String, Value>,
    at: &str,
) {
    let (old, new) = (read(o), read(n));
    for entry in &old {
        let name = entry.name;
        match (&entry.dependency, find(&new, entry)) {
            (
                Dependency::Names(before),
                Some(Entry {
                    dependency: Dependency::Names(after),
                    keyword,
                    ..
                }),
            ) => compare_names(diff, name, (before, after), path(at, &[keyword, name])),
            (
                Dependency::Schema(a),
                Some(Entry {
                    dependency: Dependency::Schema(b),
                    keyword,
                    ..
                }),
            ) => diff.compare(a, b, path(at, &[keyword, name])),
            _ => removed(diff, entry, at),
        }
    }
    for entry in new.iter().filter(|e| find(&old, e).is_none()) {
        added(diff, entry, at);
    }
}

/// A property dependency in both versions: names it requires added (backward) or dropped
/// (forward).
fn compare_names(
    diff: &mut Diff<'_>,
    name: &str,
    (before, after): (&[&str], &[&str]),
    pointer: String,
) {
    let more: Vec<&str> = after
        .iter()
        .copied()
        .filter(|x| !before.contains(x))
        .collect();
    let fewer: Vec<&str> = before
        .iter()
        .copied()
        .filter(|x| !after.contains(x))
        .collect();
    if !more.is_empty() {
        let what = format!(
            "dependency of `{name}` extended: when `{name}` is present, {} is now required too",
            names(&more)
        );
        diff.report(Breaks::Backward, 22, pointer.clone(), &what);
    }
    if !fewer.is_empty() {
        let what = format!(
            "dependency of `{name}` narrowed: {} no longer required with it",
            names(&fewer)
        );
        diff.report(Breaks::Forward, 22, pointer, &what);
    }
}

/// A dependency only the old version has (or of another kind in the new one): a relaxation,
/// unless it was a schema dependency that accepted everything.
fn removed<'a>(diff: &mut Diff<'a>, entry: &Entry<'a>, at: &str) {
    let name = entry.name;
    let what = match &entry.dependency {
        Dependency::Names(list) => format!(
            "dependency of `{name}` removed (it required {} with it)",
            names(list)
        ),
        Dependency::Schema(s) if schema::accepts_all(diff.old_schema(s)) => return,
        Dependency::Schema(_) => format!("schema dependency of `{name}` removed"),
    };
    diff.report(Breaks::Forward, 22, path(at, &[entry.keyword, name]), &what);
}

/// A dependency only the new version has: a restriction, unless it is a schema dependency that
/// accepts everything.
fn added<'a>(diff: &mut Diff<'a>, entry: &Entry<'a>, at: &str) {
    let name = entry.name;
    let what = match &entry.dependency {
        Dependency::Names(list) => format!(
            "dependency added: when `{name}` is present, {} is now required",
            names(list)
        ),
        Dependency::Schema(s) if schema::accepts_all(diff.new_schema(s)) => return,
        Dependency::Schema(_) => format!("schema dependency of `{name}` added"),
    };
    diff.report(
        Breaks::Backward,
        22,
        path(at, &[entry.keyword, name]),
        &what,
    );
}

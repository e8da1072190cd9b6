//! The comparison of two schema versions, keyword by keyword.
//!
//! One walk over the old and the new schema evaluates one direction: for
//! [`Direction::Backward`] the new schema is the reader and the old one the writer, for
//! [`Direction::Forward`] the other way round. Rule numbers are the rows of
//! `docs/COMPATIBILITY.md` and always describe the change from old to new; pointers always point
//! into the new schema. Row 24 (`{}`, `true` or `false` on either side) is decided here, the
//! other rows in the submodules.

mod array;
mod bounds;
mod combinators;
mod content;
mod dependencies;
mod object;
mod types;

use serde_json::{Map, Value};

use crate::finding::{Direction, Finding};
use crate::schema::{self, Kind};

/// Nesting depth at which the walk stops (a guard against pathological schemas).
const MAX_DEPTH: usize = 256;

/// All findings of one direction, without duplicates (a `$ref`'d definition used twice reports
/// once).
pub(crate) fn findings(old: &Value, new: &Value, direction: Direction) -> Vec<Finding> {
    let mut diff = Diff::new(old, new, direction);
    diff.compare(old, new, String::new());
    let mut unique: Vec<Finding> = Vec::with_capacity(diff.findings.len());
    for finding in diff.findings {
        if !unique.contains(&finding) {
            unique.push(finding);
        }
    }
    unique
}

/// Which direction(s) a change breaks, described from old to new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaks {
    /// A restriction: the new version rejects some old events.
    Backward,
    /// A relaxation: the old version rejects some new events.
    Forward,
    /// Both.
    Both,
}

impl Breaks {
    fn includes(self, direction: Direction) -> bool {
        match self {
            Breaks::Both => true,
            Breaks::Backward => direction == Direction::Backward,
            Breaks::Forward => direction == Direction::Forward,
        }
    }
}

/// One walk over an old and a new schema document.
pub(crate) struct Diff<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    direction: Direction,
    findings: Vec<Finding>,
    /// (old, new) schema pairs being compared further up: a recursive `$ref` that comes back to
    /// one of them is assumed compatible.
    active: Vec<(usize, usize)>,
}

impl<'a> Diff<'a> {
    fn new(old_root: &'a Value, new_root: &'a Value, direction: Direction) -> Self {
        Diff {
            old_root,
            new_root,
            direction,
            findings: Vec::new(),
            active: Vec::new(),
        }
    }

    /// The direction this walk checks.
    pub(crate) fn direction(&self) -> Direction {
        self.direction
    }

    /// Compares the subschemas `old` and `new`; `at` is the pointer of `new` in its document.
    pub(crate) fn compare(&mut self, old: &'a Value, new: &'a Value, at: String) {
        let old = schema::resolve(self.old_root, old).value;
        let resolved = schema::resolve(self.new_root, new);
        let new = resolved.value;
        let at = resolved.pointer.unwrap_or(at);
        let key = (
            std::ptr::from_ref(old) as usize,
            std::ptr::from_ref(new) as usize,
        );
        if self.active.contains(&key) || self.active.len() >= MAX_DEPTH {
            return;
        }
        self.active.push(key);
        self.compare_resolved(old, new, &at);
        self.active.pop();
    }

    /// The findings comparing `old` and `new` would give, without recording them.
    pub(crate) fn probe(&self, old: &'a Value, new: &'a Value, at: String) -> Vec<Finding> {
        let mut sub = Diff {
            old_root: self.old_root,
            new_root: self.new_root,
            direction: self.direction,
            findings: Vec::new(),
            active: self.active.clone(),
        };
        sub.compare(old, new, at);
        sub.findings
    }

    /// Whether comparing `old` and `new` finds nothing.
    pub(crate) fn fits(&self, old: &'a Value, new: &'a Value) -> bool {
        self.probe(old, new, String::new()).is_empty()
    }

    /// Resolves a subschema of the old document.
    pub(crate) fn old_schema(&self, schema: &'a Value) -> &'a Value {
        schema::resolve(self.old_root, schema).value
    }

    /// Resolves a subschema of the new document.
    pub(crate) fn new_schema(&self, schema: &'a Value) -> &'a Value {
        schema::resolve(self.new_root, schema).value
    }

    /// Records a finding as it is (the caller decided it breaks this walk's direction).
    pub(crate) fn push(&mut self, rule: u8, pointer: String, message: String) {
        self.findings.push(Finding {
            pointer,
            rule,
            message,
            direction: self.direction,
        });
    }

    /// Records `what` changed if it breaks this walk's direction, saying why it breaks.
    pub(crate) fn report(&mut self, breaks: Breaks, rule: u8, pointer: String, what: &str) {
        if !breaks.includes(self.direction) {
            return;
        }
        let why = match self.direction {
            Direction::Backward => "the new version rejects some events the old one accepted",
            Direction::Forward => "the old version rejects some events the new one produces",
        };
        self.push(rule, pointer, format!("{what}: {why}"));
    }

    /// `docs/COMPATIBILITY.md` row 24 when either schema is trivial (`{}`, `true`, `false`),
    /// otherwise the keyword-by-keyword comparison.
    fn compare_resolved(&mut self, old: &'a Value, new: &'a Value, at: &str) {
        let backward = self.direction == Direction::Backward;
        match (schema::kind(old), schema::kind(new)) {
            (old_kind, Kind::AcceptAll) => {
                if !backward && !matches!(old_kind, Kind::AcceptAll) {
                    self.push(24, at.to_owned(), "the schema here now accepts any value (`{}` or `true`) but the old one restricts it: the old version rejects some events the new one produces".to_owned());
                }
            }
            (Kind::RejectAll, new_kind) => {
                if !backward && !matches!(new_kind, Kind::RejectAll) {
                    self.push(24, at.to_owned(), "the old schema here is `false` and accepts no value, the new one accepts some: the old version rejects those events".to_owned());
                }
            }
            (_, Kind::RejectAll) => {
                if backward {
                    self.push(24, at.to_owned(), "the schema here is now `false` and rejects every value: events valid under the old version are rejected".to_owned());
                }
            }
            (Kind::AcceptAll, _) => {
                if backward {
                    self.push(24, at.to_owned(), format!("the old schema here accepted any value (`{{}}` or `true`), the new one restricts it to {}: old events may be rejected", schema::show(new)));
                }
            }
            (Kind::Object(o), Kind::Object(n)) => self.compare_objects(o, n, at),
        }
    }

    /// Both schemas constrain values: compare keyword by keyword.
    fn compare_objects(&mut self, o: &'a Map<String, Value>, n: &'a Map<String, Value>, at: &str) {
        let old_types = types::TypeSet::of(o);
        let new_types = types::TypeSet::of(n);
        types::compare_types(self, &old_types, &new_types, at);
        types::compare_enums(self, o, n, at);
        let both = |t: &str| old_types.admits(t) && new_types.admits(t);
        if both("string") {
            bounds::compare_strings(self, o, n, at);
        }
        if both("number") || both("integer") {
            bounds::compare_numbers(self, o, n, at);
        }
        if both("array") {
            bounds::compare_arrays(self, o, n, at);
            array::compare_items(self, o, n, at);
        }
        if both("object") {
            bounds::compare_object_sizes(self, o, n, at);
            object::compare(self, o, n, at);
        }
        combinators::compare(self, o, n, at);
    }
}

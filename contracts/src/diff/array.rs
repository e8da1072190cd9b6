//! Array items: `items` as one schema for every item, or as a tuple (`items` array with
//! `additionalItems`, or Draft 2020-12's `prefixItems` with `items`). Tuple positions follow
//! the object rows of `docs/COMPATIBILITY.md` (1–4, 6, 7, 10, 11).

use serde_json::{Map, Value};

use super::Diff;
use super::content::{self, Governing, Member, Rest, Slot};
use crate::schema::{TRUE, child, path};

/// The item schemas of one version.
struct Items<'a> {
    /// Schemas by position (empty for the list form).
    tuple: &'a [Value],
    /// The keyword holding `tuple`.
    tuple_keyword: &'static str,
    /// The schema of items past the tuple (the list form: of every item).
    rest: Option<&'a Value>,
    /// The keyword holding `rest`.
    rest_keyword: &'static str,
    /// `items` is a single schema (or absent).
    list: bool,
}

impl<'a> Items<'a> {
    fn read(map: &'a Map<String, Value>) -> Self {
        let (tuple, tuple_keyword, rest_keyword) = match (map.get("prefixItems"), map.get("items"))
        {
            (Some(Value::Array(t)), _) => (Some(t), "prefixItems", "items"),
            (_, Some(Value::Array(t))) => (Some(t), "items", "additionalItems"),
            _ => (None, "items", "items"),
        };
        Items {
            tuple: tuple.map_or(&[][..], Vec::as_slice),
            tuple_keyword,
            rest: map.get(rest_keyword),
            rest_keyword,
            list: tuple.is_none(),
        }
    }

    fn closed_by(&self) -> &'static str {
        if self.rest_keyword == "additionalItems" {
            "additionalItems: false"
        } else {
            "items: false"
        }
    }

    fn slot(&self, rest: Rest<'a>) -> Slot<'a> {
        match rest {
            Rest::Open => Slot::Any,
            Rest::Closed => Slot::Nothing,
            Rest::Schema(schema) => Slot::Schemas(vec![Governing {
                schema,
                name: format!("`{}`", self.rest_keyword),
            }]),
        }
    }
}

/// Compares the item schemas of two array schemas. Tuple positions are members like
/// properties: one only the new version lists goes by the old `additionalItems`
/// (`docs/COMPATIBILITY.md` rows 1–4), one only the old version lists by the new one (rows 4,
/// 6, 7).
pub(crate) fn compare_items<'a>(
    diff: &mut Diff<'a>,
    o: &'a Map<String, Value>,
    n: &'a Map<String, Value>,
    at: &str,
) {
    let (old, new) = (Items::read(o), Items::read(n));
    if old.list && new.list {
        if old.rest.is_some() || new.rest.is_some() {
            let (a, b) = (old.rest.unwrap_or(&TRUE), new.rest.unwrap_or(&TRUE));
            diff.compare(a, b, child(at, "items"));
        }
        return;
    }
    let old_rest = Rest::of(old.rest, old.rest.map(|v| diff.old_schema(v)));
    let new_rest = Rest::of(new.rest, new.rest.map(|v| diff.new_schema(v)));
    for i in 0..old.tuple.len().max(new.tuple.len()) {
        let index = i.to_string();
        let pointer = if new.list {
            child(at, "items")
        } else {
            path(at, &[new.tuple_keyword, &index])
        };
        match (old.tuple.get(i), new.tuple.get(i)) {
            (Some(a), Some(b)) => diff.compare(a, b, pointer),
            (None, Some(b)) => {
                let member = Member {
                    label: format!("tuple item {i}"),
                    pointer,
                    schema: b,
                    closed_by: old.closed_by(),
                };
                content::added(diff, &member, &old.slot(old_rest), 1);
            }
            (Some(a), None) => {
                let member = Member {
                    label: format!("tuple item {i}"),
                    pointer,
                    schema: a,
                    closed_by: new.closed_by(),
                };
                content::removed(diff, &member, &new.slot(new_rest));
            }
            (None, None) => {}
        }
    }
    content::compare_rest(
        diff,
        (old_rest, old.rest),
        (new_rest, new.rest),
        new.rest_keyword,
        child(at, new.rest_keyword),
    );
}

//! Objects: properties, `required`, `additionalProperties`, `patternProperties`
//! (`docs/COMPATIBILITY.md` rows 1–11) and dependencies (row 22).

use serde_json::{Map, Value};

use super::content::{self, Governing, Member, Rest, Slot};
use super::{Diff, dependencies};
use crate::finding::Direction;
use crate::pattern::Pattern;
use crate::schema::{child, path};

/// The content model of one version of an object schema.
struct Model<'a> {
    patterns: Vec<(&'a str, Option<Pattern>, &'a Value)>,
    additional: Rest<'a>,
    additional_raw: Option<&'a Value>,
}

impl<'a> Model<'a> {
    fn read(map: &'a Map<String, Value>, resolve: impl Fn(&'a Value) -> &'a Value) -> Self {
        let patterns = map
            .get("patternProperties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(key, schema)| (key.as_str(), Pattern::new(key).ok(), schema))
            .collect();
        let additional_raw = map.get("additionalProperties");
        Model {
            patterns,
            additional: Rest::of(additional_raw, additional_raw.map(resolve)),
            additional_raw,
        }
    }

    /// What this version allows for a property it does not list: the schemas of the matching
    /// patterns, or else `additionalProperties`. A pattern this checker cannot use (malformed,
    /// or refused by [`Pattern::new`]) matches nothing.
    fn slot(&self, name: &str) -> Slot<'a> {
        let matching: Vec<Governing<'a>> = self
            .patterns
            .iter()
            .filter(|(_, pattern, _)| pattern.as_ref().is_some_and(|p| p.is_match(name)))
            .map(|&(key, _, schema)| Governing {
                schema,
                name: format!("patternProperties `{key}`"),
            })
            .collect();
        if !matching.is_empty() {
            return Slot::Schemas(matching);
        }
        match self.additional {
            Rest::Open => Slot::Any,
            Rest::Closed => Slot::Nothing,
            Rest::Schema(schema) => Slot::Schemas(vec![Governing {
                schema,
                name: "additionalProperties".to_owned(),
            }]),
        }
    }
}

fn properties(map: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    map.get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

fn required(map: &Map<String, Value>) -> Vec<&str> {
    map.get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn has_default(resolved: Option<&Value>) -> bool {
    resolved.is_some_and(|s| s.get("default").is_some())
}

/// The two versions of one object schema.
struct Pair<'a, 'm> {
    o: &'a Map<String, Value>,
    n: &'a Map<String, Value>,
    at: &'m str,
    old: Model<'a>,
    new: Model<'a>,
    old_required: Vec<&'a str>,
    new_required: Vec<&'a str>,
}

/// Compares two object schemas.
pub(crate) fn compare<'a>(
    diff: &mut Diff<'a>,
    o: &'a Map<String, Value>,
    n: &'a Map<String, Value>,
    at: &str,
) {
    let pair = Pair {
        o,
        n,
        at,
        old: Model::read(o, |v| diff.old_schema(v)),
        new: Model::read(n, |v| diff.new_schema(v)),
        old_required: required(o),
        new_required: required(n),
    };
    compare_properties(diff, &pair);
    compare_required(diff, &pair);
    content::compare_rest(
        diff,
        (pair.old.additional, pair.old.additional_raw),
        (pair.new.additional, pair.new.additional_raw),
        "additionalProperties",
        child(at, "additionalProperties"),
    );
    compare_patterns(diff, &pair);
    dependencies::compare(diff, o, n, at);
}

fn member<'a>(at: &str, name: &str, schema: &'a Value) -> Member<'a> {
    Member {
        label: format!("property `{name}`"),
        pointer: path(at, &["properties", name]),
        schema,
        closed_by: "additionalProperties: false",
    }
}

/// Properties in both versions are compared recursively; added ones go by the old content
/// model (`docs/COMPATIBILITY.md` rows 1–5), removed ones by the new one (rows 4, 6, 7).
fn compare_properties<'a>(diff: &mut Diff<'a>, p: &Pair<'a, '_>) {
    let backward = diff.direction() == Direction::Backward;
    for (name, old_schema) in properties(p.o) {
        if let Some(new_schema) = p.n.get("properties").and_then(|ps| ps.get(name)) {
            diff.compare(old_schema, new_schema, path(p.at, &["properties", name]));
            continue;
        }
        let member = member(p.at, name, old_schema);
        let slot = p.new.slot(name);
        content::removed(diff, &member, &slot);
        let dropped =
            p.old_required.contains(&name.as_str()) && !p.new_required.contains(&name.as_str());
        if !backward && dropped && !has_default(Some(diff.old_schema(old_schema))) {
            let message = format!(
                "{} removed, but the old version requires it: new events lack it",
                member.label
            );
            diff.push(slot.rule(7, 6), member.pointer, message);
        }
    }
    for (name, new_schema) in properties(p.n) {
        if p.o.get("properties").and_then(|ps| ps.get(name)).is_some() {
            continue;
        }
        let member = member(p.at, name, new_schema);
        let now_required = p.new_required.contains(&name.as_str());
        let closed_rule = if now_required { 5 } else { 1 };
        content::added(diff, &member, &p.old.slot(name), closed_rule);
        let newly = now_required && !p.old_required.contains(&name.as_str());
        if backward && newly && !has_default(Some(diff.new_schema(new_schema))) {
            let message = format!(
                "required {} added without a default: events from the old version don't have it; give it a `default` or make it optional",
                member.label
            );
            diff.push(5, member.pointer, message);
        }
    }
}

/// `required` changes of properties that are not themselves added or removed, by the rows of
/// `docs/COMPATIBILITY.md`: optional → required (row 8, or row 5 for a name no version
/// defines), required → optional (row 9). A `default` in the reader's schema for the property
/// makes the change compatible.
fn compare_required<'a>(diff: &mut Diff<'a>, p: &Pair<'a, '_>) {
    let defined =
        |map: &'a Map<String, Value>, name: &str| map.get("properties").and_then(|ps| ps.get(name));
    let pointer = child(p.at, "required");
    match diff.direction() {
        Direction::Backward => {
            for &name in p
                .new_required
                .iter()
                .filter(|n| !p.old_required.contains(n))
            {
                let (before, after) = (defined(p.o, name), defined(p.n, name));
                if before.is_none() && after.is_some() {
                    continue; // a required property added: compare_properties reports it
                }
                if has_default(after.map(|s| diff.new_schema(s))) {
                    continue;
                }
                let (rule, message) = if before.is_some() {
                    (
                        8,
                        format!(
                            "property `{name}` became required without a default: old events may lack it; give it a `default` or keep it optional"
                        ),
                    )
                } else {
                    (
                        5,
                        format!(
                            "`{name}` added to `required` without a default: old events may lack it"
                        ),
                    )
                };
                diff.push(rule, pointer.clone(), message);
            }
        }
        Direction::Forward => {
            for &name in p
                .old_required
                .iter()
                .filter(|n| !p.new_required.contains(n))
            {
                let (before, after) = (defined(p.o, name), defined(p.n, name));
                if before.is_some() && after.is_none() {
                    continue; // a required property removed: compare_properties reports it
                }
                if has_default(before.map(|s| diff.old_schema(s))) {
                    continue;
                }
                let message = format!(
                    "property `{name}` is no longer required: new events may omit it, but the old version requires it"
                );
                diff.push(9, pointer.clone(), message);
            }
        }
    }
}

/// `patternProperties`: the same pattern in both versions is compared recursively; a pattern
/// added or removed moves the names it matches between it and `additionalProperties`, and is
/// reported under `docs/COMPATIBILITY.md` row 11 when that restricts (backward) or row 10 when
/// it relaxes (forward).
fn compare_patterns<'a>(diff: &mut Diff<'a>, p: &Pair<'a, '_>) {
    let rule = match diff.direction() {
        Direction::Backward => 11,
        Direction::Forward => 10,
    };
    for &(key, _, old_schema) in &p.old.patterns {
        let pointer = path(p.at, &["patternProperties", key]);
        match p.new.patterns.iter().find(|(k, _, _)| *k == key) {
            Some(&(_, _, new_schema)) => diff.compare(old_schema, new_schema, pointer),
            None => {
                let catch_all = p.new.additional.as_schema();
                if let Some(why) = diff
                    .probe(old_schema, catch_all, String::new())
                    .into_iter()
                    .next()
                {
                    let message = format!(
                        "patternProperties `{key}` removed; the properties it matched now fall under additionalProperties ({})",
                        why.message
                    );
                    diff.push(rule, pointer, message);
                }
            }
        }
    }
    for &(key, _, new_schema) in &p.new.patterns {
        if p.old.patterns.iter().any(|(k, _, _)| *k == key) {
            continue;
        }
        let catch_all = p.old.additional.as_schema();
        if let Some(why) = diff
            .probe(catch_all, new_schema, String::new())
            .into_iter()
            .next()
        {
            let message = format!(
                "patternProperties `{key}` added; the properties it matches fell under additionalProperties before ({})",
                why.message
            );
            diff.push(rule, path(p.at, &["patternProperties", key]), message);
        }
    }
}

//! Bounds on strings (`docs/COMPATIBILITY.md` rows 17, 18), numbers (19, 20), arrays (21) and
//! objects (22).

use serde_json::{Map, Value};

use super::{Breaks, Diff};
use crate::schema::{child, show};

/// How a bound moved from old to new.
enum Move {
    Same,
    /// Fewer values are rejected (breaks forward).
    Looser(String),
    /// More values are rejected (breaks backward).
    Tighter(String),
}

impl Move {
    /// Reports the move under `loose_rule` or `tight_rule`.
    fn report(self, diff: &mut Diff<'_>, at: String, loose_rule: u8, tight_rule: u8) {
        match self {
            Move::Same => {}
            Move::Looser(what) => diff.report(Breaks::Forward, loose_rule, at, &what),
            Move::Tighter(what) => diff.report(Breaks::Backward, tight_rule, at, &what),
        }
    }
}

fn number(map: &Map<String, Value>, keyword: &str) -> Option<(f64, String)> {
    map.get(keyword)
        .and_then(|v| v.as_f64().map(|f| (f, show(v))))
}

/// A `max…` keyword (`upper`) or a `min…` one, compared between the versions.
fn limit(keyword: &str, o: &Map<String, Value>, n: &Map<String, Value>, upper: bool) -> Move {
    match (number(o, keyword), number(n, keyword)) {
        (None, None) => Move::Same,
        (Some((_, a)), None) => Move::Looser(format!("{keyword} removed (was {a})")),
        (None, Some((_, b))) => Move::Tighter(format!("{keyword} added ({b})")),
        (Some((a, _)), Some((b, _))) if a == b => Move::Same,
        (Some((a, x)), Some((b, y))) => {
            let verb = if b > a { "raised" } else { "lowered" };
            let what = format!("{keyword} {verb} from {x} to {y}");
            if (b > a) == upper {
                Move::Looser(what)
            } else {
                Move::Tighter(what)
            }
        }
    }
}

/// Compares a `max…` and a `min…` keyword and reports each under the same pair of rules.
fn limits(
    diff: &mut Diff<'_>,
    (o, n, at): (&Map<String, Value>, &Map<String, Value>, &str),
    (max, min): (&str, &str),
    (loose_rule, tight_rule): (u8, u8),
) {
    limit(max, o, n, true).report(diff, child(at, max), loose_rule, tight_rule);
    limit(min, o, n, false).report(diff, child(at, min), loose_rule, tight_rule);
}

/// `docs/COMPATIBILITY.md` rows 17 and 18: `maxLength`, `minLength`, `pattern`.
pub(crate) fn compare_strings(
    diff: &mut Diff<'_>,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    at: &str,
) {
    limits(diff, (o, n, at), ("maxLength", "minLength"), (17, 18));
    let pointer = child(at, "pattern");
    match (o.get("pattern"), n.get("pattern")) {
        (None, None) => {}
        (Some(a), None) => diff.report(
            Breaks::Forward,
            17,
            pointer,
            &format!("pattern {} removed", show(a)),
        ),
        (None, Some(b)) => diff.report(
            Breaks::Backward,
            18,
            pointer,
            &format!("pattern {} added", show(b)),
        ),
        (Some(a), Some(b)) if a != b => {
            let what = format!("pattern changed from {} to {}", show(a), show(b));
            diff.report(Breaks::Both, 18, pointer, &what);
        }
        _ => {}
    }
}

/// A numeric bound after reading `maximum` / `exclusiveMaximum` (or the minimum pair) in
/// either draft: Draft 4's boolean `exclusiveMaximum` modifies `maximum`, Draft 6's number is a
/// bound of its own. The two forms are told apart by the keyword's value type.
struct Bound {
    value: f64,
    exclusive: bool,
    keyword: &'static str,
    text: String,
}

impl Bound {
    fn read(map: &Map<String, Value>, upper: bool) -> Option<Bound> {
        let (inclusive_kw, exclusive_kw) = if upper {
            ("maximum", "exclusiveMaximum")
        } else {
            ("minimum", "exclusiveMinimum")
        };
        let plain = number(map, inclusive_kw).map(|(value, text)| Bound {
            value,
            exclusive: map.get(exclusive_kw) == Some(&Value::Bool(true)),
            keyword: inclusive_kw,
            text,
        });
        let strict = number(map, exclusive_kw).map(|(value, text)| Bound {
            value,
            exclusive: true,
            keyword: exclusive_kw,
            text,
        });
        match (plain, strict) {
            (Some(a), Some(b)) => Some(if a.tighter_than(&b, upper) { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    fn tighter_than(&self, other: &Bound, upper: bool) -> bool {
        if self.value == other.value {
            self.exclusive && !other.exclusive
        } else {
            (self.value < other.value) == upper
        }
    }

    fn describe(&self, upper: bool) -> String {
        let op = match (upper, self.exclusive) {
            (true, true) => "<",
            (true, false) => "<=",
            (false, true) => ">",
            (false, false) => ">=",
        };
        format!("{op} {}", self.text)
    }
}

fn compare_bound(
    diff: &mut Diff<'_>,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    at: &str,
    upper: bool,
) {
    let name = if upper { "upper bound" } else { "lower bound" };
    let (old, new) = (Bound::read(o, upper), Bound::read(n, upper));
    let (mv, keyword) = match (&old, &new) {
        (None, None) => return,
        (Some(a), None) => (
            Move::Looser(format!("{name} {} removed", a.describe(upper))),
            a.keyword,
        ),
        (None, Some(b)) => (
            Move::Tighter(format!("{name} {} added", b.describe(upper))),
            b.keyword,
        ),
        (Some(a), Some(b)) => {
            let what = |verb: &str| {
                format!(
                    "{name} {verb} from {} to {}",
                    a.describe(upper),
                    b.describe(upper)
                )
            };
            let mv = if b.tighter_than(a, upper) {
                Move::Tighter(what("tightened"))
            } else if a.tighter_than(b, upper) {
                Move::Looser(what("relaxed"))
            } else {
                Move::Same
            };
            (mv, b.keyword)
        }
    };
    mv.report(diff, child(at, keyword), 19, 20);
}

/// Whether `x` is a whole multiple (at least once) of `d`.
fn is_multiple(x: f64, d: f64) -> bool {
    if d <= 0.0 {
        return false;
    }
    let ratio = x / d;
    ratio.round() >= 1.0 && (ratio - ratio.round()).abs() <= 1e-9 * ratio.abs().max(1.0)
}

/// `docs/COMPATIBILITY.md` rows 19 and 20: the bounds and `multipleOf`.
pub(crate) fn compare_numbers(
    diff: &mut Diff<'_>,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    at: &str,
) {
    compare_bound(diff, o, n, at, true);
    compare_bound(diff, o, n, at, false);
    let pointer = child(at, "multipleOf");
    match (number(o, "multipleOf"), number(n, "multipleOf")) {
        (None, None) => {}
        (Some((_, a)), None) => diff.report(
            Breaks::Forward,
            19,
            pointer,
            &format!("multipleOf removed (was {a})"),
        ),
        (None, Some((_, b))) => diff.report(
            Breaks::Backward,
            20,
            pointer,
            &format!("multipleOf {b} added"),
        ),
        (Some((a, x)), Some((b, y))) if a != b => {
            if is_multiple(a, b) {
                let what = format!("multipleOf reduced from {x} to its divisor {y}");
                diff.report(Breaks::Forward, 19, pointer, &what);
            } else if is_multiple(b, a) {
                let what = format!("multipleOf raised from {x} to its multiple {y}");
                diff.report(Breaks::Backward, 20, pointer, &what);
            } else {
                let what = format!(
                    "multipleOf changed from {x} to {y}, neither a divisor nor a multiple of it"
                );
                diff.report(Breaks::Both, 20, pointer, &what);
            }
        }
        _ => {}
    }
}

/// `docs/COMPATIBILITY.md` row 21: `maxItems`, `minItems`, `uniqueItems` (relaxed: backward ✓,
/// forward ✗; tightened: the reverse).
pub(crate) fn compare_arrays(
    diff: &mut Diff<'_>,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    at: &str,
) {
    limits(diff, (o, n, at), ("maxItems", "minItems"), (21, 21));
    let unique = |m: &Map<String, Value>| m.get("uniqueItems") == Some(&Value::Bool(true));
    let pointer = child(at, "uniqueItems");
    match (unique(o), unique(n)) {
        (true, false) => diff.report(Breaks::Forward, 21, pointer, "uniqueItems removed"),
        (false, true) => diff.report(Breaks::Backward, 21, pointer, "uniqueItems added"),
        _ => {}
    }
}

/// `docs/COMPATIBILITY.md` row 22 (sizes): `maxProperties`, `minProperties`.
pub(crate) fn compare_object_sizes(
    diff: &mut Diff<'_>,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    at: &str,
) {
    limits(
        diff,
        (o, n, at),
        ("maxProperties", "minProperties"),
        (22, 22),
    );
}

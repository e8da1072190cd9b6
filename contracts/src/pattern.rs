//! The ECMA-262 regular expressions of `patternProperties`: which pattern governs a property
//! name decides which schema a property added or removed is compared with
//! (`docs/COMPATIBILITY.md` rows 4, 10 and 11). Matching is the `regress` crate's.
//!
//! A pattern is compiled with the `u` flag when it is valid under it (so `\p{L}` is a Unicode
//! property, as JSON Schema asks from 2019-09 on), and otherwise with ECMA-262 Annex B's looser
//! syntax, in which Draft 4 era patterns are often written (`a{,2}`, `\-`, `[\w-]`).
//!
//! regress backtracks without a step limit and has no setting for one, so a pattern that repeats
//! a group holding an unbounded repetition (`(a+)+`, `(a*)*`, `(.*a){12}`) takes exponential time
//! on a name it does not match, and nested three deep does not finish at all. Such patterns are
//! refused ([`PatternError::Unsupported`]) by a scan of their source before anything is matched.

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatternError {
    /// Valid ECMA-262 that this checker refuses to run.
    #[error("unsupported regular expression: {0}")]
    Unsupported(&'static str),
    /// Not a valid regular expression.
    #[error("malformed regular expression: {0}")]
    Malformed(String),
}

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Pattern(regress::Regex);

impl Pattern {
    /// Compiles `source` (ECMA-262 syntax, as JSON Schema specifies).
    pub(crate) fn new(source: &str) -> Result<Self, PatternError> {
        let regex = regress::Regex::with_flags(source, "u")
            .or_else(|_| regress::Regex::new(source))
            .map_err(|e| PatternError::Malformed(e.to_string()))?;
        if repeats_unbounded_group(source) {
            return Err(PatternError::Unsupported(
                "a repeated group holds an unbounded repetition (catastrophic backtracking)",
            ));
        }
        Ok(Pattern(regex))
    }

    /// Whether the pattern matches anywhere in `text` (patterns are not implicitly anchored).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.0.find(text).is_some()
    }
}

/// Whether a quantifier that repeats (maximum above 1) applies to a group that holds an
/// unbounded repetition (`*`, `+`, `{n,}`) at any depth. `source` already compiled, so its
/// brackets are balanced.
fn repeats_unbounded_group(source: &str) -> bool {
    let chars: Vec<char> = source.chars().collect();
    // One entry per open group (the whole pattern first): whether it holds an unbounded
    // repetition so far.
    let mut holds = vec![false];
    let mut i = 0;
    while i < chars.len() {
        let mut group = false;
        match chars[i] {
            '\\' => i += 1,
            '[' => {
                i += 1;
                while i < chars.len() && chars[i] != ']' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '(' => {
                holds.push(false);
                i += if chars.get(i + 1) == Some(&'?') { 2 } else { 1 };
                continue;
            }
            ')' => group = holds.pop().unwrap_or(false),
            _ => {}
        }
        i += 1;
        let repeat = quantifier(chars.get(i..).unwrap_or_default());
        if let Some((max, len)) = repeat {
            if group && max.is_none_or(|max| max > 1) {
                return true;
            }
            i += len;
        }
        if let Some(top) = holds.last_mut() {
            *top |= group || repeat.is_some_and(|(max, _)| max.is_none());
        }
    }
    false
}

/// The quantifier `rest` starts with, if any: its maximum (`None`: unbounded) and its length,
/// a lazy `?` included. A `{` that is not a quantifier is a literal (Annex B).
fn quantifier(rest: &[char]) -> Option<(Option<u64>, usize)> {
    let (max, len) = match rest.first()? {
        '*' | '+' => (None, 1),
        '?' => (Some(1), 1),
        '{' => {
            let close = rest.iter().position(|&c| c == '}')?;
            let body: String = rest[1..close].iter().collect();
            let (min, max) = body.split_once(',').unwrap_or((&body, &body));
            min.parse::<u64>().ok()?;
            let max = if max.is_empty() {
                None
            } else {
                Some(max.parse().ok()?)
            };
            (max, close + 1)
        }
        _ => return None,
    };
    Some((max, len + usize::from(rest.get(len) == Some(&'?'))))
}

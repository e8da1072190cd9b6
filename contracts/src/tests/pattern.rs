//! The regular expressions behind `patternProperties` (`docs/COMPATIBILITY.md` rows 4, 10, 11).

use crate::pattern::{Pattern, PatternError};

fn matches(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).unwrap().is_match(text)
}

#[test]
fn patterns_are_searched_not_anchored() {
    assert!(matches("x_", "a_x_b"));
    assert!(matches("^x_", "x_tag"));
    assert!(!matches("^x_", "a_x_"));
    assert!(matches("_id$", "user_id"));
    assert!(!matches("_id$", "user_id2"));
}

#[test]
fn classes_quantifiers_groups_and_alternation_match() {
    assert!(matches("^[a-z][a-z0-9.-]{1,61}[a-z0-9]$", "my-bucket.1"));
    assert!(!matches("^[a-z][a-z0-9.-]{1,61}[a-z0-9]$", "My-bucket"));
    assert!(matches("^(?:foo|bar)+$", "foobarfoo"));
    assert!(!matches("^(?:foo|bar)+$", "foobaz"));
    assert!(matches("^\\d{3}-\\w+$", "123-abc_d"));
    assert!(matches("^[^\\s]+$", "no-spaces"));
    assert!(!matches("^[^\\s]+$", "has space"));
    assert!(matches("^a.c$", "abc"));
    assert!(matches("^x{2,}?$", "xxx"));
    assert!(matches("\\bid\\b", "the id here"));
    assert!(matches("^(?<name>a|b)?c*$", "ccc"));
    assert!(matches("^\\u0041\\x42$", "AB"));
    assert!(matches("^a{,2}$", "a{,2}"));
}

#[test]
fn lookaround_backreferences_and_unicode_properties_match() {
    assert!(matches("^(?=x)x_", "x_tag"));
    assert!(!matches("^(?!x)", "x_tag"));
    assert!(matches("(?<=_)id$", "user_id"));
    assert!(matches("^(a)\\1$", "aa"));
    assert!(!matches("^(a)\\1$", "ab"));
    assert!(matches("^(?<c>[a-z])\\k<c>$", "zz"));
    assert!(matches("^\\p{L}+$", "événement"));
    assert!(!matches("^\\p{L}+$", "p{L}"));
}

#[test]
fn unsupported_and_malformed_patterns_are_errors() {
    assert!(matches!(
        Pattern::new("^(a*)*$"),
        Err(PatternError::Unsupported(_))
    ));
    assert!(matches!(
        Pattern::new("(a"),
        Err(PatternError::Malformed(_))
    ));
    assert!(matches!(
        Pattern::new("a)"),
        Err(PatternError::Malformed(_))
    ));
    assert!(matches!(
        Pattern::new("*a"),
        Err(PatternError::Malformed(_))
    ));
    assert!(matches!(
        Pattern::new("[z-a]"),
        Err(PatternError::Malformed(_))
    ));
}

/// As the object comparison reads a pattern: one that cannot be used matches no name.
fn governs(pattern: &str, name: &str) -> bool {
    Pattern::new(pattern).is_ok_and(|p| p.is_match(name))
}

#[test]
fn catastrophic_patterns_give_up_instead_of_hanging() {
    assert!(!governs("^(a*)*$", &format!("{}b", "a".repeat(40))));
    assert!(!governs("^((a*)*)*$", "a!"));
    assert!(!governs("^([a-z]+-?)+$", &format!("{}!", "a".repeat(40))));
    assert!(!governs("^(?:.*a){12}$", &format!("{}!", "a".repeat(40))));
}

#[test]
fn repetitions_that_do_not_nest_are_matched() {
    assert!(matches("^(?:foo|bar)+-[a-z]*\\d{2,}$", "foobar-x12"));
    assert!(matches("^(?:ab){2,3}$", "ababab"));
    assert!(matches("^([a-z]{2}-)+$", "ab-cd-"));
    assert!(matches("^[(*]+\\(a*\\)$", "(*(aa)"));
    assert!(matches("^\\u{1F600}{2}$", "😀😀"));
}

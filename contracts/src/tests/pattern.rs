//! The regular expression matcher behind `patternProperties`.

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
fn unsupported_and_malformed_patterns_are_errors() {
    assert_eq!(
        Pattern::new("(?=x)").unwrap_err(),
        PatternError::Unsupported("lookahead")
    );
    assert_eq!(
        Pattern::new("(a)\\1").unwrap_err(),
        PatternError::Unsupported("backreference")
    );
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

#[test]
fn catastrophic_patterns_give_up_instead_of_hanging() {
    assert!(!matches("^(a*)*$", &format!("{}b", "a".repeat(40))));
}

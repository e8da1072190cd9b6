//! Shape checks for names and values. Each returns the value or `(problem, allowed)`.

type Checked = Result<String, (String, String)>;

pub const ENVIRONMENT_ALLOWED: &str =
    "1 to 20 characters: a lower-case letter, then lower-case letters, digits or '-'";

fn fail(value: &str, what: &str, allowed: &str) -> Checked {
    Err((
        format!("`{value}` is not a valid {what}"),
        allowed.to_string(),
    ))
}

fn lower_dash(s: &str, max: usize) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && s.len() <= max
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `^[a-z][a-z0-9-]{0,19}$`
pub fn environment(s: &str) -> Checked {
    if lower_dash(s, 20) {
        Ok(s.to_string())
    } else {
        fail(s, "environment name", ENVIRONMENT_ALLOWED)
    }
}

pub fn project_name(s: &str) -> Checked {
    if lower_dash(s, 40) {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "project name",
            "1 to 40 characters: a lower-case letter, then lower-case letters, digits or '-'",
        )
    }
}

pub fn is_identifier(s: &str) -> bool {
    lower_dash(s, 40)
}

/// An AWS region such as `us-east-1`, `eu-central-2` or `us-gov-west-1`.
pub fn region(s: &str) -> Checked {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].len() <= 2
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "AWS region",
            "a region name such as us-east-1 or eu-west-2",
        )
    }
}

fn aws_name(s: &str, max: usize, extra: &str) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(c))
}

pub fn bus_name(s: &str) -> Checked {
    if s == "default" {
        return Err((
            "the default bus cannot be this deployment's bus".into(),
            "a custom bus name such as dev-application-events".into(),
        ));
    }
    // '/' belongs to partner event sources' buses (`aws.partner/...`): a custom bus cannot
    // have one, and Terraform's variable refuses it too.
    if aws_name(s, 256, ".") {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "event bus name",
            "1 to 256 characters: letters, digits, '.', '-', '_' (no '/': that is for partner \
             buses)",
        )
    }
}

pub fn resource_name(s: &str) -> Checked {
    if aws_name(s, 80, "") {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "name",
            "1 to 80 characters: letters, digits, '-' and '_'",
        )
    }
}

pub fn rule_name(s: &str) -> Checked {
    if aws_name(s, 64, ".") {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "rule name",
            "1 to 64 characters: letters, digits, '.', '-', '_'",
        )
    }
}

pub fn function_name(s: &str) -> Checked {
    if aws_name(s, 64, "") {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "function name",
            "1 to 64 characters: letters, digits, '-' and '_'",
        )
    }
}

pub const RUNTIMES: [&str; 3] = ["nodejs20.x", "nodejs22.x", "nodejs24.x"];

pub fn runtime(s: &str) -> Checked {
    if RUNTIMES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err((format!("unsupported runtime `{s}`"), RUNTIMES.join(", ")))
    }
}

pub fn non_empty(s: &str) -> Checked {
    if s.trim().is_empty() {
        Err((
            "empty".into(),
            "a command name or path, e.g. terraform or tofu".into(),
        ))
    } else {
        Ok(s.to_string())
    }
}

pub fn endpoint(s: &str) -> Checked {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
            Ok(s.trim_end_matches('/').to_string())
        }
        _ => fail(
            s,
            "endpoint URL",
            "an http:// or https:// URL such as http://127.0.0.1:4566",
        ),
    }
}

/// What an S3 bucket name may look like, for error messages.
pub const BUCKET_ALLOWED: &str = "an S3 bucket name: 3 to 63 characters of lower-case letters, digits, \
     '.' and '-', beginning and ending with a letter or digit, no \"..\", not an IP address, \
     not starting with xn--, sthree- or amzn-s3-demo-, not ending with -s3alias, --ol-s3, \
     .mrap, --x-s3 or --table-s3";

/// Prefixes S3 reserves: no bucket name may start with them.
pub const RESERVED_BUCKET_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes S3 reserves for access points, Multi-Region Access Points, directory buckets and
/// table buckets: no general purpose bucket name may end with them.
pub const RESERVED_BUCKET_SUFFIXES: [&str; 5] =
    ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// What is wrong with `name` as an S3 (general purpose) bucket name, or `None` when it is a
/// valid one. The message does not repeat the name.
pub fn bucket_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len < 3 {
        return Some(format!("{len} characters is too short (at least 3)"));
    }
    if len > 63 {
        return Some(format!("{len} characters is too long (at most 63)"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Some(format!(
            "{c:?} is not allowed (only lower-case letters, digits, '.' and '-')"
        ));
    }
    let letter_or_digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !letter_or_digit(name.chars().next()) {
        return Some("it must begin with a letter or digit".into());
    }
    if !letter_or_digit(name.chars().last()) {
        return Some("it must end with a letter or digit".into());
    }
    if name.contains("..") {
        return Some("it must not contain two adjacent periods".into());
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("it must not be formatted as an IP address".into());
    }
    if let Some(p) = RESERVED_BUCKET_PREFIXES
        .iter()
        .find(|p| name.starts_with(*p))
    {
        return Some(format!("it must not start with `{p}` (reserved by S3)"));
    }
    if let Some(s) = RESERVED_BUCKET_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Some(format!("it must not end with `{s}` (reserved by S3)"));
    }
    None
}

pub fn bucket_name(s: &str) -> Checked {
    match bucket_name_problem(s) {
        None => Ok(s.to_string()),
        Some(problem) => Err((
            format!("`{s}` is not a valid S3 bucket name: {problem}"),
            BUCKET_ALLOWED.to_string(),
        )),
    }
}

/// A key prefix inside the state bucket. Returns it with a trailing '/' added when missing.
pub fn state_prefix(s: &str) -> Checked {
    const ALLOWED: &str = "a non-empty key prefix such as eventbridge-hub/dev/: no leading '/', no \"..\", \
         no whitespace";
    let problem = if s.is_empty() || s == "/" {
        Some("it is empty".to_string())
    } else if s.starts_with('/') {
        Some("it must not start with '/'".into())
    } else if s.contains("..") {
        Some("it must not contain \"..\"".into())
    } else if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it must not contain whitespace".into())
    } else {
        None
    };
    match problem {
        Some(p) => Err((format!("`{s}` is not a usable prefix: {p}"), ALLOWED.into())),
        None if s.ends_with('/') => Ok(s.to_string()),
        None => Ok(format!("{s}/")),
    }
}

/// A KMS key id, key ARN, alias name (`alias/...`) or alias ARN.
pub fn kms_key_id(s: &str) -> Checked {
    if !s.is_empty() && s.len() <= 2048 && !s.chars().any(|c| c.is_whitespace()) {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "KMS key id",
            "a KMS key id, key ARN, alias/<name> or alias ARN (no whitespace)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(f: fn(&str) -> Checked, s: &str) -> bool {
        f(s).is_ok()
    }

    #[test]
    fn environment_shape() {
        assert!(ok(environment, "dev"));
        assert!(ok(environment, "qa-2"));
        assert!(ok(environment, "a1234567890123456789"));
        assert!(!ok(environment, "a12345678901234567890"));
        assert!(!ok(environment, "Dev"));
        assert!(!ok(environment, "1dev"));
        assert!(!ok(environment, ""));
        assert!(!ok(environment, "dev_1"));
    }

    #[test]
    fn region_shape() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-10",
        ] {
            assert!(ok(region, r), "{r}");
        }
        for r in ["useast1", "us-east", "US-east-1", "us-east-x", "u-east-1"] {
            assert!(!ok(region, r), "{r}");
        }
    }

    #[test]
    fn default_bus_is_refused() {
        assert!(!ok(bus_name, "default"));
        assert!(ok(bus_name, "dev-application-events"));
    }

    #[test]
    fn endpoint_shape() {
        assert_eq!(
            endpoint("http://127.0.0.1:4566/").unwrap(),
            "http://127.0.0.1:4566"
        );
        assert!(!ok(endpoint, "127.0.0.1:4566"));
    }

    #[test]
    fn bucket_names_follow_the_s3_rules() {
        for good in [
            "abc",
            "my-state-123456789012-us-east-1",
            "a.b-c",
            "1bucket",
            &"a".repeat(63),
        ] {
            assert_eq!(bucket_name_problem(good), None, "{good}");
        }
        for (bad, why) in [
            ("ab", "too short"),
            (&"a".repeat(64) as &str, "too long"),
            ("My-bucket", "'M'"),
            ("my_bucket", "'_'"),
            ("-bucket", "begin"),
            ("bucket-", "end"),
            ("bucket.", "end"),
            ("my..bucket", "adjacent periods"),
            ("192.168.5.4", "IP address"),
            ("xn--bucket", "xn--"),
            ("sthree-bucket", "sthree-"),
            ("amzn-s3-demo-bucket", "amzn-s3-demo-"),
            ("bucket-s3alias", "-s3alias"),
            ("bucket--ol-s3", "--ol-s3"),
            ("bucket.mrap", ".mrap"),
            ("bucket--x-s3", "--x-s3"),
            ("bucket--table-s3", "--table-s3"),
        ] {
            let problem = bucket_name_problem(bad).unwrap_or_default();
            assert!(
                problem.contains(why),
                "{bad}: {problem:?} should mention {why}"
            );
        }
        // Four dotted groups that are not all numbers are a name, not an address.
        assert_eq!(bucket_name_problem("192.168.5.a"), None);
    }

    #[test]
    fn state_prefix_gets_a_trailing_slash_and_refuses_escapes() {
        assert_eq!(state_prefix("hub/dev").unwrap(), "hub/dev/");
        assert_eq!(state_prefix("hub/dev/").unwrap(), "hub/dev/");
        for bad in ["", "/", "/hub/dev/", "hub/../x/", "hub dev/", "hub/\tdev"] {
            assert!(state_prefix(bad).is_err(), "{bad:?}");
        }
    }
}

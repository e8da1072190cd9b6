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
    if aws_name(s, 256, "./") {
        Ok(s.to_string())
    } else {
        fail(
            s,
            "event bus name",
            "1 to 256 characters: letters, digits, '.', '-', '_', '/'",
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
}

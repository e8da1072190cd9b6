//! Configuration errors written for the person who has to fix the file.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A position in the configuration file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub fn from_offset(source: &str, offset: usize) -> Self {
        let offset = offset.min(source.len());
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        Position { line, column }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", Located(self))]
    Invalid {
        path: PathBuf,
        position: Option<Position>,
        /// Dotted key, e.g. `project.environment`.
        key: String,
        problem: String,
        allowed: String,
    },
    #[error("{}:{}:{}: {message}", path.display(), position.line, position.column)]
    Syntax {
        path: PathBuf,
        position: Position,
        message: String,
    },
}

struct Located<'a>(&'a ConfigError);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConfigError::Invalid {
            path,
            position,
            key,
            problem,
            allowed,
        } = self.0
        else {
            return Ok(());
        };
        match position {
            Some(p) => write!(f, "{}:{}:{}: ", path.display(), p.line, p.column)?,
            None => write!(f, "{}: ", path.display())?,
        }
        write!(f, "key `{key}`: {problem}; allowed: {allowed}")
    }
}

impl ConfigError {
    pub(crate) fn invalid(
        ctx: &Source<'_>,
        span: Option<Range<usize>>,
        key: &str,
        problem: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            path: ctx.path.to_path_buf(),
            position: span.map(|s| Position::from_offset(ctx.text, s.start)),
            key: key.to_string(),
            problem: problem.into(),
            allowed: allowed.into(),
        }
    }

    /// Turns a TOML parse error (syntax, wrong type, unknown key) into one that names the
    /// table the problem is in.
    pub(crate) fn from_toml(ctx: &Source<'_>, err: &toml::de::Error) -> Self {
        let offset = err.span().map_or(0, |s| s.start);
        let position = Position::from_offset(ctx.text, offset);
        let mut message = err.message().trim().to_string();
        // An unknown top-level table: the error points at its header, and is about it, not
        // about the table before it.
        if let Some(name) = header_at(ctx.text, position.line)
            && message.starts_with("unknown field")
        {
            let allowed = message
                .split_once("expected one of ")
                .map(|(_, list)| list.replace('`', "").replace(", ", "], ["))
                .map(|l| format!("; the tables are [{l}]"))
                .unwrap_or_default();
            return ConfigError::Syntax {
                path: ctx.path.to_path_buf(),
                position,
                message: format!("unknown table [{name}]{allowed}"),
            };
        }
        let table = table_at(ctx.text, offset);
        if let Some(key) = key_at(ctx.text, position.line) {
            let full = match &table {
                Some(t) => format!("{t}.{key}"),
                None => key,
            };
            if !message.contains(&full) {
                message = format!("key `{full}`: {message}");
            }
        } else if let Some(table) = &table {
            message = format!("in [{table}]: {message}");
        }
        if let Some(table) = table
            .as_ref()
            .filter(|t| !message.contains(&format!("[{t}]")) && message.starts_with("key"))
        {
            message = format!("in [{table}]: {message}");
        }
        ConfigError::Syntax {
            path: ctx.path.to_path_buf(),
            position,
            message,
        }
    }
}

/// The configuration text and where it came from, for error messages.
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// The key assigned on `line` (1-based), if that line is a `key = value` line.
fn key_at(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?.trim();
    if l.starts_with('[') || l.starts_with('#') {
        return None;
    }
    let (key, _) = l.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty()).then(|| key.to_string())
}

/// The top-level table whose header is on `line` (1-based): `bogus` for `[bogus]` or
/// `[bogus.x]`.
fn header_at(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?.trim();
    let inner = l
        .strip_prefix('[')?
        .strip_suffix(']')?
        .trim_matches(['[', ']'])
        .trim();
    Some(inner.split('.').next()?.trim().to_string())
}

/// The name of the `[table]` header in force at `offset`, if any.
fn table_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    text[..offset].lines().rev().find_map(|line| {
        let line = line.trim();
        let inner = line.strip_prefix('[')?.strip_suffix(']')?;
        Some(inner.trim_matches(['[', ']']).trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(
            Position::from_offset(text, 0),
            Position { line: 1, column: 1 }
        );
        assert_eq!(
            Position::from_offset(text, 7),
            Position { line: 2, column: 2 }
        );
    }

    #[test]
    fn table_header_is_found() {
        let text = "[project]\nname = 1\n[eventbus]\nfoo = 2\n";
        assert_eq!(table_at(text, text.len() - 3).as_deref(), Some("eventbus"));
        assert_eq!(table_at(text, 12).as_deref(), Some("project"));
        assert_eq!(table_at("x = 1", 2), None);
    }
}

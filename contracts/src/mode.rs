//! Compatibility modes of an event type (`docs/COMPATIBILITY.md`, section Modes).

use std::fmt;
use std::str::FromStr;

/// Compatibility mode of an event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The new version reads every event the previous one accepted (the default).
    Backward,
    /// The previous version reads every event the new one produces.
    Forward,
    /// Backward and forward.
    Full,
    /// Backward against every earlier version.
    BackwardTransitive,
    /// Forward against every earlier version.
    ForwardTransitive,
    /// Full against every earlier version.
    FullTransitive,
    /// No check.
    None,
}

impl Mode {
    /// The values [`Mode::from_str`] accepts, for error messages.
    pub const ALLOWED: &'static str =
        "backward, forward, full, backward-transitive, forward-transitive, full-transitive, none";

    const ALL: [Mode; 7] = [
        Mode::Backward,
        Mode::Forward,
        Mode::Full,
        Mode::BackwardTransitive,
        Mode::ForwardTransitive,
        Mode::FullTransitive,
        Mode::None,
    ];

    /// The name used in `deploy.toml` (`"backward-transitive"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Backward => "backward",
            Mode::Forward => "forward",
            Mode::Full => "full",
            Mode::BackwardTransitive => "backward-transitive",
            Mode::ForwardTransitive => "forward-transitive",
            Mode::FullTransitive => "full-transitive",
            Mode::None => "none",
        }
    }

    /// Whether the newest version is checked against every earlier one, not only the last.
    pub(crate) fn is_transitive(self) -> bool {
        matches!(
            self,
            Mode::BackwardTransitive | Mode::ForwardTransitive | Mode::FullTransitive
        )
    }

    /// Whether new readers must read old events.
    pub(crate) fn checks_backward(self) -> bool {
        matches!(
            self,
            Mode::Backward | Mode::Full | Mode::BackwardTransitive | Mode::FullTransitive
        )
    }

    /// Whether old readers must read new events.
    pub(crate) fn checks_forward(self) -> bool {
        matches!(
            self,
            Mode::Forward | Mode::Full | Mode::ForwardTransitive | Mode::FullTransitive
        )
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a compatibility mode; allowed: {}",
                    Mode::ALLOWED
                )
            })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

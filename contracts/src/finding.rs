//! What the checker reports: findings and violations between numbered versions.

use std::fmt;

/// Which direction a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Readers of the new version cannot read some events of the old one.
    Backward,
    /// Readers of the old version cannot read some events of the new one.
    Forward,
}

impl Direction {
    /// `"backward"` or `"forward"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One incompatible change found between two schemas.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// JSON pointer into the (newer) schema where the change is, e.g.
    /// `/properties/detail/properties/fileId/type`; `""` for the root.
    pub pointer: String,
    /// The row of the rule table in `docs/COMPATIBILITY.md` (1..=24) that this change breaks.
    pub rule: u8,
    /// What changed and why it breaks.
    pub message: String,
    /// The direction this change breaks.
    pub direction: Direction,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{at}: {} (rule {}, breaks {})",
            self.message, self.rule, self.direction
        )
    }
}

/// A violation between two numbered versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The earlier version of the pair.
    pub older: u32,
    /// The later version of the pair; the finding's pointer points into it.
    pub newer: u32,
    /// What breaks.
    pub finding: Finding,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{} → v{}: {}", self.older, self.newer, self.finding)
    }
}

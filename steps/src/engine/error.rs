//! Step errors, classified: only a transient error is worth another attempt.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Throttling, 5xx, timeouts, connection resets, IAM eventual consistency: retried.
    Transient,
    /// Everything else: fails the step at once.
    Permanent,
}

#[derive(Debug, Clone)]
pub struct StepError {
    pub class: ErrorClass,
    pub message: String,
    /// What the operator can do about it.
    pub hint: Option<String>,
    /// The step stopped because it needs the operator's consent to go on (a queue that holds
    /// messages would be deleted): not a failure of the system, and never retried.
    pub needs_consent: bool,
}

impl StepError {
    pub fn transient(message: impl Into<String>) -> Self {
        StepError {
            class: ErrorClass::Transient,
            message: message.into(),
            hint: None,
            needs_consent: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        StepError {
            class: ErrorClass::Permanent,
            message: message.into(),
            hint: None,
            needs_consent: false,
        }
    }

    /// Stopped before deleting what the operator has not consented to lose.
    pub fn needs_consent(message: impl Into<String>) -> Self {
        StepError {
            needs_consent: true,
            ..StepError::permanent(message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_transient(&self) -> bool {
        self.class == ErrorClass::Transient
    }

    /// Prefixes the message with what was being done.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for StepError {}

impl From<deploy_state::LedgerError> for StepError {
    fn from(e: deploy_state::LedgerError) -> Self {
        StepError::permanent(format!("ledger: {e}"))
    }
}

/// Words in an error message that mark it as worth retrying. Shared by the AWS and terraform
/// classifiers so that both retry the same things.
pub const TRANSIENT_MARKERS: &[&str] = &[
    "throttl",
    "rate exceeded",
    "too many requests",
    "requestlimitexceeded",
    "slow down",
    "timeout",
    "timed out",
    "connection reset",
    "connection refused",
    "broken pipe",
    "service unavailable",
    "internal server error",
    "internalfailure",
    "serviceunavailable",
    "status code: 5",
    "statuscode: 5",
    "502 bad gateway",
    "503 service unavailable",
    "504 gateway timeout",
    "temporarily unavailable",
    "eof while",
    "dispatch failure",
    // The AWS SDK for Go (terraform's provider) ran out of its client-side retry quota: the
    // service was throttling or failing more requests than it would retry at once.
    "retry quota exceeded",
];

/// Classifies free text (an SDK error's display, terraform's stderr).
pub fn classify_text(text: &str) -> ErrorClass {
    let lower = text.to_ascii_lowercase();
    if TRANSIENT_MARKERS.iter().any(|m| lower.contains(m)) {
        ErrorClass::Transient
    } else {
        ErrorClass::Permanent
    }
}

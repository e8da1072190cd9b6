//! One classification of transient failures for every AWS call the tool makes: the SDK's own
//! (throttling, 5xx, timeouts, I/O errors), plus connections that were dropped or reset before
//! the response was complete, which the SDK leaves unclassified ("connection closed before
//! message completed"). A request that could not be sent for a reason waiting does not fix (no
//! credentials in the chain, a malformed request) is not retried.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

#[derive(Debug, Default, Clone, Copy)]
pub struct DroppedConnections;

impl ClassifyRetry for DroppedConnections {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(conn) = err.as_connector_error() else {
            return RetryAction::NoActionIndicated;
        };
        if conn.is_other() && conn.as_other().is_none() && !is_credentials(conn) {
            return RetryAction::transient_error();
        }
        RetryAction::NoActionIndicated
    }

    fn name(&self) -> &'static str {
        "dropped or reset connections"
    }
}

/// Whether anything in the error's chain is about credentials (retrying cannot help).
fn is_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.to_string().to_ascii_lowercase().contains("credential") {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapped(&'static str, Option<Box<Wrapped>>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn credentials_anywhere_in_the_chain_are_not_worth_a_retry() {
        let deep = Wrapped(
            "dispatch failure",
            Some(Box::new(Wrapped("no credentials in the chain", None))),
        );
        assert!(is_credentials(&deep));
        let closed = Wrapped(
            "io",
            Some(Box::new(Wrapped(
                "connection closed before message completed",
                None,
            ))),
        );
        assert!(!is_credentials(&closed));
    }
}

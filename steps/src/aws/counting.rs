//! Counts the SDK's retries across every client, so a step can record how many requests had to
//! be sent again (under throttling, 5xx, dropped connections) in the ledger and the audit log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};

/// Calls made and attempts sent: every attempt beyond the first of a call is a retry.
#[derive(Debug, Default)]
pub struct Attempts {
    calls: AtomicU64,
    attempts: AtomicU64,
}

impl Attempts {
    pub fn retries(&self) -> u64 {
        let attempts = self.attempts.load(Ordering::Relaxed);
        attempts.saturating_sub(self.calls.load(Ordering::Relaxed))
    }
}

#[derive(Debug, Clone)]
pub struct CountAttempts(pub Arc<Attempts>);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "count attempts"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

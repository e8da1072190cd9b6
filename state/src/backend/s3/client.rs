//! The S3 client on a runtime of the backend's own, and what S3's errors mean for the ledger.

use std::sync::mpsc;

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use tokio::runtime::Runtime;

use super::S3Settings;
use crate::error::LedgerError;

#[derive(Debug)]
pub(super) struct Inner {
    rt: Option<Runtime>,
    pub(super) client: aws_sdk_s3::Client,
}

impl Inner {
    pub(super) fn start(
        settings: &S3Settings,
        sdk: impl Future<Output = SdkConfig> + Send + 'static,
    ) -> Result<Inner, LedgerError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("deploy-state-s3")
            .enable_all()
            .build()
            .map_err(|e| LedgerError::storage("s3", format!("cannot start a runtime: {e}")))?;
        let sdk = run_on(&rt, sdk);
        // Without the SDK's per-service retry quota, like the steps' clients: a ledger write
        // must not become final on its first attempt because earlier calls spent the quota.
        let partition = RetryPartition::custom("deploy-state")
            .token_bucket(TokenBucket::unlimited())
            .build();
        let mut config = aws_sdk_s3::config::Builder::from(&sdk)
            .region(Region::new(settings.region.clone()))
            .retry_partition(partition)
            .force_path_style(settings.emulator);
        if settings.emulator {
            // Emulators do not all understand the streaming checksums the SDK adds by default.
            config = config
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        Ok(Inner {
            rt: Some(rt),
            client: aws_sdk_s3::Client::from_conf(config.build()),
        })
    }

    /// Runs `fut` on the backend's runtime and waits for it, from any thread (a runtime's own
    /// worker included, which `Runtime::block_on` would refuse).
    pub(super) fn block<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> T {
        run_on(self.rt.as_ref().expect("running until dropped"), fut)
    }

    pub(super) fn spawn(
        &self,
        fut: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.rt.as_ref().expect("running until dropped").spawn(fut)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn run_on<T: Send + 'static>(rt: &Runtime, fut: impl Future<Output = T> + Send + 'static) -> T {
    let (tx, rx) = mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().expect("the state runtime finished the request")
}

/// The HTTP status of a failed request, when the service answered.
pub(super) fn status_of<E, R>(err: &SdkError<E, R>) -> Option<u16>
where
    R: HttpStatus,
{
    match err {
        SdkError::ServiceError(se) => Some(se.raw().status_code()),
        SdkError::ResponseError(re) => Some(re.raw().status_code()),
        _ => None,
    }
}

/// What a failed request means: a lost compare-and-swap, a refusal, or a storage failure.
pub(super) fn map_err<E, R>(location: &str, err: SdkError<E, R>) -> LedgerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: HttpStatus + std::fmt::Debug,
{
    let status = status_of(&err);
    let code = match &err {
        SdkError::ServiceError(se) => se.err().code().map(str::to_string),
        _ => None,
    };
    match (status, code.as_deref()) {
        (Some(412), _) | (_, Some("PreconditionFailed" | "ConditionalRequestConflict")) => {
            LedgerError::Conflict {
                location: location.to_string(),
            }
        }
        (Some(403), _) => LedgerError::Denied {
            location: location.to_string(),
            detail: format!(
                "HTTP 403{}",
                code.map(|c| format!(" {c}")).unwrap_or_default()
            ),
        },
        (_, Some("NoSuchBucket")) => LedgerError::storage(
            location,
            "the bucket does not exist (`deploy state bootstrap` creates it)",
        ),
        _ => LedgerError::storage(
            location,
            aws_sdk_s3::error::DisplayErrorContext(&err).to_string(),
        ),
    }
}

/// The raw HTTP response of an SDK error.
pub(super) trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

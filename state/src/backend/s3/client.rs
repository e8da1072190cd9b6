//! The S3 client the backend uses, and what S3's errors mean for the ledger.

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::S3Settings;
use crate::error::LedgerError;

/// A client for the state bucket, made from the caller's SDK configuration (its credential
/// chain, and its HTTP connections on the caller's runtime).
pub(super) fn client(settings: &S3Settings, sdk: &SdkConfig) -> aws_sdk_s3::Client {
    // Without the SDK's per-service retry quota, like the steps' clients: a ledger write must
    // not become final on its first attempt because earlier calls spent the quota.
    let partition = RetryPartition::custom("deploy-state")
        .token_bucket(TokenBucket::unlimited())
        .build();
    let mut config = aws_sdk_s3::config::Builder::from(sdk)
        .region(Region::new(settings.region.clone()))
        .retry_partition(partition)
        .force_path_style(settings.emulator);
    if settings.emulator {
        // Emulators do not all understand the streaming checksums the SDK adds by default.
        config = config
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    aws_sdk_s3::Client::from_conf(config.build())
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

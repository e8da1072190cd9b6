//! AWS clients, made in one place from `aws-config`'s credential chain (environment, profile,
//! SSO, IMDS), the configured region and, when set, one endpoint for every service.

use std::sync::Arc;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
use aws_sdk_sts::error::SdkError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use deploy_config::Config;

use crate::engine::{ErrorClass, StepError, classify_text};

mod counting;
mod profiles;
mod receive;
mod retry;
mod targets;

pub use counting::Attempts;
use counting::CountAttempts;

pub use profiles::{known_profiles, profile_problem};
pub use receive::take_messages;
pub use retry::DroppedConnections;
pub use targets::rule_targets;

/// Attempts of one AWS call before its error reaches the step (which has its own retries).
pub const MAX_ATTEMPTS: u32 = 6;

/// Access key id used against a local emulator when the environment has none.
pub const LOCAL_ACCESS_KEY: &str = "test";

#[derive(Debug, Clone)]
pub struct AwsClients {
    pub sdk: SdkConfig,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub sfn: aws_sdk_sfn::Client,
    /// Every call and attempt of these clients (retries are the difference).
    pub attempts: Arc<Attempts>,
}

/// Whether the environment provides static credentials.
pub fn env_has_credentials() -> bool {
    std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|v| !v.is_empty())
}

pub async fn sdk_config(config: &Config) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(config.project.region.clone()))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(100)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = &config.aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &config.aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if config.local && !env_has_credentials() && config.aws.profile.is_none() {
        loader = loader.credentials_provider(Credentials::new(
            LOCAL_ACCESS_KEY,
            LOCAL_ACCESS_KEY,
            None,
            None,
            "deploy-local",
        ));
    }
    loader.load().await
}

/// Every client: the SDK's retries (raised to [`MAX_ATTEMPTS`]) with one more classifier, so
/// that a dropped connection is retried by every call alike: steps, checks, probes,
/// `status --live`; and one retry partition for the whole process without the SDK's retry
/// quota (see [`retry_partition`]).
macro_rules! client {
    ($krate:ident, $sdk:expr, $attempts:expr, $partition:expr) => {
        $krate::Client::from_conf(
            $krate::config::Builder::from($sdk)
                .retry_classifier(DroppedConnections)
                .retry_partition($partition.clone())
                .interceptor(CountAttempts($attempts.clone()))
                .build(),
        )
    };
}

/// The SDK's standard retries share a quota per service (500 tokens; a failed retry spends 5,
/// or 10 after a dropped connection; a first-attempt success earns 1 back). It protects a
/// long-running service from retry storms; in a run of this tool it turns a flaky network into
/// a failed step halfway through: at 40 % of requests failing, the quota runs dry after a few
/// hundred calls and every later error is final on its first attempt. A run makes a bounded
/// number of calls, each retried at most [`MAX_ATTEMPTS`] times with exponential backoff, and a
/// step has its own retry budget, so the quota is not needed to bound the load.
fn retry_partition() -> aws_sdk_sqs::config::retry::RetryPartition {
    use aws_sdk_sqs::config::retry::{RetryPartition, TokenBucket};
    RetryPartition::custom("deploy")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

impl AwsClients {
    pub fn new(sdk: SdkConfig) -> Self {
        let n = Arc::new(Attempts::default());
        let p = retry_partition();
        AwsClients {
            sts: client!(aws_sdk_sts, &sdk, n, p),
            iam: client!(aws_sdk_iam, &sdk, n, p),
            events: client!(aws_sdk_eventbridge, &sdk, n, p),
            sqs: client!(aws_sdk_sqs, &sdk, n, p),
            lambda: client!(aws_sdk_lambda, &sdk, n, p),
            logs: client!(aws_sdk_cloudwatchlogs, &sdk, n, p),
            tagging: client!(aws_sdk_resourcegroupstagging, &sdk, n, p),
            sfn: client!(aws_sdk_sfn, &sdk, n, p),
            attempts: n,
            sdk,
        }
    }
}

/// Error codes that mean "try again later".
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "InternalException",
    "RequestTimeout",
    "RequestTimeoutException",
    "ConcurrentModificationException",
    "ResourceConflictException",
    "OperationAbortedException",
];

/// An error of an AWS SDK call.
pub type AwsError<E> = SdkError<E, HttpResponse>;

/// Turns an SDK error into a classified step error, with the service's code and message.
pub fn sdk_error<E>(what: &str, err: AwsError<E>) -> StepError
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let (class, detail) = describe(&err);
    StepError {
        class,
        message: format!("{what}: {detail}"),
        hint: None,
        needs_consent: false,
    }
}

/// What an SDK error says, and whether waiting may fix it.
pub fn describe<E>(err: &AwsError<E>) -> (ErrorClass, String)
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let status = se.raw().status().as_u16();
            let msg = e.message().unwrap_or("");
            // A 5xx or 429 is "try again later" whatever its body says (the SDK retries these
            // too); an answer whose code could not be read is named by its status.
            let class = match e.code() {
                _ if status >= 500 || status == 429 => ErrorClass::Transient,
                Some(code) if TRANSIENT_CODES.contains(&code) => ErrorClass::Transient,
                code => classify_text(&format!("{} {msg}", code.unwrap_or_default())),
            };
            let code = e
                .code()
                .map_or_else(|| format!("HTTP {status}"), str::to_string);
            (class, format!("{code}: {msg}"))
        }
        SdkError::TimeoutError(_) => (ErrorClass::Transient, "request timed out".to_string()),
        // Only a network failure is worth another attempt; a dispatch failure can also be
        // "no credentials in the chain", which waiting does not fix.
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => (
            ErrorClass::Transient,
            format!("could not reach the endpoint: {}", DisplayChain(err)),
        ),
        // A dropped or reset connection, not a missing credential.
        SdkError::DispatchFailure(d)
            if d.is_other()
                && !DisplayChain(err)
                    .to_string()
                    .to_lowercase()
                    .contains("credential") =>
        {
            (
                ErrorClass::Transient,
                format!("the connection was dropped: {}", DisplayChain(err)),
            )
        }
        SdkError::DispatchFailure(_) => (
            ErrorClass::Permanent,
            format!("the request could not be sent: {}", DisplayChain(err)),
        ),
        SdkError::ResponseError(_) => (ErrorClass::Transient, format!("{err}")),
        other => (ErrorClass::Permanent, format!("{}", DisplayChain(other))),
    }
}

/// Error codes with which AWS says "there is no such thing", across the services used here.
pub const NOT_FOUND_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NonExistentQueue",
];

/// Whether an SDK error means the resource does not exist (which a deletion counts as done).
pub fn is_not_found<E, R>(err: &aws_sdk_sts::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_sts::error::ProvideErrorMetadata,
{
    error_code(err).is_some_and(|c| NOT_FOUND_CODES.contains(&c))
}

/// The service error code of an SDK error, if it is a service error.
pub fn error_code<E, R>(err: &aws_sdk_sts::error::SdkError<E, R>) -> Option<&str>
where
    E: aws_sdk_sts::error::ProvideErrorMetadata,
{
    match err {
        aws_sdk_sts::error::SdkError::ServiceError(se) => se.err().code(),
        _ => None,
    }
}

struct DisplayChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut src = self.0.source();
        while let Some(s) = src {
            write!(f, ": {s}")?;
            src = s.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_lambda::error::ErrorMetadata;
    use aws_sdk_lambda::operation::get_function::GetFunctionError;
    use aws_sdk_lambda::primitives::SdkBody;
    use aws_smithy_runtime_api::http::StatusCode;

    use super::*;

    fn answered(status: u16, code: Option<&str>) -> AwsError<GetFunctionError> {
        let mut meta = ErrorMetadata::builder().message("from the service");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(GetFunctionError::generic(meta.build()), raw)
    }

    #[test]
    fn a_5xx_or_429_is_transient_whatever_its_body_and_is_named_by_its_status() {
        for status in [500, 502, 503, 504, 429] {
            let (class, detail) = describe(&answered(status, None));
            assert_eq!(class, ErrorClass::Transient, "{status}");
            assert_eq!(detail, format!("HTTP {status}: from the service"));
        }
        let (class, detail) = describe(&answered(400, Some("TooManyRequestsException")));
        assert_eq!(class, ErrorClass::Transient);
        assert_eq!(detail, "TooManyRequestsException: from the service");
    }

    #[test]
    fn a_4xx_that_is_not_throttling_is_final() {
        for code in ["AccessDeniedException", "InvalidParameterValueException"] {
            let (class, _) = describe(&answered(400, Some(code)));
            assert_eq!(class, ErrorClass::Permanent, "{code}");
        }
        let (class, detail) = describe(&answered(403, None));
        assert_eq!(
            (class, detail.as_str()),
            (ErrorClass::Permanent, "HTTP 403: from the service")
        );
    }
}

//! One Lambda function: create it, or update its code and configuration only where they differ,
//! then wait until it is `Active` with the last update `Successful` (see `ready`).

use std::collections::BTreeMap;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::create_function::CreateFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, FunctionConfiguration, Runtime};
use deploy_config::Lambda;

use super::ready::{in_transition, wait_ready};
use crate::aws::{error_code, sdk_error};
use crate::engine::{RetryPolicy, StepError};
use crate::package::Package;

/// What the step wants a function to look like.
#[derive(Debug, Clone)]
pub struct Desired<'a> {
    pub lambda: &'a Lambda,
    pub role_arn: &'a str,
    pub env: BTreeMap<String, String>,
    pub package: &'a Package,
    /// The ownership tags it is created with.
    pub tags: BTreeMap<String, String>,
    /// Whether this deployment's inventory already records it.
    pub owned: bool,
}

/// What was done to a function, for the step log and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeAction {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Deployed {
    pub arn: String,
    pub code: CodeAction,
    /// The configuration fields that differed and were updated.
    pub config_changes: Vec<&'static str>,
    pub code_sha256: String,
}

/// Lambda answers this (InvalidParameterValueException) when a just-created role has not
/// propagated yet: worth retrying.
fn role_not_assumable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("cannot be assumed by lambda")
        || m.contains("role defined for the function cannot be assumed")
}

fn classify<E>(what: &str, err: crate::aws::AwsError<E>) -> StepError
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut e = sdk_error(what, err);
    if role_not_assumable(&e.message) {
        e = StepError::transient(e.message).with_hint(
            "IAM changes take a few seconds to propagate; if this persists, check that the \
             processor role trusts lambda.amazonaws.com",
        );
    }
    e
}

pub async fn get(client: &Client, name: &str) -> Result<Option<FunctionConfiguration>, StepError> {
    match client.get_function().function_name(name).send().await {
        Ok(out) => Ok(out.configuration),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(sdk_error(&format!("GetFunction {name}"), e)),
    }
}

/// Configuration fields that differ between the deployed function and the desired one.
pub fn config_differences(
    current: &FunctionConfiguration,
    want: &Desired<'_>,
) -> Vec<&'static str> {
    let mut diff = Vec::new();
    let l = want.lambda;
    if current.memory_size() != Some(l.memory_mb as i32) {
        diff.push("memory");
    }
    if current.timeout() != Some(l.timeout_seconds as i32) {
        diff.push("timeout");
    }
    if current.runtime().map(Runtime::as_str) != Some(l.runtime.as_str()) {
        diff.push("runtime");
    }
    if current.handler() != Some(l.handler.as_str()) {
        diff.push("handler");
    }
    if current.role() != Some(want.role_arn) {
        diff.push("role");
    }
    let deployed: BTreeMap<String, String> = current
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if deployed != want.env {
        diff.push("environment");
    }
    diff
}

fn environment(want: &Desired<'_>) -> Environment {
    want.env
        .iter()
        .fold(Environment::builder(), |b, (k, v)| b.variables(k, v))
        .build()
}

/// The configuration `want` gives a function, set alike on a create and on a configuration
/// update (two request builders with the same setters). `config_differences` compares the
/// same fields.
macro_rules! configured {
    ($request:expr, $want:expr) => {
        $request
            .runtime(Runtime::from($want.lambda.runtime.as_str()))
            .role($want.role_arn)
            .handler(&$want.lambda.handler)
            .memory_size($want.lambda.memory_mb as i32)
            .timeout($want.lambda.timeout_seconds as i32)
            .environment(environment($want))
    };
}

/// Creates or updates the function so it matches `want`, then waits until it is usable.
pub async fn deploy(
    client: &Client,
    policy: &RetryPolicy,
    want: &Desired<'_>,
) -> Result<Deployed, StepError> {
    let name = want.lambda.function_name.as_str();
    let local_sha = want.package.sha256_base64();
    let (current, adopted) = match get(client, name).await? {
        Some(current) => (current, false),
        None => match create(client, policy, want).await? {
            Some(out) => {
                let done = wait_ready(client, name).await?;
                let arn = out.function_arn.or(done.function_arn).unwrap_or_default();
                return Ok(Deployed {
                    arn,
                    code: CodeAction::Created,
                    config_changes: Vec::new(),
                    code_sha256: out.code_sha256.unwrap_or(local_sha),
                });
            }
            // It exists after all: an earlier attempt's answer was lost, or someone else made
            // it in between. Either way it is updated only if its tags say it is ours.
            None => match get(client, name).await? {
                Some(current) => (current, true),
                None => {
                    return Err(StepError::transient(format!(
                        "CreateFunction {name}: AWS said it exists, then that it does not"
                    )));
                }
            },
        },
    };
    if !want.owned || adopted {
        refuse_foreign(client, name, &want.tags).await?;
    }
    // An earlier create or update may still be in progress: wait for it before comparing or
    // changing anything. (An `Inactive` function is left as it is: the next invoke wakes it.)
    let current = if in_transition(&current) {
        wait_ready(client, name).await?
    } else {
        current
    };
    let code = if current.code_sha256() == Some(local_sha.as_str()) {
        CodeAction::Unchanged
    } else {
        let update = || async {
            client
                .update_function_code()
                .function_name(name)
                .zip_file(Blob::new(want.package.bytes.clone()))
                .send()
                .await
                .map_err(|e| classify(&format!("UpdateFunctionCode {name}"), e))
        };
        policy.retry(update).await?;
        wait_ready(client, name).await?;
        CodeAction::Updated
    };
    let config_changes = config_differences(&current, want);
    if !config_changes.is_empty() {
        let update = || async {
            let request = client.update_function_configuration().function_name(name);
            configured!(request, want)
                .send()
                .await
                .map_err(|e| classify(&format!("UpdateFunctionConfiguration {name}"), e))
        };
        policy.retry(update).await?;
        wait_ready(client, name).await?;
    }
    Ok(Deployed {
        arn: current.function_arn().unwrap_or_default().to_string(),
        code,
        config_changes,
        code_sha256: local_sha,
    })
}

/// Creates the function; `None` when it already exists (`ResourceConflictException`).
async fn create(
    client: &Client,
    policy: &RetryPolicy,
    want: &Desired<'_>,
) -> Result<Option<CreateFunctionOutput>, StepError> {
    let name = want.lambda.function_name.as_str();
    let create = || async {
        let request = client.create_function().function_name(name);
        let sent = configured!(request, want)
            .set_tags(Some(want.tags.clone().into_iter().collect()))
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(want.package.bytes.clone()))
                    .build(),
            )
            .send()
            .await;
        match sent {
            Ok(out) => Ok(Some(out)),
            Err(e) if error_code(&e) == Some("ResourceConflictException") => Ok(None),
            Err(e) => Err(classify(&format!("CreateFunction {name}"), e)),
        }
    };
    policy.retry(create).await
}

/// A function with this deployment's name that its inventory does not record is updated only
/// when it carries this deployment's ownership tags (a create whose answer was lost); anything
/// else is another deployment's, or made by hand, and is left as it is.
async fn refuse_foreign(
    client: &Client,
    name: &str,
    ours: &BTreeMap<String, String>,
) -> Result<(), StepError> {
    let out = client
        .get_function()
        .function_name(name)
        .send()
        .await
        .map_err(|e| sdk_error(&format!("GetFunction {name}"), e))?;
    let tags: BTreeMap<String, String> = out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if crate::catalog::carries(&tags, ours) {
        return Ok(());
    }
    Err(StepError::permanent(format!(
        "the function {name} already exists but is not this deployment's (it is not in the \
         inventory, and its tags {tags:?} are not {ours:?}); it was not changed"
    ))
    .with_hint(
        "give this deployment's functions other names ([lambdas.<key>] function_name), or \
         remove the function if it is nobody's",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_propagation_message_is_recognised() {
        assert!(role_not_assumable(
            "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda."
        ));
        assert!(!role_not_assumable(
            "InvalidParameterValueException: bad handler"
        ));
    }
}

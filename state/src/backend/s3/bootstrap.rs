//! The state bucket: created when missing the way Terragrunt's `remote_state` does (versioned,
//! encrypted, all public access blocked, TLS only), checked when it exists, never deleted.

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};

use super::S3Settings;
use super::client::{map_err, status_of};
use super::objects::Bucket;
use crate::error::LedgerError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketReport {
    /// It did not exist and was made.
    Created,
    /// It exists; what is weaker than it should be.
    Exists { warnings: Vec<String> },
    /// It does not exist (and was not to be made).
    Missing,
}

pub(super) async fn ensure(
    b: &Bucket,
    s: &S3Settings,
    create: bool,
) -> Result<BucketReport, LedgerError> {
    let (c, bucket) = (b.client.clone(), b.name.clone());
    let location = format!("s3://{bucket}");
    let exists = match c.head_bucket().bucket(&bucket).send().await {
        Ok(_) => true,
        Err(e) if status_of(&e) == Some(404) => false,
        Err(e) => return Err(map_err(&location, e)),
    };
    if exists {
        return Ok(BucketReport::Exists {
            warnings: check(c, bucket, location).await,
        });
    }
    if !create {
        return Ok(BucketReport::Missing);
    }
    let (region, kms) = (s.region.clone(), s.kms_key_id.clone());
    make(c, bucket, location, region, kms).await?;
    Ok(BucketReport::Created)
}

async fn check(c: aws_sdk_s3::Client, bucket: String, location: String) -> Vec<String> {
    let mut warnings = Vec::new();
    match c.get_bucket_versioning().bucket(&bucket).send().await {
        Ok(v) if v.status() == Some(&BucketVersioningStatus::Enabled) => {}
        Ok(_) => warnings.push(format!(
            "versioning is off on {location}: an overwritten or deleted state object cannot be \
             recovered; turn it on (aws s3api put-bucket-versioning)"
        )),
        Err(e) => warnings.push(format!("cannot read the versioning of {location}: {e}")),
    }
    match c.get_bucket_encryption().bucket(&bucket).send().await {
        Ok(e)
            if e.server_side_encryption_configuration()
                .is_some_and(|c| !c.rules().is_empty()) => {}
        Ok(_) => warnings.push(format!("default encryption is off on {location}")),
        Err(e) if status_of(&e) == Some(404) => {
            warnings.push(format!("default encryption is off on {location}"));
        }
        Err(e) => warnings.push(format!("cannot read the encryption of {location}: {e}")),
    }
    warnings
}

async fn make(
    c: aws_sdk_s3::Client,
    bucket: String,
    location: String,
    region: String,
    kms: Option<String>,
) -> Result<(), LedgerError> {
    let mut create = c.create_bucket().bucket(&bucket);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    create.send().await.map_err(|e| map_err(&location, e))?;
    c.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| map_err(&location, e))?;
    let by_default = match &kms {
        Some(key) => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key),
        None => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
        }
    }
    .build()
    .expect("the algorithm is set");
    c.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .bucket_key_enabled(kms.is_some())
                        .build(),
                )
                .build()
                .expect("one rule"),
        )
        .send()
        .await
        .map_err(|e| map_err(&location, e))?;
    c.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| map_err(&location, e))?;
    c.put_bucket_policy()
        .bucket(&bucket)
        .policy(tls_only_policy(&bucket))
        .send()
        .await
        .map_err(|e| map_err(&location, e))?;
    Ok(())
}

/// Denies every request to the bucket that does not use TLS.
fn tls_only_policy(bucket: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [
                format!("arn:aws:s3:::{bucket}"),
                format!("arn:aws:s3:::{bucket}/*"),
            ],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    })
    .to_string()
}

//! Requests on the objects of the state bucket, by full key, on the caller's runtime.

use aws_sdk_s3::primitives::ByteStream;

use super::client::{map_err, status_of};
use crate::backend::{Object, Precondition, Version};
use crate::error::LedgerError;

/// The state bucket, as the backend and its lock's heartbeat reach it. Cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub(super) client: aws_sdk_s3::Client,
    pub(super) name: String,
}

impl Bucket {
    /// `s3://bucket/key`, for people.
    pub(super) fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.name)
    }

    pub(super) async fn get(&self, key: &str) -> Result<Option<Object>, LedgerError> {
        let location = self.uri(key);
        let req = self.client.get_object().bucket(&self.name).key(key);
        let out = match req.send().await {
            Ok(o) => o,
            Err(e) if status_of(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(map_err(&location, e)),
        };
        let version = out.e_tag().unwrap_or_default().to_string();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| LedgerError::storage(&location, format!("reading the body: {e}")))?
            .into_bytes()
            .to_vec();
        Ok(Some(Object { bytes, version }))
    }

    /// A whole object replaced at once (S3 never shows a partial one), under `pre`.
    pub(super) async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        pre: Precondition,
    ) -> Result<Version, LedgerError> {
        let conditional = matches!(pre, Precondition::Matches(_));
        let mut req = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .body(ByteStream::from(bytes));
        req = match pre {
            Precondition::None => req,
            Precondition::Absent => req.if_none_match("*"),
            Precondition::Matches(v) => req.if_match(v),
        };
        match req.send().await {
            Ok(out) => Ok(out.e_tag().unwrap_or_default().to_string()),
            // `If-Match` on an object that is gone: the version read no longer exists.
            Err(e) if conditional && status_of(&e) == Some(404) => Err(LedgerError::Conflict {
                location: self.uri(key),
            }),
            Err(e) => Err(map_err(&self.uri(key), e)),
        }
    }

    /// The object's current version, or `None` when it is gone.
    pub(super) async fn head(&self, key: &str) -> Result<Option<Version>, LedgerError> {
        match self
            .client
            .head_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
        {
            Ok(o) => Ok(Some(o.e_tag().unwrap_or_default().to_string())),
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e) => Err(map_err(&self.uri(key), e)),
        }
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), LedgerError> {
        let req = self.client.delete_object().bucket(&self.name).key(key);
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Ok(()),
            Err(e) => Err(map_err(&self.uri(key), e)),
        }
    }

    /// Every key under `prefix`, sorted (none when the bucket does not exist yet).
    pub(super) async fn list(&self, prefix: &str) -> Result<Vec<String>, LedgerError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.name)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                // No bucket yet: nothing stored.
                Err(e) if status_of(&e) == Some(404) => break,
                Err(e) => return Err(map_err(&self.uri(prefix), e)),
            };
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys.sort();
        Ok(keys)
    }
}

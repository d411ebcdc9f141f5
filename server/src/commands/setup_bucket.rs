//! `courier setup-bucket`: the bucket's CORS rule for the public origin and,
//! where the store has them, its lifecycle rules.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, CorsConfiguration, CorsRule, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};

use signer::Store;

use super::{CommandError, code_of, cors_rule_allows, describe, target};
use crate::settings::Settings;
use crate::storage;

/// Methods the browser uses on the bucket: POST uploads, GET downloads.
const CORS_METHODS: [&str; 4] = ["POST", "GET", "PUT", "HEAD"];
const LIFECYCLE_RULE_ID: &str = "courier-abort-incomplete-multipart";
const EXPIRE_UPLOADS_RULE_ID: &str = "courier-expire-unconfirmed-uploads";

/// Applies the CORS rule for the public origin and, where the store supports
/// it, a lifecycle rule that aborts incomplete multipart uploads. Idempotent;
/// returns one line per thing it looked at.
pub async fn setup_bucket(settings: &Settings) -> Result<Vec<String>, CommandError> {
    let target = target(settings)?;
    let store = storage::external(target.external).await?;
    let (client, bucket) = (&store.client, store.bucket.as_str());
    let mut report = Vec::new();

    let existing = match client.get_bucket_cors().bucket(bucket).send().await {
        Ok(output) => output.cors_rules().to_vec(),
        Err(error) if code_of(&error).as_deref() == Some("NoSuchCORSConfiguration") => Vec::new(),
        Err(error) => {
            return Err(CommandError::Failed(format!(
                "Could not read the bucket's CORS rules: {}",
                describe(&error)
            )));
        }
    };
    if existing.iter().any(|rule| cors_rule_allows(rule, &target.origin)) {
        report.push(format!("CORS: already allows {} (unchanged)", target.origin));
    } else {
        let mut rules = existing;
        rules.push(
            CorsRule::builder()
                .id("courier")
                .allowed_origins(target.origin.clone())
                .set_allowed_methods(Some(CORS_METHODS.iter().map(|m| m.to_string()).collect()))
                .allowed_headers("*")
                .expose_headers("ETag")
                .max_age_seconds(3600)
                .build()
                .map_err(|e| CommandError::Failed(e.to_string()))?,
        );
        let cors = CorsConfiguration::builder()
            .set_cors_rules(Some(rules))
            .build()
            .map_err(|e| CommandError::Failed(e.to_string()))?;
        client
            .put_bucket_cors()
            .bucket(bucket)
            .cors_configuration(cors)
            .send()
            .await
            .map_err(|e| CommandError::Failed(format!("Could not set the bucket's CORS rules: {}", describe(&e))))?;
        report.push(format!(
            "CORS: now allows {} to POST, GET, PUT and HEAD, and exposes ETag (changed)",
            target.origin
        ));
    }

    report.push(ensure_lifecycle(&store).await?);
    Ok(report)
}

async fn ensure_lifecycle(store: &Store) -> Result<String, CommandError> {
    let (client, bucket) = (&store.client, store.bucket.as_str());
    let existing = match client.get_bucket_lifecycle_configuration().bucket(bucket).send().await {
        Ok(output) => output.rules().to_vec(),
        Err(error) => match code_of(&error).as_deref() {
            Some("NoSuchLifecycleConfiguration") => Vec::new(),
            Some("NotImplemented") => return Ok("lifecycle: this store has no lifecycle rules (skipped)".to_owned()),
            _ => {
                return Err(CommandError::Failed(format!(
                    "Could not read the bucket's lifecycle rules: {}",
                    describe(&error)
                )));
            }
        },
    };
    let aborts = existing
        .iter()
        .any(|rule| rule.abort_incomplete_multipart_upload().is_some() && rule.status() == &ExpirationStatus::Enabled);
    let expires = existing.iter().any(|rule| rule.id() == Some(EXPIRE_UPLOADS_RULE_ID));
    if aborts && expires {
        return Ok(
            "lifecycle: incomplete multipart uploads are aborted and unconfirmed uploads expire (unchanged)".to_owned(),
        );
    }
    let mut rules = existing;
    if !aborts {
        rules.push(
            LifecycleRule::builder()
                .id(LIFECYCLE_RULE_ID)
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(1)
                        .build(),
                )
                .build()
                .map_err(|e| CommandError::Failed(e.to_string()))?,
        );
    }
    if !expires {
        // A confirmed upload is copied to files/; whatever stays under
        // uploads/ was never confirmed (or was written again by its grant).
        rules.push(
            LifecycleRule::builder()
                .id(EXPIRE_UPLOADS_RULE_ID)
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("uploads/").build())
                .expiration(LifecycleExpiration::builder().days(1).build())
                .build()
                .map_err(|e| CommandError::Failed(e.to_string()))?,
        );
    }
    let configuration = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    match client
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
    {
        Ok(_) => Ok(
            "lifecycle: incomplete multipart uploads are aborted, and unconfirmed uploads expire, after 1 day (changed)"
                .to_owned(),
        ),
        Err(error) if code_of(&error).as_deref() == Some("NotImplemented") => {
            Ok("lifecycle: this store has no lifecycle rules (skipped)".to_owned())
        }
        Err(error) => Err(CommandError::Failed(format!(
            "Could not set the lifecycle rule: {}",
            describe(&error)
        ))),
    }
}

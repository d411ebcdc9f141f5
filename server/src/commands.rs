//! `courier setup-bucket` and `courier check`: make a configured bucket ready
//! for browser uploads, and prove before a deploy that it is.

use std::time::Duration;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, CorsConfiguration, CorsRule, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};
use time::OffsetDateTime;
use url::Url;

use app::signing::{ConfirmRequest, Signer, Store, UploadRequest};

use crate::settings::{ExternalStore, Settings, SettingsError, StorageSettings};
use crate::storage;

/// Methods the browser uses on the bucket: POST uploads, GET downloads.
const CORS_METHODS: [&str; 4] = ["POST", "GET", "PUT", "HEAD"];
const LIFECYCLE_RULE_ID: &str = "courier-abort-incomplete-multipart";
const EXPIRE_UPLOADS_RULE_ID: &str = "courier-expire-unconfirmed-uploads";

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Settings(#[from] SettingsError),
    #[error("{0}")]
    Storage(#[from] storage::StorageError),
    #[error("this command needs COURIER_BUCKET (the embedded store sets itself up at start)")]
    NoBucket,
    #[error("this command needs COURIER_PUBLIC_URL: the bucket's CORS rule must allow the app's public origin")]
    NoPublicUrl,
    #[error("{0}")]
    Failed(String),
}

struct Target<'a> {
    external: &'a ExternalStore,
    public_url: &'a Url,
    origin: String,
}

fn target(settings: &Settings) -> Result<Target<'_>, CommandError> {
    let StorageSettings::External(external) = &settings.storage else {
        return Err(CommandError::NoBucket);
    };
    let public_url = settings.public_url.as_ref().ok_or(CommandError::NoPublicUrl)?;
    Ok(Target {
        external,
        public_url,
        origin: public_url.origin().ascii_serialization(),
    })
}

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

/// One finding of `courier check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub ok: bool,
    pub sentence: String,
}

impl Finding {
    fn pass(sentence: String) -> Self {
        Self { ok: true, sentence }
    }
    fn fail(sentence: String) -> Self {
        Self { ok: false, sentence }
    }
}

/// Checks, in order, and stops at the first failure: credentials and bucket,
/// CORS for the public origin, and a signed upload and download round trip.
pub async fn check(settings: &Settings) -> Result<Vec<Finding>, CommandError> {
    let target = target(settings)?;
    let store = storage::external(target.external).await?;
    let bucket = store.bucket.clone();
    let endpoint = store.post_url.clone();
    let mut findings = Vec::new();

    if let Err(error) = store.client.head_bucket().bucket(&bucket).send().await {
        let status = error.raw_response().map(|r| r.status().as_u16());
        findings.push(Finding::fail(match status {
            Some(404) => format!("The bucket {bucket} does not exist at {endpoint}: create it, or fix COURIER_BUCKET."),
            Some(401 | 403) => format!(
                "The store refused Courier's credentials for bucket {bucket}: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that the key may read and write the bucket."
            ),
            Some(code) => format!("The store answered {code} for bucket {bucket}: {}.", describe(&error)),
            None => format!("The store at {endpoint} could not be reached ({}): check AWS_ENDPOINT_URL_S3 and the network.", describe(&error)),
        }));
        return Ok(findings);
    }
    findings.push(Finding::pass(format!(
        "Credentials accepted; bucket {bucket} is reachable."
    )));

    let cors = store.client.get_bucket_cors().bucket(&bucket).send().await;
    let allowed = cors
        .as_ref()
        .map(|c| c.cors_rules().iter().any(|r| cors_rule_allows(r, &target.origin)))
        .unwrap_or(false);
    if !allowed {
        findings.push(Finding::fail(format!(
            "The bucket's CORS rules do not let {} POST uploads and read ETag: run `courier setup-bucket`.",
            target.origin
        )));
        return Ok(findings);
    }
    findings.push(Finding::pass(format!("CORS allows {} to upload.", target.origin)));

    let secret = settings.secret.clone().ok_or(SettingsError::MissingSecret)?;
    let client = store.client.clone();
    let signer = Signer::new(store, secret, target.public_url.clone(), settings.limits.clone());
    findings.push(match round_trip(&signer, &target).await {
        Ok(key) => {
            // Best effort: without s3:DeleteObject the test file stays, which is harmless.
            let removed = client.delete_object().bucket(&bucket).key(&key).send().await.is_ok();
            let tail = if removed {
                ""
            } else {
                " (its test file stays: the credentials may not delete)"
            };
            Finding::pass(format!("A signed upload and download round trip works{tail}."))
        }
        Err(sentence) => Finding::fail(sentence),
    });
    Ok(findings)
}

/// Uploads a small file with a signed policy, as a browser would, confirms it
/// and downloads it through a signed link; returns the test file's key.
async fn round_trip(signer: &Signer, target: &Target<'_>) -> Result<String, String> {
    let body = format!("courier check {}\n", OffsetDateTime::now_utc());
    let request = UploadRequest {
        filename: "courier-check.txt".to_owned(),
        content_type: "text/plain".to_owned(),
        size: body.len() as u64,
    };
    let grant = signer
        .grant_upload(request, OffsetDateTime::now_utc())
        .await
        .map_err(|e| format!("Signing failed: {e}"))?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in &grant.fields {
        form = form.text(name.clone(), value.clone());
    }
    let part = reqwest::multipart::Part::text(body.clone())
        .file_name("courier-check.txt")
        .mime_str("text/plain")
        .map_err(|e| e.to_string())?;
    form = form.part("file", part);
    let response = http
        .post(&grant.url)
        .header(reqwest::header::ORIGIN, &target.origin)
        .multipart(form)
        .send()
        .await
        .map_err(|e| {
            format!(
                "The signed upload could not reach {} ({e}): check the endpoint.",
                grant.url
            )
        })?;
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let why = app::store_error::StoreError::parse(&text)
            .map(|e| format!("{}: {}", e.code, e.message))
            .unwrap_or(text);
        return Err(format!(
            "The store refused a signed upload ({status}, {why}): the credentials may lack s3:PutObject, or the store rejects the policy."
        ));
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let redirect =
        Url::parse(&location).map_err(|_| format!("The store redirected to \"{location}\", not to Courier."))?;
    let expected = target.public_url.join("confirm-upload").map_err(|e| e.to_string())?;
    if redirect.as_str().split('?').next() != Some(expected.as_str()) {
        return Err(format!(
            "The store redirected to {location} instead of {expected}: check COURIER_PUBLIC_URL."
        ));
    }
    let query = |name: &str| {
        redirect
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let confirm = ConfirmRequest {
        token: query("token"),
        bucket: query("bucket"),
        key: query("key"),
        etag: query("etag"),
    };
    let link = signer
        .confirm(confirm, OffsetDateTime::now_utc())
        .await
        .map_err(|e| format!("Confirming the upload failed: {e}"))?;
    let downloaded = http
        .get(&link.download_url)
        .send()
        .await
        .map_err(|e| format!("The download link could not be fetched ({e})."))?;
    let ok = downloaded.status().is_success();
    let bytes = downloaded.bytes().await.unwrap_or_default();
    if !ok || bytes != body.as_bytes() {
        return Err(
            "The signed download link did not return the uploaded bytes: the credentials may lack s3:GetObject."
                .to_owned(),
        );
    }
    Ok(link.key)
}

fn cors_rule_allows(rule: &CorsRule, origin: &str) -> bool {
    let origin_ok = rule.allowed_origins().iter().any(|o| o == "*" || o == origin);
    let methods_ok = ["POST", "GET"]
        .iter()
        .all(|m| rule.allowed_methods().iter().any(|a| a.eq_ignore_ascii_case(m)));
    let etag_ok = rule.expose_headers().iter().any(|h| h.eq_ignore_ascii_case("etag"));
    origin_ok && methods_ok && etag_ok
}

fn code_of<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> Option<String> {
    error.as_service_error().and_then(|e| e.code()).map(str::to_owned)
}

fn describe<E: std::error::Error + 'static, R: std::fmt::Debug>(error: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    aws_sdk_s3::error::DisplayErrorContext(error).to_string()
}

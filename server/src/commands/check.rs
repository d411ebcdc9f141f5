//! `courier check`: credentials, bucket, CORS and a real signed upload and
//! download round trip, each failure one sentence with its fix.

use std::time::Duration;

use time::OffsetDateTime;
use url::Url;

use signer::{ConfirmRequest, LinkKind, Signer, UploadRequest};

use super::{CommandError, Target, cors_rule_allows, describe, target};
use crate::settings::{Settings, SettingsError};
use crate::storage;

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
    let signer = match Signer::new(store, secret, target.public_url, settings.limits.clone()) {
        Ok(signer) => signer,
        Err(e) => {
            findings.push(Finding::fail(format!("Courier cannot sign for this store: {e}.")));
            return Ok(findings);
        }
    };
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
        link: LinkKind::Expiring,
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

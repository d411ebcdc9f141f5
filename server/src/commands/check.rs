//! `courier check`: credentials, bucket, CORS, a real signed upload and
//! download round trip and, with public links on, a public one that anyone
//! may read while private files stay private; each failure one sentence with
//! its fix. The test files are deleted as their owner would delete them.

use std::time::Duration;

use time::OffsetDateTime;
use url::Url;

use courier_shares::ShareDb;
use signer::object_key::{KEY_PATH, ObjectKey};
use signer::{ConfirmRequest, DownloadLink, LinkKind, Signer, UploadRequest};

use super::bucket::{CommandError, Target, cors_rule_allows, describe, target};
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

/// The share database: reachable, and every migration this build knows
/// applied (opening it applies them, as Courier's start does).
/// Who may upload, as the server will serve it.
fn access(settings: &Settings) -> Finding {
    match settings.access.chosen() {
        Ok(mode) => Finding::pass(format!("Uploads: COURIER_UPLOAD_ACCESS is {}.", mode.as_str())),
        Err(error) => Finding::fail(format!("{error}.")),
    }
}

async fn database(settings: &Settings) -> Finding {
    let database = &settings.database;
    let opened = match ShareDb::open(database).await {
        Ok(opened) => opened,
        Err(error) => {
            // The error names the database itself (without its password).
            return Finding::fail(format!(
                "{}. Check COURIER_DATABASE_URL (or COURIER_DATA_DIR for SQLite).",
                sentence_case(&error.to_string())
            ));
        }
    };
    let finding = match opened.status().await {
        Ok(status) if status.is_current() => Finding::pass(format!(
            "The share database ({database}) is reachable, with all {} migrations applied.",
            status.known
        )),
        Ok(status) => Finding::fail(format!(
            "The share database ({database}) has {} of this build's {} migrations applied: start Courier once to apply them.",
            status.applied, status.known
        )),
        Err(error) => Finding::fail(format!("The share database ({database}) did not answer: {error}.")),
    };
    opened.close().await;
    finding
}

/// `text` with its first letter upper case.
fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Checks, in order: the share database; credentials and bucket, CORS for the public origin, and
/// a signed upload and download round trip (stopping at the first of these
/// that fails); then, with public links on, a public round trip and that
/// private files are not served without a signature; then deletes the test
/// files with their owner's token.
pub async fn check(settings: &Settings) -> Result<Vec<Finding>, CommandError> {
    let target = target(settings)?;
    let store = storage::external(target.external).await?;
    let bucket = store.bucket.clone();
    let endpoint = store.post_url.clone();
    let mut findings = vec![database(settings).await, access(settings)];

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

    let secret = (settings.secret.clone().ok_or(SettingsError::MissingSecret)?).accepting(&settings.previous_secrets);
    let client = store.client.clone();
    let signer = match Signer::new(store, secret, target.public_url, settings.limits.clone()) {
        Ok(signer) => signer,
        Err(e) => {
            findings.push(Finding::fail(format!("Courier cannot sign for this store: {e}.")));
            return Ok(findings);
        }
    };
    let http = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(http) => http,
        Err(e) => return Err(CommandError::Failed(format!("No HTTP client: {e}"))),
    };
    // Every file confirmed here, to delete at the end whatever happens.
    let mut test_files = Vec::new();
    let private = match round_trip(&signer, &target, &http, LinkKind::Expiring, &mut test_files).await {
        Ok(link) => link,
        Err(sentence) => {
            findings.push(Finding::fail(sentence));
            if !test_files.is_empty() {
                findings.push(delete_test_files(&signer, &client, &bucket, &test_files).await);
            }
            return Ok(findings);
        }
    };
    findings.push(Finding::pass(
        "A signed upload and download round trip works.".to_owned(),
    ));

    if settings.limits.links.public {
        findings.push(
            match round_trip(&signer, &target, &http, LinkKind::Public, &mut test_files).await {
                Ok(public) => Finding::pass(format!(
                    "A public link serves its file without a signature ({}).",
                    public.download_url
                )),
                Err(sentence) => Finding::fail(sentence),
            },
        );
        findings.push(private_stays_private(&signer, &http, &endpoint, &private).await);
    } else {
        findings.push(Finding::pass(
            "Public links are off (COURIER_PUBLIC_LINKS=false): nothing to check.".to_owned(),
        ));
    }

    findings.push(delete_test_files(&signer, &client, &bucket, &test_files).await);
    Ok(findings)
}

/// An anonymous GET of the private test file, through the public base and
/// through the store's own bucket URL, must not succeed.
async fn private_stays_private(
    signer: &Signer,
    http: &reqwest::Client,
    bucket_url: &str,
    private: &DownloadLink,
) -> Finding {
    let Ok(key) = ObjectKey::parse(&private.key) else {
        return Finding::fail(format!("The test file's key {} is not Courier's.", private.key));
    };
    let through_base = signer.public_url(&key);
    let direct = format!(
        "{}/{}",
        bucket_url.trim_end_matches('/'),
        percent_encoding::utf8_percent_encode(key.as_str(), KEY_PATH)
    );
    let mut urls = vec![(through_base, "COURIER_PUBLIC_BASE_URL must serve only public/files/")];
    if urls[0].0 != direct {
        urls.push((
            direct,
            "the bucket must let anonymous readers GET public/files/ only (check its policy and ACLs)",
        ));
    }
    for (url, fix) in &urls {
        // Unreachable is not readable.
        let Ok(response) = http.get(url).send().await else {
            continue;
        };
        if response.status().is_success() {
            return Finding::fail(format!(
                "Private files are readable without a signature through {url}: {fix}."
            ));
        }
    }
    let through: Vec<&str> = urls.iter().map(|(url, _)| url.as_str()).collect();
    Finding::pass(format!(
        "Private files are not served without a signature ({}).",
        through.join(", ")
    ))
}

/// Deletes the test files as their owner would (which proves the store lets
/// Courier delete), or else at least tries to remove them.
async fn delete_test_files(
    signer: &Signer,
    client: &aws_sdk_s3::Client,
    bucket: &str,
    links: &[DownloadLink],
) -> Finding {
    let mut refused = None;
    for link in links {
        if let Err(error) = signer.delete(&link.key, &link.token, OffsetDateTime::now_utc()).await {
            refused.get_or_insert(error);
            // Best effort: without s3:DeleteObject the test file stays, which is harmless.
            let _ = client.delete_object().bucket(bucket).key(&link.key).send().await;
        }
    }
    match refused {
        None => Finding::pass("Deleting a file with its owner's token works (the test files are gone).".to_owned()),
        Some(error) => Finding::fail(format!(
            "Deleting the test file with its owner's token failed ({error}): the credentials need s3:DeleteObject on files/* and public/files/*, or the Delete button will fail."
        )),
    }
}

/// Uploads a small file with a signed policy, as a browser would, confirms it
/// (adding its link to `confirmed`) and downloads it through its link: a
/// signed one, or a public one without any signature. Returns the link.
async fn round_trip(
    signer: &Signer,
    target: &Target<'_>,
    http: &reqwest::Client,
    kind: LinkKind,
    confirmed: &mut Vec<DownloadLink>,
) -> Result<DownloadLink, String> {
    let body = format!("courier check {} ({})\n", OffsetDateTime::now_utc(), kind.as_str());
    let request = UploadRequest {
        filename: "courier-check.txt".to_owned(),
        content_type: "text/plain".to_owned(),
        size: body.len() as u64,
        link: kind,
        seal: None,
    };
    let grant = signer
        .grant_upload(request, OffsetDateTime::now_utc())
        .await
        .map_err(|e| format!("Signing failed: {e}"))?;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in &grant.fields {
        form = form.text(name.to_owned(), value.to_owned());
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
    confirmed.push(link.clone());
    let url = &link.download_url;
    let downloaded = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("The download link {url} could not be fetched ({e})."))?;
    let status = downloaded.status();
    let bytes = downloaded.bytes().await.unwrap_or_default();
    match kind {
        LinkKind::Expiring if !status.is_success() || bytes != body.as_bytes() => Err(
            "The signed download link did not return the uploaded bytes: the credentials may lack s3:GetObject."
                .to_owned(),
        ),
        LinkKind::Public if !status.is_success() => Err(format!(
            "An anonymous GET of {url} answered {}: run `courier setup-bucket` (AWS; Block Public Access must allow its bucket policy), or set COURIER_PUBLIC_BASE_URL to a proxy that serves public/files/ (Garage, MinIO…), or set COURIER_PUBLIC_LINKS=false.",
            status.as_u16()
        )),
        LinkKind::Public if bytes != body.as_bytes() => Err(format!(
            "An anonymous GET of {url} answered other bytes than were uploaded: COURIER_PUBLIC_BASE_URL must serve the bucket's public/files/ under its own path."
        )),
        _ => Ok(link),
    }
}

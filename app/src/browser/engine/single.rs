//! The single-POST strategy: sign, POST the whole file straight to the
//! store with its grant's form (with progress), follow the store's 303 to
//! `/confirm-upload` like fetch does. A POST that got no answer may still
//! have reached the store: Courier is asked before the file goes again.

use std::rc::Rc;

use web_sys::{Blob, File, FormData};

use super::super::calls;
use super::super::transfer::{Body, Ended, ProgressPace, Xhr, broken, unreachable_store};
use super::outcome::{Halt, Phase, Settings, Watcher};
use super::record::{Attempt, UploadRecord};
use super::sealing::Sealing;
use super::wait::sleep;
use crate::error::CourierError;
use crate::model::{DownloadLink, UploadGrant};
use crate::store_error::read_upload_answer;
use wire::seal::SEALED_NAME;

/// Sends `file` in one POST; its link.
pub async fn send(
    record: &UploadRecord,
    attempt: &Rc<Attempt>,
    settings: &Settings,
    watcher: impl Watcher,
    file: &File,
    sealing: Option<&Sealing>,
) -> Result<DownloadLink, Halt> {
    // An encrypted file goes as its records, sealed once for this attempt.
    let (body, size): (Blob, u64) = match sealing {
        Some(sealing) => {
            watcher.phase(Phase::Signing);
            let sealed = sealing.seal(file, 0, file.size() as u64).await?;
            let size = sealed.size() as u64;
            (sealed, size)
        }
        None => (file.clone().into(), file.size() as u64),
    };
    if let Some(grant) = record.take_sent() {
        watcher.phase(Phase::Confirming);
        match link_for_sent(&grant).await {
            Some(Ok(link)) => return Ok(link),
            Some(Err(error @ (CourierError::Network(_) | CourierError::StoreUnavailable(_)))) => {
                record.set_sent(grant);
                return Err(error.into());
            }
            // Not there (or its token has expired): send the file again.
            Some(Err(_)) | None => {}
        }
    }
    // A policy can expire between signing and the store reading it (a laptop
    // asleep mid-way): sign again, once, by ourselves.
    let mut signed_again = false;
    loop {
        watcher.phase(Phase::Signing);
        let grant = match sealing {
            Some(sealing) => calls::sign_sealed_upload(size, record.link, &sealing.seal).await?,
            None => calls::sign_upload(file.name(), file.type_(), size, record.link, record.request.as_deref()).await?,
        };
        attempt.check()?;
        watcher.phase(Phase::Uploading);
        let started = js_sys::Date::now();
        watcher.progress(0, size, 0.0);
        // The browser counts the whole form (fields too); people count their file.
        let pace = ProgressPace::new();
        let on_progress = move |loaded: f64, total: f64| {
            if loaded < total && !pace.due() {
                return;
            }
            let sent = loaded / total.max(1.0) * size as f64;
            let seconds = (js_sys::Date::now() - started) / 1000.0;
            let bytes_per_sec = if seconds > 0.0 { sent / seconds } else { 0.0 };
            watcher.progress(sent as u64, size, bytes_per_sec);
        };
        let going = Rc::clone(attempt);
        let on_sent = move || {
            if going.going() {
                watcher.phase(Phase::Confirming);
            }
        };
        // An encrypted file's form names it as Courier stores it: its own
        // name is only in its seal.
        let name = match sealing {
            Some(_) => SEALED_NAME.to_owned(),
            None => file.name(),
        };
        let xhr = post(&grant, &body, &name, on_progress, on_sent)?;
        let request = xhr.request();
        attempt.track(&request);
        let ended = xhr.ended().await;
        attempt.untrack(&request);
        let answer = match ended {
            Ended::Aborted => {
                attempt.check()?;
                Err(unreachable_store())
            }
            // Status 0 after a load means the browser refused to let us read it (CORS).
            Ended::Answered { status: 0, .. } | Ended::NoAnswer => Err(unreachable_store()),
            Ended::Answered { status, body } => read_upload_answer(status, &body, settings.max_bytes),
        };
        match answer {
            Ok(link) => return Ok(link),
            Err(CourierError::PolicyExpired(_)) if !signed_again => signed_again = true,
            // No answer: the store may well have stored the file and
            // redirected to a Courier that was not there (restarting, say).
            // Chromium reports the upload as sent only once an answer comes,
            // so this cannot wait for that. Sending the file again would
            // waste the bytes: ask Courier, which says if the store has it.
            Err(error @ CourierError::Network(_)) => {
                return confirm_when_back(record, attempt, watcher, grant, error).await;
            }
            // The store took the file, but Courier could not reach it to check.
            Err(error @ CourierError::StoreUnavailable(_)) => {
                record.set_sent(grant);
                return Err(error.into());
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// POSTs the grant's fields, then the file (S3 reads every field first);
/// `on_progress(loaded, total)` as the bytes go, `on_sent()` once the last is out.
fn post(
    grant: &UploadGrant,
    body: &Blob,
    name: &str,
    on_progress: impl Fn(f64, f64) + 'static,
    on_sent: impl Fn() + 'static,
) -> Result<Xhr, CourierError> {
    let form = FormData::new().map_err(|_| broken("the upload form could not be built"))?;
    for (name, value) in &grant.fields {
        form.append_with_str(name, value)
            .map_err(|_| broken("the upload form could not be built"))?;
    }
    form.append_with_blob_and_filename("file", body, name)
        .map_err(|_| broken("the file could not be attached"))?;
    let headers = [("Accept", "application/json")];
    Xhr::send("POST", &grant.url, &headers, Body::Form(&form), on_progress, on_sent)
}

/// First wait between confirmation attempts, and the longest.
const FIRST_WAIT_MS: f64 = 1_000.0;
const LONGEST_WAIT_MS: f64 = 15_000.0;

/// Confirms an upload whose store redirect found no Courier: with the
/// upload's own token (in the grant's redirect URL), again and again with a
/// growing wait while Courier cannot be reached, for as long as the token
/// lives. `failed` is what the upload itself ended with. When Courier
/// answers that the store cannot be reached, that is the upload's end: Retry
/// asks again before it sends anything.
async fn confirm_when_back(
    record: &UploadRecord,
    attempt: &Attempt,
    watcher: impl Watcher,
    grant: UploadGrant,
    failed: CourierError,
) -> Result<DownloadLink, Halt> {
    let Some((_, expires_ms)) = upload_token(&grant) else {
        return Err(failed.into());
    };
    let mut wait = FIRST_WAIT_MS;
    loop {
        match link_for_sent(&grant).await {
            Some(Ok(link)) => {
                watcher.note(None);
                return Ok(link);
            }
            Some(Err(CourierError::Network(_) | CourierError::Internal(_)))
                if js_sys::Date::now() + wait < expires_ms =>
            {
                watcher.phase(Phase::Confirming);
                watcher.note(Some(
                    "Courier is not answering. Asking again whether the file arrived…".to_owned(),
                ));
                sleep(wait).await;
                wait = (wait * 2.0).min(LONGEST_WAIT_MS);
                attempt.check()?;
            }
            Some(Err(error @ CourierError::StoreUnavailable(_))) => {
                watcher.note(None);
                record.set_sent(grant);
                return Err(error.into());
            }
            // Courier answers, and the store holds no such file: the upload
            // itself is what failed.
            Some(Err(CourierError::NotFound(_))) | None => return Err(failed.into()),
            Some(Err(other)) => return Err(other.into()),
        }
    }
}

/// The link to a file sent with `grant`, asked with the upload's own token
/// (`None`: the grant has no token that still lives).
async fn link_for_sent(grant: &UploadGrant) -> Option<Result<DownloadLink, CourierError>> {
    let (token, expires_ms) = upload_token(grant)?;
    if js_sys::Date::now() >= expires_ms {
        return None;
    }
    Some(calls::sign_download(grant.key.clone(), token).await)
}

/// The upload token in a grant's redirect URL, and when it expires (ms).
fn upload_token(grant: &UploadGrant) -> Option<(String, f64)> {
    let token = grant
        .fields
        .get("success_action_redirect")
        .and_then(|url| url.split_once("token=").map(|(_, token)| token.to_owned()))?;
    // `<scope>.<expiry unix seconds>.<mac>`; whole seconds (a float parser
    // would add 4 KB to the bundle for this one number).
    let seconds = token.split('.').nth(1)?.parse::<u64>().ok()?;
    Some((token, seconds as f64 * 1000.0))
}

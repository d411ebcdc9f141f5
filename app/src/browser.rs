//! In the browser: sign, POST the file straight to the store, follow its 303
//! to `/confirm-upload` and read the link. No page navigation happens.

use gloo_net::http::Request;
use leptos::prelude::*;
use web_sys::{File, FormData};

use crate::error::CourierError;
use crate::file_rules::FileRules;
use crate::model::{DownloadLink, UploadGrant};
use crate::store_error::StoreError;
use crate::upload::Phase;

/// Starts uploading the file chosen in `input`, reporting through `phase`.
pub fn start_upload(input: NodeRef<leptos::html::Input>, phase: RwSignal<Phase>, rules: FileRules) {
    let file = input
        .get_untracked()
        .and_then(|input| input.files())
        .and_then(|files| files.get(0));
    let Some(file) = file else {
        phase.set(Phase::Failed("Choose a file first.".to_owned()));
        return;
    };
    leptos::task::spawn_local(async move {
        let outcome = upload(file, phase, rules).await;
        phase.set(match outcome {
            Ok(link) => Phase::Done(link),
            Err(error) => Phase::Failed(error.sentence().to_owned()),
        });
    });
}

async fn upload(file: File, phase: RwSignal<Phase>, rules: FileRules) -> Result<DownloadLink, CourierError> {
    let name = file.name();
    let size = file.size() as u64;
    // Refuse at once, before anything is signed, what the server would refuse.
    rules.check(size, &file.type_())?;
    // A policy can expire between signing and the store reading it (a laptop
    // asleep mid-way): sign again, once, by ourselves.
    let mut signed_again = false;
    loop {
        phase.set(Phase::Signing { name: name.clone() });
        let grant = crate::api::sign_upload(name.clone(), file.type_(), size).await?;
        phase.set(Phase::Uploading {
            name: name.clone(),
            size,
        });
        match post_to_store(&grant, &file).await {
            Err(CourierError::PolicyExpired(_)) if !signed_again => signed_again = true,
            outcome => return outcome,
        }
    }
}

/// POSTs the grant's fields, then the file, to the store; the fetch follows
/// the store's 303 to `/confirm-upload`, which answers JSON.
pub async fn post_to_store(grant: &UploadGrant, file: &File) -> Result<DownloadLink, CourierError> {
    let form = FormData::new().map_err(|_| internal("the upload form could not be built"))?;
    for (name, value) in &grant.fields {
        form.append_with_str(name, value)
            .map_err(|_| internal("the upload form could not be built"))?;
    }
    // S3 reads every field before the file, so the file goes last.
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| internal("the file could not be attached"))?;

    let response = Request::post(&grant.url)
        .header("Accept", "application/json")
        .body(form)
        .map_err(|_| internal("the upload request could not be built"))?
        .send()
        .await
        .map_err(|_| {
            CourierError::Network(
                "The upload could not reach the storage server. Check your connection and try again.".to_owned(),
            )
        })?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if response.ok() {
        return serde_json::from_str::<DownloadLink>(&body).map_err(|_| internal("the confirmation could not be read"));
    }
    // A refusal from Courier's confirm route is JSON; one from the store is XML.
    if let Ok(error) = serde_json::from_str::<CourierError>(&body) {
        return Err(error);
    }
    if let Some(error) = StoreError::parse(&body) {
        let sentence = error.sentence(grant.max_bytes);
        return Err(if error.is_expired_policy() {
            CourierError::PolicyExpired(sentence)
        } else {
            CourierError::StoreRefused(sentence)
        });
    }
    Err(CourierError::StoreRefused(format!(
        "The storage refused the upload (HTTP {status}). Try again."
    )))
}

fn internal(what: &str) -> CourierError {
    CourierError::Internal(format!(
        "Something went wrong in the browser: {what}. Reload the page and try again."
    ))
}

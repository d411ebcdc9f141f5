//! Talking to Courier: its server functions (form-encoded, JSON answers)
//! and its `e2e` routes, with their refusals as sentences.

use std::time::Duration;

use serde::de::DeserializeOwned;
use wire::endpoint::{Call, FORM_CONTENT_TYPE};
use wire::seal::E2eRefusal;

use crate::error::{CliError, Refusal};

/// One client for Courier and the store. Redirects are not followed: the
/// store's 303 after a POST is read, not fetched blindly.
pub(crate) fn client() -> Result<reqwest::Client, CliError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(30))
        .user_agent(concat!("courier-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| CliError::Network {
            what: "the network (no HTTP client)",
            source,
        })
}

pub(crate) fn network(what: &'static str) -> impl FnOnce(reqwest::Error) -> CliError {
    move |source| CliError::Network {
        what,
        source: source.without_url(),
    }
}

/// Which routes a refusal came from: the `e2e` ones have their statuses'
/// own meanings (FORMAT.md, "Proving the key").
#[derive(Clone, Copy)]
pub(crate) enum Route {
    E2e,
    ServerFunction,
}

/// The answer's JSON, or Courier's refusal as a sentence.
pub(crate) async fn answer<A: DeserializeOwned>(
    response: reqwest::Response,
    what: &'static str,
    route: Route,
) -> Result<A, CliError> {
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let sentence = serde_json::from_str::<E2eRefusal>(&body)
            .map(|refusal| refusal.error)
            .unwrap_or_else(|_| status.canonical_reason().unwrap_or("no reason given").to_owned());
        return Err(match route {
            Route::E2e => Refusal::new(status.as_u16(), sentence),
            Route::ServerFunction => Refusal::Other {
                status: status.as_u16(),
                sentence,
            },
        }
        .into());
    }
    let body = response.bytes().await.map_err(network(what))?;
    serde_json::from_slice(&body).map_err(|error| CliError::Unexpected {
        what,
        detail: error.to_string(),
    })
}

/// Calls a server function of the Courier at `base`.
pub(crate) async fn call<A: DeserializeOwned>(
    client: &reqwest::Client,
    base: &str,
    call: &Call<A>,
) -> Result<A, CliError> {
    let response = client
        .post(format!("{}{}", base.trim_end_matches('/'), call.path()))
        .header(reqwest::header::CONTENT_TYPE, FORM_CONTENT_TYPE)
        .header(reqwest::header::ACCEPT, "application/json")
        .body(call.body())
        .send()
        .await
        .map_err(network("Courier"))?;
    answer(response, "Courier", Route::ServerFunction).await
}

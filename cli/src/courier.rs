//! Talking to Courier: its server functions (form-encoded, JSON answers,
//! with the API token when there is one) and its `e2e` routes, with their
//! refusals as sentences.

use std::fmt;
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

/// An API token for Courier's server functions. Its `Debug` never shows
/// it, so no error or log line can.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// `None` for an empty token (an unset variable exported empty).
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.trim().is_empty()).then(|| Self(token.trim().to_owned()))
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

/// One Courier: where it is, and the token its server functions are
/// called with.
pub(crate) struct Courier {
    pub client: reqwest::Client,
    base: String,
    token: Option<ApiToken>,
}

impl Courier {
    pub(crate) fn new(client: reqwest::Client, url: &str, token: Option<ApiToken>) -> Self {
        Self {
            client,
            base: url.trim_end_matches('/').to_owned(),
            token,
        }
    }

    /// Its address, without a trailing slash.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Calls one of its server functions.
    pub(crate) async fn call<A: DeserializeOwned>(&self, call: &Call<A>) -> Result<A, CliError> {
        let mut request = self
            .client
            .post(format!("{}{}", self.base, call.path()))
            .header(reqwest::header::CONTENT_TYPE, FORM_CONTENT_TYPE)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(ApiToken(token)) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.body(call.body()).send().await.map_err(network("Courier"))?;
        answer(response, "Courier", Route::ServerFunction).await
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

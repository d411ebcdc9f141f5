//! Who may upload (`COURIER_UPLOAD_ACCESS`, see [`signer::access`]): a
//! middleware admits every request to the page and to `/api/*`, putting its
//! [`Admission`] on the request for the server functions (which refuse new
//! grants without one, 401) and for the page (which shows the sign-in form
//! instead of the uploader). Share pages and downloads never ask.
//!
//! - an API token (`Authorization: Bearer courier_…`) names its script in
//!   every mode; a bad one is refused, never taken as anonymous;
//! - `open`: anyone, known by their address;
//! - `password`: a browser with a session cookie ([`sign_in`]);
//! - `proxy`: the user a trusted proxy names in its header; the header
//!   from anyone else is ignored.
//!
//! [`budget`] is the per-uploader daily budget the grants are charged to.

pub mod budget;
pub mod sign_in;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use signer::access::{
    AccessRefusal, Admission, SECURE_SESSION_COOKIE, SESSION_COOKIE, Sessions, UploadAccess, Uploader,
};
use time::OffsetDateTime;

use courier_serve::{TrustedProxies, allowance_of};
use courier_shares::ShareDb;

use crate::settings::AccessSettings;
use crate::share_routes::attempts::PasswordAttempts;

/// The longest user name taken from a proxy's header.
const MAX_PROXY_USER_BYTES: usize = 256;

/// The gate: how a request is admitted.
#[derive(Clone)]
pub struct Access {
    mode: UploadAccess,
    /// In `password` mode: the sessions the password's sign-in issues.
    sessions: Option<Sessions>,
    password: Option<Arc<str>>,
    proxy_user_header: http::HeaderName,
    proxies: TrustedProxies,
    db: ShareDb,
    /// Wrong upload passwords, 10 a minute per client.
    attempts: Arc<PasswordAttempts>,
    /// The session cookie is `Secure` where the origin is https.
    secure: bool,
}

impl Access {
    pub fn new(
        settings: &AccessSettings,
        signer: &signer::Signer,
        proxies: &TrustedProxies,
        db: ShareDb,
        secure: bool,
    ) -> Self {
        let attempts = Arc::new(PasswordAttempts::default());
        attempts.forget_in_background();
        Self {
            mode: settings.mode,
            sessions: settings.password.as_deref().map(|password| signer.sessions(password)),
            password: settings.password.as_deref().map(Arc::from),
            proxy_user_header: settings.proxy_user_header.clone(),
            proxies: proxies.clone(),
            db,
            attempts,
            secure,
        }
    }

    pub fn mode(&self) -> UploadAccess {
        self.mode
    }

    /// The session cookie's name: `__Host-` on https.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure {
            SECURE_SESSION_COOKIE
        } else {
            SESSION_COOKIE
        }
    }

    /// Who `headers` from `peer` upload as, or why they may not. A POST
    /// another site's page made is refused (a visit that follows a link
    /// from elsewhere is a GET, and is admitted as any other).
    pub async fn admit(&self, peer: IpAddr, method: &http::Method, headers: &HeaderMap) -> Admission {
        if method == http::Method::POST && cross_site(headers) {
            return Admission::Refused(AccessRefusal::CrossSite);
        }
        match self.uploader(peer, headers).await {
            Ok(uploader) => Admission::Admitted(uploader),
            Err(refusal) => Admission::Refused(refusal),
        }
    }

    async fn uploader(&self, peer: IpAddr, headers: &HeaderMap) -> Result<Uploader, AccessRefusal> {
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        if let Some(token) = signer::access::bearer(authorization)? {
            let hash = signer::access::api_token_hash(token);
            return match self.db.api_token(&hash).await {
                Ok(Some(id)) => Ok(Uploader::Token(id)),
                Ok(None) => {
                    tracing::info!(peer = %peer, "refused: an unknown or revoked API token");
                    Err(AccessRefusal::BadToken)
                }
                Err(error) => {
                    tracing::warn!(error = %error, "the API token could not be checked");
                    Err(AccessRefusal::TokenUnchecked)
                }
            };
        }
        match self.mode {
            UploadAccess::Open => Ok(Uploader::Anonymous(allowance_of(self.proxies.client_of(peer, headers)))),
            UploadAccess::Password => {
                let sessions = self.sessions.as_ref().ok_or(AccessRefusal::SignIn)?;
                crate::cookies::cookie(headers, self.session_cookie())
                    .and_then(|value| sessions.check(value, OffsetDateTime::now_utc()))
                    .map(Uploader::Session)
                    .ok_or(AccessRefusal::SignIn)
            }
            UploadAccess::Proxy => {
                // Only the proxies' word counts: anyone can send the header.
                if !self.proxies.contains(peer) {
                    return Err(AccessRefusal::NoProxyUser);
                }
                // Twice: a proxy that appended its own after the client's
                // (rather than replacing it) cannot say which is its own.
                let mut named = headers.get_all(&self.proxy_user_header).iter();
                let (Some(user), None) = (named.next(), named.next()) else {
                    return Err(AccessRefusal::NoProxyUser);
                };
                Some(user)
                    .and_then(|value| value.to_str().ok())
                    .map(str::trim)
                    .filter(|user| !user.is_empty() && user.len() <= MAX_PROXY_USER_BYTES)
                    .map(|user| Uploader::User(user.to_owned()))
                    .ok_or(AccessRefusal::NoProxyUser)
            }
        }
    }
}

/// Whether another site's page made this request: a browser says so
/// (`Sec-Fetch-Site`); a script that does not send the header is not a
/// visitor's browser acting for someone else.
pub fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"cross-site"))
}

/// The middleware on the page and on `/api/*`: admits the request (see
/// [`Access::admit`]) and puts the verdict on it.
pub async fn admit(
    State(access): State<Access>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let admission = access.admit(peer.ip(), request.method(), request.headers()).await;
    request.extensions_mut().insert(admission);
    next.run(request).await
}

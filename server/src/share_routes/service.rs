//! What the share routes share: the database, the signer, the password
//! tries, and how the pages are served.

use std::sync::Arc;

use courier_serve::TrustedProxies;
use courier_shares::ShareDb;
use signer::Signer;

use super::attempts::PasswordAttempts;

/// What the share routes share.
#[derive(Clone)]
pub struct Shares {
    pub db: ShareDb,
    pub signer: Signer,
    pub attempts: Arc<PasswordAttempts>,
    pub proxies: TrustedProxies,
    /// Whether the app is served over HTTPS (the unlock cookie is `Secure`).
    pub secure: bool,
    /// The share pages' Content-Security-Policy (`app::share_page::policy`).
    pub policy: axum::http::HeaderValue,
}

//! Who may upload (`COURIER_UPLOAD_ACCESS`), and who an upload is charged to.
//!
//! The server works out, for every request that could grant an upload, an
//! [`Admission`]: the [`Uploader`] it comes from, or why it may not upload.
//! The server functions that grant uploads read it from the request and
//! refuse with its sentence (401); those that only continue an upload
//! already granted (its parts, its completion) are authorised by the grant's
//! own token and need no admission.
//!
//! A browser signed in with the upload password holds a session cookie: a
//! token of scope [`TokenScope::Session`] over a random id and the
//! password's fingerprint, so changing the password signs everyone out, and
//! nothing is stored per session.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::token::{TokenScope, TokenSecret, UploadToken};

/// How long a sign-in lasts.
pub const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(14 * 24 * 3600);

/// The session cookie's name on plain http.
pub const SESSION_COOKIE: &str = "courier-session";

/// Its name on https: a `__Host-` cookie is Secure, for this host and path
/// `/` only, so no sibling subdomain can set one for Courier.
pub const SECURE_SESSION_COOKIE: &str = "__Host-courier-session";

/// What an API token looks like: this prefix (so a leaked one is easy to
/// search for) and 32 random bytes in base64url.
pub const API_TOKEN_PREFIX: &str = "courier_";

/// `COURIER_UPLOAD_ACCESS`: who may upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadAccess {
    /// Anyone who reaches the page (an API token still names its script).
    Open,
    /// Whoever knows the one upload password, or holds an API token.
    Password,
    /// Whoever the trusted reverse proxy says is signed in, or holds an API token.
    Proxy,
}

impl UploadAccess {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "open" => Some(Self::Open),
            "password" => Some(Self::Password),
            "proxy" => Some(Self::Proxy),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Password => "password",
            Self::Proxy => "proxy",
        }
    }
}

/// Who an upload comes from: whose budget it is charged to, and what the
/// log names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Uploader {
    /// Anyone, where uploads are open: known only by the address (an IPv4
    /// address or an IPv6 /64) its requests come from.
    Anonymous(IpAddr),
    /// A browser signed in with the upload password (its session's id).
    Session(String),
    /// A script with an API token (the token's id in the database).
    Token(i64),
    /// A person the trusted proxy vouched for (the user it named).
    User(String),
}

impl Uploader {
    /// What the log says of this uploader: never a secret (a session's id is
    /// not one: it grants nothing without its signature).
    pub fn describe(&self) -> String {
        match self {
            Self::Anonymous(addr) => format!("address {addr}"),
            Self::Session(id) => format!("session {id}"),
            Self::Token(id) => format!("api token #{id}"),
            Self::User(user) => format!("user {user}"),
        }
    }

    /// How a budget's sentence names the one it counts for.
    pub fn budget_owner(&self) -> &'static str {
        match self {
            Self::Anonymous(_) => "one address",
            Self::Session(_) => "one signed-in browser",
            Self::Token(_) => "one API token",
            Self::User(_) => "one person",
        }
    }
}

/// Whether a request may upload: the server's verdict, on the request for
/// the server functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    Admitted(Uploader),
    Refused(AccessRefusal),
}

/// Why a request may not upload; each a sentence for the person. The
/// token's name is never in one: whoever holds a bad token learns nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessRefusal {
    /// `password`, and this browser has not signed in (or its session is
    /// over, or the password changed since).
    #[error("Sign in with this Courier's upload password to upload files.")]
    SignIn,
    /// `proxy`, and the request did not come through the trusted proxy
    /// with a user.
    #[error(
        "Uploading needs you signed in through this Courier's sign-in page; your request did not come with a signed-in user."
    )]
    NoProxyUser,
    /// `Authorization: Bearer` with a token that is unknown or revoked.
    #[error("This API token is not valid: it is unknown, or it was revoked.")]
    BadToken,
    /// A request another site's page made (`Sec-Fetch-Site: cross-site`):
    /// its cookies are the visitor's, its intent is not.
    #[error("Courier takes uploads from its own page, not from another site's.")]
    CrossSite,
    /// The database did not answer: nothing is wrong with the token.
    #[error("Courier could not check the API token just now. Nothing was uploaded; try again in a moment.")]
    TokenUnchecked,
}

/// A new API token's value (shown once) and what is stored of it.
pub struct NewApiToken {
    pub value: String,
    pub hash: String,
}

impl NewApiToken {
    pub fn generate() -> Self {
        // Two v4 UUIDs' random bits (244) from the thread-local CSPRNG.
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let value = format!("{API_TOKEN_PREFIX}{}", BASE64URL.encode(bytes));
        let hash = api_token_hash(&value);
        Self { value, hash }
    }
}

/// What the database keeps of an API token: its SHA-256, in hex. The token
/// is 244 random bits, so a fast hash is enough: there is nothing to guess.
pub fn api_token_hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The Courier API token an `Authorization` header carries (`Bearer
/// courier_…`), if it carries one. Any other value is not ours and is left
/// alone: a proxy's Basic credentials, an identity provider's own bearer
/// token (oauth2-proxy passes one on). `Err` for one of ours that cannot be
/// a token (too long to look up).
pub fn bearer(header: Option<&str>) -> Result<Option<&str>, AccessRefusal> {
    let Some((scheme, value)) = header.and_then(|header| header.trim().split_once(' ')) else {
        return Ok(None);
    };
    let value = value.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !value.starts_with(API_TOKEN_PREFIX) {
        return Ok(None);
    }
    if value.len() > 128 {
        return Err(AccessRefusal::BadToken);
    }
    Ok(Some(value))
}

/// Whether `given` is the upload password. Digests are compared, in
/// constant time, so the time taken says nothing of how much matched.
pub fn same_password(given: &str, expected: &str) -> bool {
    let (given, expected) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    given
        .iter()
        .zip(expected.iter())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// The upload password's sessions: issued on a right password, checked on
/// every request that could grant an upload.
#[derive(Clone)]
pub struct Sessions {
    secret: TokenSecret,
    /// The password's SHA-256: a session made under another password fails.
    fingerprint: String,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions(<redacted>)")
    }
}

impl Sessions {
    pub fn new(secret: TokenSecret, password: &str) -> Self {
        let fingerprint = hex::encode(Sha256::digest(
            format!("courier-upload-password/v1\n{password}").as_bytes(),
        ));
        Self { secret, fingerprint }
    }

    /// A new session's cookie value: `<id>~<token>`.
    pub fn issue(&self, now: OffsetDateTime) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let token = UploadToken::issue(&self.secret, TokenScope::Session, &self.subject(&id), now + SESSION_TTL);
        format!("{id}~{token}")
    }

    /// The session's id, when `cookie` is one of ours, for the current
    /// password, and not over.
    pub fn check(&self, cookie: &str, now: OffsetDateTime) -> Option<String> {
        let (id, token) = cookie.split_once('~')?;
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        UploadToken::verify_scoped(&self.secret, TokenScope::Session, token, &self.subject(id), now).ok()?;
        Some(id.to_owned())
    }

    fn subject(&self, id: &str) -> String {
        format!("{id}\n{}", self.fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TokenSecret {
        TokenSecret::new(*b"0123456789abcdef0123456789abcdef").expect("32 bytes")
    }

    #[test]
    fn a_session_holds_until_it_ends_or_the_password_changes() {
        let now = OffsetDateTime::now_utc();
        let sessions = Sessions::new(secret(), "correct horse");
        let cookie = sessions.issue(now);
        let id = sessions.check(&cookie, now).expect("a good session");
        assert_eq!(id.len(), 32);
        assert_eq!(sessions.check(&cookie, now + SESSION_TTL), None, "over");
        assert_eq!(
            Sessions::new(secret(), "battery staple").check(&cookie, now),
            None,
            "another password"
        );
        // Another id under the same signature, or a share's token: refused.
        let forged = format!("{}{}", "0".repeat(32), &cookie[32..]);
        assert_eq!(sessions.check(&forged, now), None);
        let other = UploadToken::issue(&secret(), TokenScope::Unlock, &sessions.subject(&id), now + SESSION_TTL);
        assert_eq!(sessions.check(&format!("{id}~{other}"), now), None);
        assert_eq!(sessions.check("", now), None);
        assert_eq!(sessions.check("~", now), None);
    }

    #[test]
    fn bearer_headers() {
        let token = NewApiToken::generate();
        assert!(token.value.starts_with(API_TOKEN_PREFIX));
        assert_eq!(token.value.len(), API_TOKEN_PREFIX.len() + 43);
        assert_eq!(token.hash, api_token_hash(&token.value));
        assert_ne!(token.value, NewApiToken::generate().value);
        assert_eq!(bearer(None), Ok(None));
        let header = format!("Bearer {}", token.value);
        assert_eq!(bearer(Some(&header)), Ok(Some(token.value.as_str())));
        let header = format!("bearer  {} ", token.value);
        assert_eq!(bearer(Some(&header)), Ok(Some(token.value.as_str())));
        // Others' credentials are left alone.
        assert_eq!(bearer(Some("Basic dXNlcjpwYXNz")), Ok(None));
        assert_eq!(bearer(Some("Bearer")), Ok(None));
        assert_eq!(bearer(Some("Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig")), Ok(None));
        let long = format!("Bearer {API_TOKEN_PREFIX}{}", "A".repeat(200));
        assert_eq!(bearer(Some(&long)), Err(AccessRefusal::BadToken));
    }

    #[test]
    fn passwords_compare_whole() {
        assert!(same_password("correct horse battery", "correct horse battery"));
        assert!(!same_password("correct horse batter", "correct horse battery"));
        assert!(!same_password("", "correct horse battery"));
    }

    #[test]
    fn access_modes_parse() {
        for access in [UploadAccess::Open, UploadAccess::Password, UploadAccess::Proxy] {
            assert_eq!(UploadAccess::parse(access.as_str()), Some(access));
        }
        assert_eq!(UploadAccess::parse(" Password "), Some(UploadAccess::Password));
        assert_eq!(UploadAccess::parse("closed"), None);
    }
}

//! The credentials the signer uses: the same provider the S3 client was
//! built with (so session tokens and rotation work), cached until they near
//! their expiry. Signing reads the cache under a read lock; only a refresh
//! waits on the provider, and one refresh serves every waiting request.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use crate::sigv4::DayKey;

/// What signs a policy: the same credentials the S3 client uses. (Also how
/// settings carry credentials named in the environment.)
#[derive(Clone, PartialEq, Eq)]
pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Set for temporary credentials; then it is a form field and a condition.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Refresh this long before the provider's expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Credentials ready to sign with: the ids that go on the wire, and the
/// day's signing key for their secret.
#[derive(Debug)]
pub struct SigningIdentity {
    pub access_key_id: String,
    /// Set for temporary credentials; it travels with every signature.
    pub session_token: Option<String>,
    pub day_key: DayKey,
    expiry: Option<SystemTime>,
}

impl SigningIdentity {
    pub fn new(credentials: &SigningCredentials, region: &str) -> Self {
        Self {
            access_key_id: credentials.access_key_id.clone(),
            session_token: credentials.session_token.clone(),
            day_key: DayKey::new(&credentials.secret_access_key, region),
            expiry: None,
        }
    }

    fn fresh(&self, now: SystemTime) -> bool {
        self.expiry.is_none_or(|expiry| expiry > now + REFRESH_MARGIN)
    }
}

#[derive(Debug)]
pub struct CredentialSource {
    provider: SharedCredentialsProvider,
    region: String,
    cached: RwLock<Option<Arc<SigningIdentity>>>,
    /// Held only while the provider is asked, so that a burst of requests
    /// at expiry makes one call.
    refreshing: tokio::sync::Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
#[error("the storage credentials could not be loaded: {0}")]
pub struct CredentialsError(String);

impl CredentialSource {
    pub fn new(provider: SharedCredentialsProvider, region: &str) -> Self {
        Self {
            provider,
            region: region.to_owned(),
            cached: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    pub async fn current(&self) -> Result<Arc<SigningIdentity>, CredentialsError> {
        if let Some(identity) = self.cached_fresh() {
            return Ok(identity);
        }
        let _refreshing = self.refreshing.lock().await;
        // Another request may have refreshed while this one waited.
        if let Some(identity) = self.cached_fresh() {
            return Ok(identity);
        }
        let loaded = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| CredentialsError(e.to_string()))?;
        let identity = Arc::new(SigningIdentity {
            access_key_id: loaded.access_key_id().to_owned(),
            session_token: loaded.session_token().map(str::to_owned),
            day_key: DayKey::new(loaded.secret_access_key(), &self.region),
            expiry: loaded.expiry(),
        });
        if let Ok(mut cached) = self.cached.write() {
            *cached = Some(Arc::clone(&identity));
        }
        Ok(identity)
    }

    fn cached_fresh(&self) -> Option<Arc<SigningIdentity>> {
        let cached = self.cached.read().ok()?;
        cached
            .as_ref()
            .filter(|identity| identity.fresh(SystemTime::now()))
            .map(Arc::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts how often it is asked; its credentials expire `lifetime` after
    /// being handed out.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = SystemTime::now() + self.lifetime;
            aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                None,
                Some(expiry),
                "test",
            )))
        }
    }

    fn source(lifetime: Duration) -> (CredentialSource, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = SharedCredentialsProvider::new(Counting {
            calls: Arc::clone(&calls),
            lifetime,
        });
        (CredentialSource::new(provider, "us-east-1"), calls)
    }

    #[tokio::test]
    async fn long_lived_credentials_are_loaded_once() {
        let (source, calls) = source(Duration::from_secs(3600));
        for _ in 0..100 {
            assert_eq!(source.current().await.expect("credentials").access_key_id, "AKID0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn credentials_near_their_expiry_are_refreshed() {
        // Inside the refresh margin from the start: every call refreshes.
        let (source, calls) = source(REFRESH_MARGIN / 2);
        assert_eq!(source.current().await.expect("credentials").access_key_id, "AKID0");
        assert_eq!(source.current().await.expect("credentials").access_key_id, "AKID1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}

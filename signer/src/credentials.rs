//! The credentials the POST signer uses: the same provider the S3 client was
//! built with (so session tokens and rotation work), cached until they near
//! their expiry so that signing does not hit the provider each time.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use tokio::sync::Mutex;

use crate::post_policy::SigningCredentials;

/// Refresh this long before the provider's expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

#[derive(Debug)]
pub struct CredentialSource {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Credentials>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the storage credentials could not be loaded: {0}")]
pub struct CredentialsError(String);

impl CredentialSource {
    pub fn new(provider: SharedCredentialsProvider) -> Self {
        Self {
            provider,
            cached: Mutex::new(None),
        }
    }

    pub async fn current(&self) -> Result<SigningCredentials, CredentialsError> {
        let mut cached = self.cached.lock().await;
        let fresh = cached.as_ref().is_some_and(|c| match c.expiry() {
            Some(expiry) => expiry > SystemTime::now() + REFRESH_MARGIN,
            None => true,
        });
        if !fresh {
            let loaded = self
                .provider
                .provide_credentials()
                .await
                .map_err(|e| CredentialsError(e.to_string()))?;
            *cached = Some(loaded);
        }
        let credentials = cached
            .as_ref()
            .ok_or_else(|| CredentialsError("no credentials".to_owned()))?;
        Ok(SigningCredentials {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: credentials.secret_access_key().to_owned(),
            session_token: credentials.session_token().map(str::to_owned),
        })
    }
}

//! Deleting a file: its owner (the holder of the token Courier gave with its
//! link) takes it back. Afterwards its links, signed or public, answer 404.

use time::OffsetDateTime;

use crate::Signer;
use crate::error::SignError;
use crate::object_key::KeyArea;
use crate::token::TokenScope;

impl Signer {
    /// Deletes the confirmed file `key` for the holder of its token. Only the
    /// owner's token (scope `r`, given with the link) deletes, and only its
    /// own key: upload tokens travel in redirect URLs and expire within the
    /// hour, so they are not the owner's to keep.
    pub async fn delete(&self, key: &str, token: &str, now: OffsetDateTime) -> Result<(), SignError> {
        let (key, verified) = self.verify(key, token, now)?;
        if verified.scope != TokenScope::Renewal || key.area() != KeyArea::Confirmed {
            return Err(SignError::NotDeletable);
        }
        self.delete_object(&key).await?;
        tracing::info!(key = %key.as_str(), "deleted a file for its owner");
        Ok(())
    }
}

//! API tokens (`courier token create`): a name and the token's SHA-256; the
//! caller makes the token and its hash (`signer::access`), so no token ever
//! reaches the database.

use time::OffsetDateTime;

use super::{Pool, ShareDb};
use crate::error::DbError;

/// An API token as the operator sees it: never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenRefusal {
    #[error("A live token is already named {0:?}: revoke it first, or choose another name.")]
    NameTaken(String),
    #[error("A token's name must be 1 to 64 characters: letters, digits, '-', '_' or '.'.")]
    BadName,
    #[error(transparent)]
    Database(#[from] DbError),
}

const INSERT_TOKEN: &str = "INSERT INTO api_tokens (name, token_hash, created_at) VALUES ($1, $2, $3) RETURNING id";
const LIVE_NAME: &str = "SELECT id FROM api_tokens WHERE name = $1 AND revoked_at IS NULL";
const TOKEN_BY_HASH: &str = "SELECT id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL";
const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL";
const ALL_TOKENS: &str = "SELECT id, name, created_at, revoked_at FROM api_tokens ORDER BY id";

/// Names an operator can type and a log can print as they are.
pub fn valid_token_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn time(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl ShareDb {
    /// Keeps a new token's hash under `name`; its id.
    pub async fn create_api_token(&self, name: &str, hash: &str, now: OffsetDateTime) -> Result<i64, TokenRefusal> {
        if !valid_token_name(name) {
            return Err(TokenRefusal::BadName);
        }
        let taken: Option<i64> =
            on_writer!(self, pool => sqlx::query_scalar(LIVE_NAME).bind(name).fetch_optional(pool).await)
                .map_err(DbError::from)?;
        if taken.is_some() {
            return Err(TokenRefusal::NameTaken(name.to_owned()));
        }
        let inserted: Result<i64, sqlx::Error> = on_writer!(self, pool => sqlx::query_scalar(INSERT_TOKEN)
            .bind(name)
            .bind(hash)
            .bind(now.unix_timestamp())
            .fetch_one(pool)
            .await);
        match inserted {
            Ok(id) => Ok(id),
            // Two creations of one name at once: the index keeps one.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(TokenRefusal::NameTaken(name.to_owned()))
            }
            Err(error) => Err(DbError::from(error).into()),
        }
    }

    /// The live token with this hash: its id.
    pub async fn api_token(&self, hash: &str) -> Result<Option<i64>, DbError> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(TOKEN_BY_HASH).bind(hash).fetch_optional(pool).await?))
    }

    /// Revokes the live token named `name`; whether there was one.
    pub async fn revoke_api_token(&self, name: &str, now: OffsetDateTime) -> Result<bool, DbError> {
        let revoked = on_writer!(self, pool => sqlx::query(REVOKE_TOKEN)
            .bind(name)
            .bind(now.unix_timestamp())
            .execute(pool)
            .await?
            .rows_affected());
        Ok(revoked > 0)
    }

    /// Every token, live and revoked, oldest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, DbError> {
        let rows: Vec<(i64, String, i64, Option<i64>)> =
            on_pool!(self, pool => sqlx::query_as(ALL_TOKENS).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, revoked_at)| ApiToken {
                id,
                name,
                created_at: time(created_at),
                revoked_at: revoked_at.map(time),
            })
            .collect())
    }
}

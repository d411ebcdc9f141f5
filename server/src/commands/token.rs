//! `courier token create --name NAME | revoke NAME | list`: API tokens for
//! scripts, in the shares database (`COURIER_DATABASE_URL`, or SQLite in
//! `COURIER_DATA_DIR`). A new token is printed once, alone on stdout (so
//! `TOKEN=$(courier token create --name ci)` works); only its SHA-256 is kept.

use courier_shares::{DatabaseConfig, ShareDb, TokenRefusal};
use signer::access::NewApiToken;
use time::OffsetDateTime;

pub const TOKEN_USAGE: &str = "\
Usage:
  courier token create --name NAME   make an API token; it is printed once
  courier token revoke NAME          stop the live token of that name working
  courier token list                 every token: name, made, revoked

A script sends it as `Authorization: Bearer <token>` (courier send reads
COURIER_TOKEN). Names are 1 to 64 letters, digits, '-', '_' or '.'.";

#[derive(Debug, thiserror::Error)]
pub enum TokenCommandError {
    #[error("{0}\n\n{TOKEN_USAGE}")]
    Usage(String),
    #[error("{0}")]
    Refused(#[from] TokenRefusal),
    #[error("{0}")]
    Database(#[from] courier_shares::DbError),
    #[error("No live token is named {0:?}.")]
    NoSuchToken(String),
    /// Run elsewhere than the server, it would make a database of its own.
    #[error(
        "There is no Courier database at {0}: run this command with the server's COURIER_DATA_DIR (or COURIER_DATABASE_URL)."
    )]
    NoDatabase(String),
}

/// What the command prints: stdout's lines, and one note for stderr.
pub struct TokenOutput {
    pub lines: Vec<String>,
    pub note: Option<String>,
}

impl std::fmt::Debug for TokenOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A new token's value is among the lines: never in a log.
        f.debug_struct("TokenOutput")
            .field("lines", &self.lines.len())
            .field("note", &self.note)
            .finish()
    }
}

/// Runs `courier token <args>` against `database`.
pub async fn token(database: &DatabaseConfig, args: &[String]) -> Result<TokenOutput, TokenCommandError> {
    let usage = |sentence: &str| TokenCommandError::Usage(sentence.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let now = OffsetDateTime::now_utc();
    if let DatabaseConfig::Sqlite { path } = database
        && !path.exists()
    {
        return Err(TokenCommandError::NoDatabase(path.display().to_string()));
    }
    match args.as_slice() {
        ["create", "--name", name] | ["create", name] => {
            let db = ShareDb::open(database).await?;
            let token = NewApiToken::generate();
            let created = db.create_api_token(name, &token.hash, now).await;
            db.close().await;
            created?;
            Ok(TokenOutput {
                lines: vec![token.value],
                note: Some(format!(
                    "Made the API token {name:?} in {database}. Keep it now: Courier keeps only its hash. Revoke it with `courier token revoke {name}`."
                )),
            })
        }
        ["revoke", name] => {
            let db = ShareDb::open(database).await?;
            let revoked = db.revoke_api_token(name, now).await;
            db.close().await;
            if !revoked? {
                return Err(TokenCommandError::NoSuchToken((*name).to_owned()));
            }
            Ok(TokenOutput {
                lines: Vec::new(),
                note: Some(format!("Revoked the API token {name:?}: it no longer uploads.")),
            })
        }
        ["list"] => {
            let db = ShareDb::open(database).await?;
            let tokens = db.api_tokens().await;
            db.close().await;
            let lines = tokens?
                .into_iter()
                .map(|token| {
                    let state = match token.revoked_at {
                        Some(at) => format!("revoked {}", signer::rfc3339(at)),
                        None => "live".to_owned(),
                    };
                    format!("{}\tmade {}\t{state}", token.name, signer::rfc3339(token.created_at))
                })
                .collect();
            Ok(TokenOutput { lines, note: None })
        }
        ["create", ..] => Err(usage("Name the token: courier token create --name NAME.")),
        ["revoke", ..] => Err(usage("Name the token to revoke: courier token revoke NAME.")),
        [] => Err(usage("Say what to do: create, revoke or list.")),
        [other, ..] => Err(usage(&format!("{other} is not a token command."))),
    }
}

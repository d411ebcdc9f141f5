//! A fresh, empty database on either backend for one test.

use courier_shares::{DatabaseConfig, ShareDb};
use tempfile::TempDir;

use crate::postgres;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A backend for the test `name` (which names its PostgreSQL database).
#[derive(Clone, Copy, Debug)]
pub struct NamedBackend {
    pub backend: Backend,
    pub test: &'static str,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub fn named(self, test: &'static str) -> NamedBackend {
        NamedBackend { backend: self, test }
    }
}

/// An empty database; a SQLite file is deleted with it.
pub struct TestDatabase {
    pub config: DatabaseConfig,
    _dir: Option<TempDir>,
}

impl NamedBackend {
    pub async fn fresh(self) -> TestDatabase {
        match self.backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let config = DatabaseConfig::from_setting(None, dir.path()).expect("the default configuration");
                TestDatabase {
                    config,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let url = postgres::database(self.test).await;
                TestDatabase {
                    config: DatabaseConfig::Postgres { url },
                    _dir: None,
                }
            }
        }
    }

    pub fn is_postgres(self) -> bool {
        matches!(self.backend, Backend::Postgres)
    }
}

impl TestDatabase {
    pub async fn open(&self) -> ShareDb {
        match ShareDb::open(&self.config).await {
            Ok(db) => db,
            Err(error) => panic!("could not open {}: {error}", self.config),
        }
    }
}

/// Runs `$body` with `$connection` a connection of its own to the test
/// database, not through `ShareDb`: to build or break the schema by hand,
/// or to hold a transaction open while `ShareDb` waits on it. The same
/// code, type-checked once per database.
macro_rules! on_raw_connection {
    ($database:expr, $connection:ident => $body:expr) => {{
        use sqlx::Connection as _;
        match &$database.config {
            courier_shares::DatabaseConfig::Sqlite { path } => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .foreign_keys(true);
                let mut $connection = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .expect("a connection of its own");
                let answer = $body;
                drop($connection.close().await);
                answer
            }
            courier_shares::DatabaseConfig::Postgres { url } => {
                let mut $connection = sqlx::PgConnection::connect(url).await.expect("a connection of its own");
                let answer = $body;
                drop($connection.close().await);
                answer
            }
        }
    }};
}
pub(crate) use on_raw_connection;

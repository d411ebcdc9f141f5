//! Opening either database the way Courier needs it, then migrating it.
//!
//! SQLite: the file made first with mode 0600 (shares name the files
//! people sent), then WAL (readers never wait on the writer), a busy timeout
//! (writers queue instead of failing), foreign keys on, and `synchronous =
//! NORMAL`: in WAL a commit survives Courier crashing, and only a power cut
//! may lose the last moments' download counts, the price of counting each
//! download without an fsync. PostgreSQL: a pool, and the migrations under
//! sqlx's advisory lock, so instances starting together apply each once.

use std::fs::OpenOptions;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::config::DatabaseConfig;
use crate::error::DbError;

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a writer waits for SQLite's lock before the query fails.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers of the SQLite file (its writer is one connection of its own).
const SQLITE_CONNECTIONS: u32 = 8;
/// Per instance; PostgreSQL allows 100 by default.
const POSTGRES_CONNECTIONS: u32 = 16;
/// A request waits this long for a connection, then answers 503: a query
/// takes milliseconds, so a longer wait means the database is down, and the
/// person waiting should hear so soon (sqlx keeps trying to connect until then).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// SQLite's writes queue for its one writing connection: under a burst of
/// uploads (200 clients confirming at once on 2 cores) the queue is
/// seconds long, and waiting in it beats a 503; a locked or full database
/// fails on its own (the busy timeout, an I/O error), not here.
const SQLITE_WRITE_WAIT: Duration = Duration::from_secs(15);
/// The first connection, at start-up, may wait longer for a database that
/// is still starting.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite file's two pools: reads, and its one writing connection (see `ShareDb`).
pub(crate) async fn sqlite(path: &Path) -> Result<(SqlitePool, SqlitePool), DbError> {
    create_private_file(path)?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    let database = format!("SQLite at {}", path.display());
    let connect_error = |error: sqlx::Error| DbError::Connect {
        database: database.clone(),
        reason: error.to_string(),
    };
    // A local file: no ping before each use (a round trip to the
    // connection's thread each time, on every request).
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(SQLITE_WRITE_WAIT)
        .connect_with(options.clone())
        .await
        .map_err(connect_error)?;
    SQLITE_MIGRATIONS.run(&write).await.map_err(|error| DbError::Migrate {
        database: database.clone(),
        reason: error.to_string(),
    })?;
    let read = SqlitePoolOptions::new()
        .max_connections(SQLITE_CONNECTIONS)
        .test_before_acquire(false)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(connect_error)?;
    Ok((read, write))
}

/// One connection first, which fails at once when nothing listens (a pool
/// would retry until its timeout); then a pool that opens its connections as
/// requests need them, and the migrations through it.
pub(crate) async fn postgres(config: &DatabaseConfig, url: &str) -> Result<PgPool, DbError> {
    let database = config.to_string();
    let unreachable = |reason: String| DbError::Connect {
        database: database.clone(),
        reason: config.scrub(&reason),
    };
    let options = PgConnectOptions::from_str(url).map_err(|error| unreachable(error.to_string()))?;
    let connection = tokio::time::timeout(FIRST_CONNECT_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| unreachable(format!("no answer in {} s", FIRST_CONNECT_TIMEOUT.as_secs())))?
        .map_err(|error| unreachable(error.to_string()))?;
    // Closing politely can fail; the connection is dropped either way.
    drop(connection.close().await);
    let pool = PgPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options);
    POSTGRES_MIGRATIONS.run(&pool).await.map_err(|error| DbError::Migrate {
        database: database.clone(),
        reason: config.scrub(&error.to_string()),
    })?;
    Ok(pool)
}

/// Makes the directory and an empty file readable by its owner alone, unless
/// the file exists (its mode is then the operator's). SQLite gives its WAL
/// and shared-memory files the database file's mode.
fn create_private_file(path: &Path) -> Result<(), DbError> {
    let failed = |source| DbError::DataFile {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(failed)
}

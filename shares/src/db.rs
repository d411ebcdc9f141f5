//! [`ShareDb`]: one pool, SQLite or PostgreSQL, and the queries on shares.
//!
//! Each query is written once, in SQL both databases read (`$n` parameters,
//! `UPDATE … FROM … RETURNING`), and [`on_pool!`] runs it on whichever pool
//! is open. The rules (revoked, expired, used up) are SQL fragments written
//! once below and compared in the database against the `now` passed in, so
//! the read that shows a share and the update that counts a download cannot
//! disagree about them.
//!
//! Counting is one conditional `UPDATE`: the row is changed only if the
//! share is live and the file has downloads left, so two requests can never
//! both take the last one. On SQLite the statement holds the write lock from
//! its start (writers queue on the busy timeout); on PostgreSQL a second
//! `UPDATE` of the same row waits for the first to commit, then checks its
//! `WHERE` again against the new count (READ COMMITTED's re-check), so the
//! limit holds across instances too. Only when nothing was updated does a
//! second query find out why, for the refusal.

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;

use crate::config::DatabaseConfig;
use crate::connect::{self, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::error::{DbError, ShareRefusal};
use crate::share::{NewShare, Share, ShareId, SharedFile};

/// Where shares are kept: a pool on SQLite or PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub struct ShareDb {
    pool: Pool,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the open pool, whichever it is: the
/// same code, type-checked once per database.
macro_rules! on_pool {
    ($self:expr, $pool:ident => $body:expr) => {
        match &$self.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

// The rules, with `s` the share and `f` one of its files. Each is never NULL.
macro_rules! revoked {
    () => {
        "(s.revoked_at IS NOT NULL)"
    };
}
macro_rules! expired {
    ($now:literal) => {
        concat!("(s.expires_at IS NOT NULL AND s.expires_at <= ", $now, ")")
    };
}
macro_rules! used_up {
    () => {
        "(s.max_downloads IS NOT NULL AND f.downloads >= s.max_downloads)"
    };
}
/// A file's columns, as `file_at` reads them.
macro_rules! file_columns {
    ($f:literal) => {
        concat!(
            $f,
            "file_index, ",
            $f,
            "object_key, ",
            $f,
            "filename, ",
            $f,
            "content_type, ",
            $f,
            "size, ",
            $f,
            "downloads"
        )
    };
}

const INSERT_SHARE: &str = "INSERT INTO shares (id, created_at, expires_at, max_downloads) VALUES ($1, $2, $3, $4)";
const INSERT_FILE: &str = "INSERT INTO share_files (share_id, file_index, object_key, filename, content_type, size) \
                           VALUES ($1, $2, $3, $4, $5, $6)";

/// $1 id, $2 now. The share's standing, its rules, then each file.
const SHARE: &str = concat!(
    "SELECT ",
    revoked!(),
    ", ",
    expired!("$2"),
    ", ",
    used_up!(),
    ", s.created_at, s.expires_at, s.max_downloads, ",
    file_columns!("f."),
    " FROM shares AS s JOIN share_files AS f ON f.share_id = s.id WHERE s.id = $1 ORDER BY f.file_index"
);

/// $1 id, $2 file index, $3 now. Counts one download if every rule allows it.
const TAKE_DOWNLOAD: &str = concat!(
    "UPDATE share_files AS f SET downloads = f.downloads + 1 FROM shares AS s ",
    "WHERE s.id = f.share_id AND f.share_id = $1 AND f.file_index = $2 AND NOT ",
    revoked!(),
    " AND NOT ",
    expired!("$3"),
    " AND NOT ",
    used_up!(),
    " RETURNING ",
    file_columns!("")
);

/// The same parameters as `TAKE_DOWNLOAD`: why it updated nothing.
const WHY_NOT_TAKEN: &str = concat!(
    "SELECT ",
    revoked!(),
    ", ",
    expired!("$3"),
    ", f.file_index IS NOT NULL, COALESCE(",
    used_up!(),
    ", FALSE) FROM shares AS s LEFT JOIN share_files AS f ON f.share_id = s.id AND f.file_index = $2 WHERE s.id = $1"
);

/// $1 id, $2 now. Keeps the first revocation's time: revoking twice is fine.
const REVOKE: &str = "UPDATE shares SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";

/// $1 object key.
const SHARE_OF_FILE: &str = "SELECT share_id FROM share_files WHERE object_key = $1";

const APPLIED_MIGRATIONS: &str = "SELECT version FROM _sqlx_migrations WHERE success";

/// How often `take_download` counts again when the share changed between
/// its update and the look at why it failed (a rule relaxed meanwhile).
const TAKE_ATTEMPTS: usize = 3;

/// For `courier check`: which database, and how far it is migrated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbStatus {
    /// `"sqlite"` or `"postgres"`.
    pub backend: &'static str,
    /// Migrations this build knows that the database has applied.
    pub applied: usize,
    /// Migrations this build knows.
    pub known: usize,
}

impl DbStatus {
    /// Whether every migration this build knows is applied.
    pub fn is_current(&self) -> bool {
        self.applied == self.known
    }
}

impl ShareDb {
    /// Connects (creating the SQLite file), applies the versioned migrations in the repo.
    pub async fn open(config: &DatabaseConfig) -> Result<Self, DbError> {
        let pool = match config {
            DatabaseConfig::Sqlite { path } => Pool::Sqlite(connect::sqlite(path).await?),
            DatabaseConfig::Postgres { url } => Pool::Postgres(connect::postgres(config, url).await?),
        };
        Ok(Self { pool })
    }

    /// Closes every connection (SQLite checkpoints its WAL into the file).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
    }

    /// For `courier check`: which database, reachable, how many migrations applied and whether all are.
    pub async fn status(&self) -> Result<DbStatus, DbError> {
        let (backend, migrator) = match self.pool {
            Pool::Sqlite(_) => ("sqlite", &SQLITE_MIGRATIONS),
            Pool::Postgres(_) => ("postgres", &POSTGRES_MIGRATIONS),
        };
        let versions: Vec<i64> = on_pool!(self, pool => sqlx::query_scalar(APPLIED_MIGRATIONS).fetch_all(pool).await?);
        let applied = versions
            .iter()
            .filter(|version| migrator.version_exists(**version))
            .count();
        let known = migrator
            .iter()
            .filter(|migration| migration.migration_type.is_up_migration())
            .count();
        Ok(DbStatus {
            backend,
            applied,
            known,
        })
    }

    /// Stores a share and its files, all or nothing, under a new random id.
    pub async fn create(&self, share: NewShare) -> Result<ShareId, DbError> {
        if share.files.is_empty() {
            return Err(DbError::InvalidShare("needs at least one file"));
        }
        if share.max_downloads == Some(0) {
            return Err(DbError::InvalidShare(
                "allows at least one download of each file, or any number",
            ));
        }
        let too_large = |_| DbError::InvalidShare("cannot hold a file of 8 EiB or more");
        let sizes = share
            .files
            .iter()
            .map(|file| i64::try_from(file.size).map_err(too_large));
        let sizes = sizes.collect::<Result<Vec<_>, _>>()?;
        let id = ShareId::random();
        let created_at = share.created_at.unix_timestamp();
        let expires_at = share.expires_at.map(OffsetDateTime::unix_timestamp);
        let max_downloads = share.max_downloads.map(i64::from);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(INSERT_SHARE)
                .bind(id.as_str())
                .bind(created_at)
                .bind(expires_at)
                .bind(max_downloads)
                .execute(&mut *tx)
                .await?;
            for ((index, file), size) in share.files.iter().enumerate().zip(&sizes) {
                sqlx::query(INSERT_FILE)
                    .bind(id.as_str())
                    .bind(stored_index(index)?)
                    .bind(file.key.as_str())
                    .bind(file.filename.as_str())
                    .bind(file.content_type.as_str())
                    .bind(*size)
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| shared_already(error, &file.key))?;
            }
            tx.commit().await?;
        });
        Ok(id)
    }

    /// A share as [`create`](Self::create) makes it, or the one its first
    /// file is in already: an upload confirmed again (or twice at once)
    /// keeps the one share it got.
    pub async fn create_once(&self, share: NewShare) -> Result<ShareId, DbError> {
        let first = share.files.first().map(|file| file.key.clone());
        match self.create(share).await {
            Err(DbError::FileShared { key }) if Some(&key) == first.as_ref() => {
                self.share_of_file(&key).await?.ok_or(DbError::FileShared { key })
            }
            created => created,
        }
    }

    /// The share the stored object `key` is in, if any (in any state).
    pub async fn share_of_file(&self, key: &str) -> Result<Option<ShareId>, DbError> {
        let id: Option<String> =
            on_pool!(self, pool => sqlx::query_scalar(SHARE_OF_FILE).bind(key).fetch_optional(pool).await?);
        id.map(|id| ShareId::parse(&id).ok_or_else(|| DbError::Corrupt(format!("a share id {id:?}"))))
            .transpose()
    }

    /// The share, with each file and its downloads so far; or why it cannot be used.
    /// `LimitReached` when every file has used its downloads.
    pub async fn share(&self, id: &str, now: OffsetDateTime) -> Result<Share, ShareRefusal> {
        let id = ShareId::parse(id).ok_or(ShareRefusal::NotFound)?;
        let now = now.unix_timestamp();
        let share = on_pool!(self, pool => {
            let rows = sqlx::query(SHARE).bind(id.as_str()).bind(now).fetch_all(pool).await?;
            read_share(id, &rows)?
        });
        share.ok_or(ShareRefusal::NotFound)?
    }

    /// Counts one download of file `file` (0-based) atomically, only if the share exists, is not revoked, not expired and that file has downloads left; returns the file (with its new count).
    pub async fn take_download(&self, id: &str, file: usize, now: OffsetDateTime) -> Result<SharedFile, ShareRefusal> {
        let id = ShareId::parse(id).ok_or(ShareRefusal::NotFound)?;
        let index = i64::try_from(file).map_err(|_| ShareRefusal::NotFound)?;
        let now = now.unix_timestamp();
        for _ in 0..TAKE_ATTEMPTS {
            let taken = on_pool!(self, pool => {
                let rows = sqlx::query(TAKE_DOWNLOAD).bind(id.as_str()).bind(index).bind(now).fetch_all(pool).await?;
                rows.first().map(|row| file_at(row, 0)).transpose()?
            });
            if let Some(file) = taken {
                return Ok(file);
            }
            let standing = on_pool!(self, pool => {
                let rows = sqlx::query(WHY_NOT_TAKEN).bind(id.as_str()).bind(index).bind(now).fetch_all(pool).await?;
                rows.first().map(Standing::read).transpose()?
            });
            let Some(standing) = standing else {
                return Err(ShareRefusal::NotFound);
            };
            if let Some(refusal) = standing.refusal() {
                return Err(refusal);
            }
        }
        Err(ShareRefusal::Unavailable(DbError::Contended))
    }

    /// Revokes the share from `now` on; revoking a revoked share changes nothing.
    pub async fn revoke(&self, id: &str, now: OffsetDateTime) -> Result<(), ShareRefusal> {
        let id = ShareId::parse(id).ok_or(ShareRefusal::NotFound)?;
        let now = now.unix_timestamp();
        let updated = on_pool!(self, pool => {
            sqlx::query(REVOKE).bind(id.as_str()).bind(now).execute(pool).await?.rows_affected()
        });
        if updated == 0 {
            Err(ShareRefusal::NotFound)
        } else {
            Ok(())
        }
    }
}

/// Whether a share and one of its files can be used, as `WHY_NOT_TAKEN` reads it.
struct Standing {
    revoked: bool,
    expired: bool,
    has_file: bool,
    used_up: bool,
}

impl Standing {
    fn read(row: &impl StoredRow) -> Result<Self, DbError> {
        Ok(Self {
            revoked: row.flag(0)?,
            expired: row.flag(1)?,
            has_file: row.flag(2)?,
            used_up: row.flag(3)?,
        })
    }

    /// The refusal that applies, the sender's choices first; `None` if none does.
    fn refusal(&self) -> Option<ShareRefusal> {
        if self.revoked {
            Some(ShareRefusal::Revoked)
        } else if self.expired {
            Some(ShareRefusal::Expired)
        } else if !self.has_file {
            Some(ShareRefusal::NotFound)
        } else if self.used_up {
            Some(ShareRefusal::LimitReached)
        } else {
            None
        }
    }
}

/// A share from `SHARE`'s rows (one per file); `None` if there are none.
fn read_share<R: StoredRow>(id: ShareId, rows: &[R]) -> Result<Option<Result<Share, ShareRefusal>>, DbError> {
    let Some(first) = rows.first() else { return Ok(None) };
    let every_file_used_up = rows
        .iter()
        .map(|row| row.flag(2))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .all(|used| used);
    let standing = Standing {
        revoked: first.flag(0)?,
        expired: first.flag(1)?,
        has_file: true,
        used_up: every_file_used_up,
    };
    if let Some(refusal) = standing.refusal() {
        return Ok(Some(Err(refusal)));
    }
    let files = rows.iter().map(|row| file_at(row, 6)).collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Ok(Share {
        id,
        files,
        created_at: instant(first.int(3)?)?,
        expires_at: first.optional_int(4)?.map(instant).transpose()?,
        max_downloads: first
            .optional_int(5)?
            .map(|max| narrow(max, "a download limit"))
            .transpose()?,
    })))
}

/// The file whose columns (`file_columns!`) start at `at`.
fn file_at(row: &impl StoredRow, at: usize) -> Result<SharedFile, DbError> {
    Ok(SharedFile {
        index: narrow(row.int(at)?, "a file's index")?,
        key: row.text(at + 1)?,
        filename: row.text(at + 2)?,
        content_type: row.text(at + 3)?,
        size: narrow(row.int(at + 4)?, "a file's size")?,
        // Past u32::MAX only when unlimited: shown as u32::MAX.
        downloads: u32::try_from(row.int(at + 5)?.max(0)).unwrap_or(u32::MAX),
    })
}

fn stored_index(index: usize) -> Result<i64, DbError> {
    i64::try_from(index).map_err(|_| DbError::InvalidShare("cannot hold that many files"))
}

fn instant(unix_seconds: i64) -> Result<OffsetDateTime, DbError> {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .map_err(|_| DbError::Corrupt(format!("a time of {unix_seconds} seconds since 1970")))
}

fn narrow<T: TryFrom<i64>>(value: i64, what: &str) -> Result<T, DbError> {
    T::try_from(value).map_err(|_| DbError::Corrupt(format!("{what} of {value}")))
}

/// A row of either database, read by column position.
trait StoredRow {
    fn int(&self, at: usize) -> Result<i64, DbError>;
    fn optional_int(&self, at: usize) -> Result<Option<i64>, DbError>;
    fn text(&self, at: usize) -> Result<String, DbError>;
    fn flag(&self, at: usize) -> Result<bool, DbError>;
}

impl<R> StoredRow for R
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    fn int(&self, at: usize) -> Result<i64, DbError> {
        Ok(self.try_get(at)?)
    }

    fn optional_int(&self, at: usize) -> Result<Option<i64>, DbError> {
        Ok(self.try_get(at)?)
    }

    fn text(&self, at: usize) -> Result<String, DbError> {
        Ok(self.try_get(at)?)
    }

    fn flag(&self, at: usize) -> Result<bool, DbError> {
        Ok(self.try_get(at)?)
    }
}

/// A file insert refused because its object is in a share already (the
/// unique index on `object_key`), told apart from any other failure.
fn shared_already(error: sqlx::Error, key: &str) -> DbError {
    match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => {
            DbError::FileShared { key: key.to_owned() }
        }
        _ => DbError::Query(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// axum's handlers and `tokio::spawn` need every future here to be `Send`.
    #[test]
    fn every_future_is_send() {
        let config = DatabaseConfig::Sqlite {
            path: "unused.db".into(),
        };
        assert_send(&ShareDb::open(&config));
        let _methods = |db: &ShareDb, share: NewShare| {
            assert_send(&db.status());
            assert_send(&db.create(share));
            assert_send(&db.share("", OffsetDateTime::UNIX_EPOCH));
            assert_send(&db.take_download("", 0, OffsetDateTime::UNIX_EPOCH));
            assert_send(&db.revoke("", OffsetDateTime::UNIX_EPOCH));
            assert_send(&db.close());
        };
    }
}

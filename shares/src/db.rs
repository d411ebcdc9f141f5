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
//!
//! The sender's rule changes, the sweep's claims and the combination of
//! shares follow the same pattern: each is an `UPDATE` whose `WHERE` says
//! when it may apply, on the very rows the others update, so of a sweep
//! and a rule change of one share only one wins, and two sweeps never claim
//! one share. A malformed id is looked up as `NO_SUCH_ID`, an id no share
//! has, so it costs what an unknown id costs.

use std::collections::HashMap;

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;

use crate::batch::TakeBatches;
use crate::config::DatabaseConfig;
use crate::connect::{self, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::error::{DbError, ShareRefusal};
use crate::share::{
    NewRules, NewShare, PasswordChange, RuleChange, Share, ShareId, ShareRecord, ShareState, SharedFile, SweptShare,
};

/// Where shares are kept: a pool on SQLite or PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub struct ShareDb {
    pool: Pool,
}

#[derive(Clone)]
enum Pool {
    /// SQLite writes one at a time: every write goes through `write`, one
    /// connection, so writers queue in the pool (in order, without sleeping)
    /// instead of in SQLite's busy handler, which sleeps and retries; reads
    /// (WAL: never blocked by the writer) use `read`.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
        /// Downloads, counted a batch to a transaction on `write`.
        takes: TakeBatches,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the open pool, whichever it is: the
/// same code, type-checked once per database. For reads.
macro_rules! on_pool {
    ($self:expr, $pool:ident => $body:expr) => {
        match &$self.pool {
            Pool::Sqlite { read: $pool, .. } => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// The same, for what writes: SQLite's one writing connection.
macro_rules! on_writer {
    ($self:expr, $pool:ident => $body:expr) => {
        match &$self.pool {
            Pool::Sqlite { write: $pool, .. } => $body,
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
/// Every file of `s` used up: `used_up!` for each (a share has at least one file).
macro_rules! all_used_up {
    () => {
        concat!(
            "(s.max_downloads IS NOT NULL AND NOT EXISTS (SELECT 1 FROM share_files AS f WHERE f.share_id = s.id AND NOT ",
            used_up!(),
            "))"
        )
    };
}
/// Its stored objects deleted, or being deleted: not a rule the sender sets,
/// and never the first reason a share is over (a sweep takes only shares
/// that are over, and a rule change cannot revive a swept one).
macro_rules! swept {
    () => {
        "(s.swept_at IS NOT NULL)"
    };
}
/// For file `f`, the seconds its last counted download may still run after
/// it was counted: an encrypted file's `sealed_download_window` (fetched in
/// ranges, with new URLs), none for a plain one (one GET, already started).
macro_rules! sealed_window {
    () => {
        "(CASE WHEN f.seal IS NULL THEN 0 \
         WHEN 900 + f.size / 262144 < 86400 THEN 900 + f.size / 262144 ELSE 86400 END)"
    };
}
/// Over long enough to be swept, `$ended_by` being `now - grace`: revoked
/// (at once), expired by then, or every file used up with the last download
/// counted by then, and an encrypted one's window over (a share whose
/// downloads were counted before migration 0003 kept no time: its creation
/// is the latest known).
macro_rules! sweepable {
    ($ended_by:literal) => {
        concat!(
            "(",
            revoked!(),
            " OR ",
            expired!($ended_by),
            " OR (",
            all_used_up!(),
            " AND COALESCE((SELECT MAX(f.last_download_at + ",
            sealed_window!(),
            ") FROM share_files AS f WHERE f.share_id = s.id), s.created_at) <= ",
            $ended_by,
            "))"
        )
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
            "downloads, ",
            $f,
            "last_download_at, ",
            $f,
            "seal"
        )
    };
}
/// One row per file of each share: its id, its standing at `$1` (now), its
/// rules, then the file (from column `RECORD_FILE_AT`), as `read_stored` reads them.
macro_rules! record_select {
    () => {
        concat!(
            "SELECT s.id, ",
            revoked!(),
            ", ",
            expired!("$1"),
            ", ",
            used_up!(),
            ", ",
            swept!(),
            ", s.created_at, s.expires_at, s.max_downloads, s.revoked_at, s.swept_at, s.password_hash, ",
            file_columns!("f."),
            " FROM shares AS s JOIN share_files AS f ON f.share_id = s.id"
        )
    };
}
const RECORD_FILE_AT: usize = 11;

const INSERT_SHARE: &str = "INSERT INTO shares (id, created_at, expires_at, max_downloads, password_hash) \
                            VALUES ($1, $2, $3, $4, $5)";
const INSERT_FILE: &str = "INSERT INTO share_files (share_id, file_index, object_key, filename, content_type, size, seal) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// $1 now, $2 id. Read for the person holding the link and for its sender alike.
const SHARE: &str = concat!(record_select!(), " WHERE s.id = $2 ORDER BY f.file_index");

/// $1 id, $2 file index, $3 now. Counts one download if every rule allows
/// it (and the objects are still there), and when.
macro_rules! take_download {
    ($by:literal, $only:literal) => {
        concat!(
            "UPDATE share_files AS f SET downloads = f.downloads + ",
            $by,
            ", last_download_at = $3 FROM shares AS s ",
            "WHERE s.id = f.share_id AND f.share_id = $1 AND f.file_index = $2 AND NOT ",
            revoked!(),
            " AND NOT ",
            expired!("$3"),
            " AND NOT ",
            used_up!(),
            " AND NOT ",
            swept!(),
            $only,
            " AND (s.max_downloads IS NULL OR f.downloads + ",
            $by,
            " <= s.max_downloads) RETURNING ",
            file_columns!("")
        )
    };
}

/// $1 id, $2 file index, $3 now. Counts one download if every rule allows it.
/// Never an encrypted file: its downloads go through `TAKE_SEALED_DOWNLOAD`,
/// after a proof of its key.
const TAKE_DOWNLOAD: &str = take_download!("1", " AND f.seal IS NULL");

/// The same, only for a share without a password: a download that came
/// without one is counted in one statement (the common case), never read first.
const TAKE_OPEN_DOWNLOAD: &str = take_download!("1", " AND s.password_hash IS NULL AND f.seal IS NULL");

/// The same, only for an encrypted file (whose key the caller checked).
const TAKE_SEALED_DOWNLOAD: &str = take_download!("1", " AND f.seal IS NOT NULL");

/// The two above for `$4` downloads of one file at once, all or none: how
/// SQLite's batches count a file many people download at the same moment.
const TAKE_DOWNLOADS: &str = take_download!("$4", " AND f.seal IS NULL");
const TAKE_OPEN_DOWNLOADS: &str = take_download!("$4", " AND s.password_hash IS NULL AND f.seal IS NULL");
const TAKE_SEALED_DOWNLOADS: &str = take_download!("$4", " AND f.seal IS NOT NULL");

/// The same parameters as `TAKE_DOWNLOAD`: why it updated nothing.
const WHY_NOT_TAKEN: &str = concat!(
    "SELECT ",
    revoked!(),
    ", ",
    expired!("$3"),
    ", f.file_index IS NOT NULL, COALESCE(",
    used_up!(),
    ", FALSE), ",
    swept!(),
    ", s.password_hash IS NOT NULL, COALESCE(f.seal IS NOT NULL, FALSE)",
    " FROM shares AS s LEFT JOIN share_files AS f ON f.share_id = s.id AND f.file_index = $2 WHERE s.id = $1"
);

/// $1 id, $2 file index. Undoes one counted download, never below none;
/// not once the objects are deleted (the count is then what ended the share).
const GIVE_BACK_DOWNLOAD: &str = concat!(
    "UPDATE share_files AS f SET downloads = f.downloads - 1 FROM shares AS s ",
    "WHERE s.id = f.share_id AND f.share_id = $1 AND f.file_index = $2 AND f.downloads > 0 AND NOT ",
    swept!()
);

/// $1 id, $2 now. Keeps the first revocation's time: revoking twice is fine.
const REVOKE: &str = "UPDATE shares SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";

/// $1 object key. The file's share, and how many files it has.
const FILE_AND_ITS_SHARE: &str = "SELECT f.share_id, (SELECT COUNT(*) FROM share_files AS o WHERE o.share_id = f.share_id) \
                                  FROM share_files AS f WHERE f.object_key = $1";

/// $1 object key. Takes one file out of its share; the others keep their numbers.
const REMOVE_FILE: &str = "DELETE FROM share_files WHERE object_key = $1";

/// $1 id; then for each of expiry, limit and password, whether to change it
/// and to what. Only a share neither revoked nor swept: a share taken back,
/// or whose objects are deleted, cannot be revived. The sweep updates the
/// same row under the opposite condition, so of the two only one wins.
const SET_RULES: &str = concat!(
    "UPDATE shares AS s SET ",
    "expires_at = CASE WHEN $2 THEN $3 ELSE s.expires_at END, ",
    "max_downloads = CASE WHEN $4 THEN $5 ELSE s.max_downloads END, ",
    "password_hash = CASE WHEN $6 THEN $7 ELSE s.password_hash END ",
    "WHERE s.id = $1 AND NOT ",
    revoked!(),
    " AND NOT ",
    swept!()
);

/// $1 now, $2 now - grace, $3 most shares. Claims shares that are over, up
/// to `$3`, and returns their ids.
///
/// The subquery picks them (an `UPDATE` has no `LIMIT` in both databases);
/// its `s` hides the outer one. The outer `WHERE` repeats every condition
/// on the row being updated, not only through the subquery: on PostgreSQL,
/// an `UPDATE` that waited for another transaction on a row checks its own
/// `WHERE` again against the row as that transaction left it, so a share
/// claimed meanwhile by another instance, or given a new expiry by its
/// sender, is skipped. `s.swept_at IS NULL` is spelled as the partial
/// index `shares_unswept` spells it, so SQLite sees that the index applies.
const CLAIM_SWEEP: &str = concat!(
    "UPDATE shares AS s SET swept_at = $1 WHERE s.swept_at IS NULL AND ",
    sweepable!("$2"),
    " AND s.id IN (SELECT s.id FROM shares AS s WHERE s.swept_at IS NULL AND ",
    sweepable!("$2"),
    " LIMIT $3) RETURNING id"
);

/// Followed by a list of share ids: their files' keys, in file order.
const SWEPT_KEYS: &str = "SELECT f.share_id, f.object_key FROM share_files AS f WHERE f.share_id IN ";

/// $1 id.
const RELEASE_SWEEP: &str = "UPDATE shares SET swept_at = NULL WHERE id = $1";

/// $1 id. Locks a share to combine (an update that changes nothing takes
/// the row's lock on PostgreSQL), only if it can be: neither revoked nor
/// swept. Revoking it, changing its rules or sweeping it waits for the
/// combination, then finds no share.
const LOCK_TO_COMBINE: &str = concat!(
    "UPDATE shares AS s SET swept_at = s.swept_at WHERE s.id = $1 AND NOT ",
    revoked!(),
    " AND NOT ",
    swept!()
);
/// $1 id: why `LOCK_TO_COMBINE` locked nothing.
const WHY_NOT_COMBINED: &str = concat!(
    "SELECT ",
    revoked!(),
    ", ",
    swept!(),
    " FROM shares AS s WHERE s.id = $1"
);
/// $1 the new share, $2 where its files' indexes go on, $3 a share combined.
/// Only files never downloaded: a download counted meanwhile keeps its file
/// (and so its share) where it is, and a download counted after the move
/// finds no file at the old id.
const MOVE_FILES: &str = "UPDATE share_files SET share_id = $1, file_index = file_index + $2 \
                          WHERE share_id = $3 AND downloads = 0";
/// $1 id: files `MOVE_FILES` left behind, downloaded already.
const FILES_LEFT: &str = "SELECT COUNT(*) FROM share_files WHERE share_id = $1";
/// $1 id.
const DELETE_SHARE: &str = "DELETE FROM shares WHERE id = $1";

/// $1 object key.
const SHARE_OF_FILE: &str = "SELECT share_id FROM share_files WHERE object_key = $1";

const APPLIED_MIGRATIONS: &str = "SELECT version FROM _sqlx_migrations WHERE success";

/// How often `take_download` counts again when the share changed between
/// its update and the look at why it failed (a rule relaxed meanwhile); the
/// same for `set_rules` (a sweep released meanwhile).
const TAKE_ATTEMPTS: usize = 3;

/// Looked up in place of a malformed id, so it costs the same query as an
/// unknown one and a prober cannot tell them apart by time: 22 characters,
/// as an id, outside URL-safe base64, so no share has it (every id is made
/// by `ShareId::random`).
const NO_SUCH_ID: &str = "~~~~~~~~~~~~~~~~~~~~~~";
/// Looked up in place of a file index too large to store; `file_index >= 0`.
const NO_SUCH_FILE: i64 = -1;

/// The most shares [`ShareDb::owner_views`] reads, or [`ShareDb::combine`]
/// combines, at once; and how many ids one query lists.
pub const MOST_SHARES_AT_ONCE: usize = 100;

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
            DatabaseConfig::Sqlite { path } => {
                let (read, write) = connect::sqlite(path).await?;
                let takes = TakeBatches::start(write.clone(), |row| file_at(row, 0));
                Pool::Sqlite { read, write, takes }
            }
            DatabaseConfig::Postgres { url } => Pool::Postgres(connect::postgres(config, url).await?),
        };
        Ok(Self { pool })
    }

    /// Closes every connection (SQLite checkpoints its WAL into the file).
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
        on_writer!(self, pool => pool.close().await);
    }

    /// For `courier check`: which database, reachable, how many migrations applied and whether all are.
    pub async fn status(&self) -> Result<DbStatus, DbError> {
        let (backend, migrator) = match self.pool {
            Pool::Sqlite { .. } => ("sqlite", &SQLITE_MIGRATIONS),
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
        check_rules(share.max_downloads, share.password_hash.as_deref())?;
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
        on_writer!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(INSERT_SHARE)
                .bind(id.as_str())
                .bind(created_at)
                .bind(expires_at)
                .bind(max_downloads)
                .bind(share.password_hash.as_deref())
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
                    .bind(file.seal.as_deref())
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
        id.map(|id| stored_id(&id)).transpose()
    }

    /// The share, with each file and its downloads so far; or why it cannot be used.
    /// `LimitReached` when every file has used its downloads.
    pub async fn share(&self, id: &str, now: OffsetDateTime) -> Result<Share, ShareRefusal> {
        let stored = self.stored(look_up(id), now).await?;
        stored.ok_or(ShareRefusal::NotFound)?.into_share()
    }

    /// Counts one download of file `file` (0-based) atomically, only if the share exists, is not revoked, not expired and that file has downloads left; returns the file (with its new count).
    /// The server calls [`give_back_download`](Self::give_back_download)
    /// if it then cannot hand out the file's URL.
    /// An encrypted file is refused (`Sealed`): see
    /// [`take_sealed_download`](Self::take_sealed_download).
    pub async fn take_download(&self, id: &str, file: usize, now: OffsetDateTime) -> Result<SharedFile, ShareRefusal> {
        self.take(Take::Any, id, file, now).await
    }

    /// [`take_download`](Self::take_download) of an encrypted file, for a
    /// downloader that proved it holds the file's key (the caller checks the
    /// proof against the file's seal). A plain file is `NotFound` here.
    pub async fn take_sealed_download(
        &self,
        id: &str,
        file: usize,
        now: OffsetDateTime,
    ) -> Result<SharedFile, ShareRefusal> {
        self.take(Take::Sealed, id, file, now).await
    }

    /// Encrypted file `file` (0-based) of share `id`, for a download of it
    /// already counted that asks for a new URL of its object: the share may
    /// have reached its download limit since (that download may be the
    /// last), but not been revoked, nor expired, nor swept. Counts nothing.
    pub async fn continue_sealed_download(
        &self,
        id: &str,
        file: usize,
        now: OffsetDateTime,
    ) -> Result<SharedFile, ShareRefusal> {
        let stored = self.stored(look_up(id), now).await?.ok_or(ShareRefusal::NotFound)?;
        match stored.state() {
            ShareState::Revoked => return Err(ShareRefusal::Revoked),
            ShareState::Expired => return Err(ShareRefusal::Expired),
            ShareState::Live | ShareState::LimitReached if stored.swept => return Err(ShareRefusal::Deleted),
            ShareState::Live | ShareState::LimitReached => {}
        }
        stored
            .files
            .into_iter()
            .find(|shared| shared.index == file && shared.seal.is_some())
            .ok_or(ShareRefusal::NotFound)
    }

    /// [`take_download`](Self::take_download) for a download that comes
    /// without the share's password: `PasswordNeeded` if the share has one
    /// (nothing counted). One statement when it has none.
    pub async fn take_open_download(
        &self,
        id: &str,
        file: usize,
        now: OffsetDateTime,
    ) -> Result<SharedFile, ShareRefusal> {
        self.take(Take::Open, id, file, now).await
    }

    async fn take(&self, kind: Take, id: &str, file: usize, now: OffsetDateTime) -> Result<SharedFile, ShareRefusal> {
        let (sql, many) = match kind {
            Take::Any => (TAKE_DOWNLOAD, TAKE_DOWNLOADS),
            Take::Open => (TAKE_OPEN_DOWNLOAD, TAKE_OPEN_DOWNLOADS),
            Take::Sealed => (TAKE_SEALED_DOWNLOAD, TAKE_SEALED_DOWNLOADS),
        };
        let id = look_up(id);
        let index = i64::try_from(file).unwrap_or(NO_SUCH_FILE);
        let now = now.unix_timestamp();
        for _ in 0..TAKE_ATTEMPTS {
            let taken = match &self.pool {
                Pool::Sqlite { takes, .. } => takes.take(sql, many, id, index, now).await?,
                Pool::Postgres(pool) => {
                    let row = sqlx::query(sql)
                        .bind(id)
                        .bind(index)
                        .bind(now)
                        .fetch_optional(pool)
                        .await?;
                    row.map(|row| file_at(&row, 0)).transpose()?
                }
            };
            if let Some(file) = taken {
                return Ok(file);
            }
            let standing = on_pool!(self, pool => {
                let rows = sqlx::query(WHY_NOT_TAKEN).bind(id).bind(index).bind(now).fetch_all(pool).await?;
                rows.first().map(Standing::read).transpose()?
            });
            let Some(standing) = standing else {
                return Err(ShareRefusal::NotFound);
            };
            if let Some(refusal) = standing.refusal() {
                return Err(refusal);
            }
            match kind {
                Take::Sealed if !standing.sealed => return Err(ShareRefusal::NotFound),
                Take::Any | Take::Open if standing.sealed => return Err(ShareRefusal::Sealed),
                Take::Open if standing.password => return Err(ShareRefusal::PasswordNeeded),
                _ => {}
            }
        }
        Err(ShareRefusal::Unavailable(DbError::Contended))
    }

    /// Undoes one download [`take_download`](Self::take_download) counted
    /// of file `file`, for a download that was counted but not served (its
    /// URL could not be signed): no download is counted that was not given
    /// a URL. Never below none; nothing for a share that is not there, and
    /// nothing once its objects are swept.
    pub async fn give_back_download(&self, id: &ShareId, file: usize) -> Result<(), DbError> {
        let index = i64::try_from(file).unwrap_or(NO_SUCH_FILE);
        on_writer!(self, pool => {
            sqlx::query(GIVE_BACK_DOWNLOAD).bind(id.as_str()).bind(index).execute(pool).await?;
        });
        Ok(())
    }

    /// Revokes the share from `now` on; revoking a revoked share changes nothing.
    pub async fn revoke(&self, id: &str, now: OffsetDateTime) -> Result<(), ShareRefusal> {
        let id = look_up(id);
        let now = now.unix_timestamp();
        let updated = on_writer!(self, pool => {
            sqlx::query(REVOKE).bind(id).bind(now).execute(pool).await?.rows_affected()
        });
        if updated == 0 {
            Err(ShareRefusal::NotFound)
        } else {
            Ok(())
        }
    }

    /// The stored object `key` was deleted by its owner: it leaves its share,
    /// whose other files keep working under their own numbers; a share left
    /// with no file is revoked. Nothing for an object in no share.
    pub async fn remove_file(&self, key: &str, now: OffsetDateTime) -> Result<(), DbError> {
        let now = now.unix_timestamp();
        on_writer!(self, pool => {
            let mut transaction = pool.begin().await?;
            let found: Option<(String, i64)> = sqlx::query_as(FILE_AND_ITS_SHARE)
                .bind(key)
                .fetch_optional(&mut *transaction)
                .await?;
            match found {
                None => {}
                Some((share, files)) if files <= 1 => {
                    sqlx::query(REVOKE).bind(share).bind(now).execute(&mut *transaction).await?;
                }
                Some(_) => {
                    sqlx::query(REMOVE_FILE).bind(key).execute(&mut *transaction).await?;
                }
            }
            transaction.commit().await?;
        });
        Ok(())
    }

    /// The share as its sender sees it, in any state (revoked, expired, used
    /// up, swept): `NotFound` only when there is none.
    pub async fn owner_view(&self, id: &str, now: OffsetDateTime) -> Result<ShareRecord, ShareRefusal> {
        let stored = self.stored(look_up(id), now).await?;
        Ok(stored.ok_or(ShareRefusal::NotFound)?.into_record())
    }

    /// The shares of the sender's recent list, in the order given, each
    /// once; an id with no share is left out. At most
    /// [`MOST_SHARES_AT_ONCE`] ids, read in one query.
    pub async fn owner_views(&self, ids: &[ShareId], now: OffsetDateTime) -> Result<Vec<ShareRecord>, DbError> {
        if ids.len() > MOST_SHARES_AT_ONCE {
            return Err(DbError::TooManyShares {
                asked: ids.len(),
                most: MOST_SHARES_AT_ONCE,
            });
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (list, listed) = id_list(2, ids.len());
        let query = format!("{} WHERE s.id IN {list} ORDER BY s.id, f.file_index", record_select!());
        let now = now.unix_timestamp();
        let found = on_pool!(self, pool => {
            let mut query = sqlx::query(AssertSqlSafe(query)).bind(now);
            for id in padded(ids, listed) {
                query = query.bind(id);
            }
            read_stored(&query.fetch_all(pool).await?)?
        });
        let mut found: HashMap<ShareId, Stored> = found.into_iter().map(|share| (share.id.clone(), share)).collect();
        Ok(ids
            .iter()
            .filter_map(|id| found.remove(id))
            .map(Stored::into_record)
            .collect())
    }

    /// Changes the share's rules as its sender asked, in one update, and
    /// returns it as it is now. Refused for a share revoked (`Revoked`) or
    /// swept (`Deleted`); allowed for one expired but not swept yet, whose
    /// objects are still there. A limit below the downloads so far is
    /// allowed: the files are then used up.
    pub async fn set_rules(
        &self,
        id: &str,
        rules: RuleChange,
        now: OffsetDateTime,
    ) -> Result<ShareRecord, ShareRefusal> {
        let password = match &rules.password {
            PasswordChange::Keep => None,
            PasswordChange::Remove => Some(None),
            PasswordChange::Set(hash) => Some(Some(hash.as_str())),
        };
        check_rules(rules.max_downloads.flatten(), password.flatten()).map_err(refusal_of)?;
        let id = look_up(id);
        let expires_at = rules.expires_at.flatten().map(OffsetDateTime::unix_timestamp);
        let max_downloads = rules.max_downloads.flatten().map(i64::from);
        for _ in 0..TAKE_ATTEMPTS {
            let updated = on_writer!(self, pool => {
                sqlx::query(SET_RULES)
                    .bind(id)
                    .bind(rules.expires_at.is_some())
                    .bind(expires_at)
                    .bind(rules.max_downloads.is_some())
                    .bind(max_downloads)
                    .bind(password.is_some())
                    .bind(password.flatten())
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            let record = self.stored(id, now).await?.ok_or(ShareRefusal::NotFound)?;
            if updated > 0 {
                return Ok(record.into_record());
            }
            if record.revoked_at.is_some() {
                return Err(ShareRefusal::Revoked);
            }
            if record.swept_at.is_some() {
                return Err(ShareRefusal::Deleted);
            }
        }
        Err(ShareRefusal::Unavailable(DbError::Contended))
    }

    /// Claims up to `max` shares that are over for the sweep, and returns
    /// them with the keys of their stored objects, for the server to delete.
    /// Over: revoked (at once), or expired `grace` ago, or every file's
    /// downloads used with the last one counted `grace` ago (so the URL
    /// handed out for it, and a browser resuming it, still work).
    ///
    /// A claim is one conditional update, committed with the read of the
    /// keys: two claims at once (two instances on one PostgreSQL) never
    /// return the same share, and a failed read claims nothing. The rows
    /// stay, so the link still says why it ended; the server calls
    /// [`release_sweep`](Self::release_sweep) for a share whose objects it
    /// could not delete.
    pub async fn claim_sweep(
        &self,
        now: OffsetDateTime,
        grace: std::time::Duration,
        max: usize,
    ) -> Result<Vec<SweptShare>, DbError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = now.unix_timestamp();
        // Whole seconds, rounded up: a grace is a minimum.
        let grace = grace.as_secs().saturating_add(u64::from(grace.subsec_nanos() > 0));
        let ended_by = now.saturating_sub(i64::try_from(grace).unwrap_or(i64::MAX));
        let most = i64::try_from(max).unwrap_or(i64::MAX);
        on_writer!(self, pool => {
            let mut tx = pool.begin().await?;
            let claimed: Vec<String> = sqlx::query_scalar(CLAIM_SWEEP)
                .bind(now)
                .bind(ended_by)
                .bind(most)
                .fetch_all(&mut *tx)
                .await?;
            let mut swept = claimed
                .iter()
                .map(|id| Ok((stored_id(id)?, Vec::new())))
                .collect::<Result<HashMap<ShareId, Vec<String>>, DbError>>()?;
            for ids in claimed.chunks(MOST_SHARES_AT_ONCE) {
                let (list, listed) = id_list(1, ids.len());
                let query = format!("{SWEPT_KEYS}{list} ORDER BY f.share_id, f.file_index");
                let mut query = sqlx::query(AssertSqlSafe(query));
                for id in padded(ids, listed) {
                    query = query.bind(id);
                }
                for row in query.fetch_all(&mut *tx).await? {
                    let id = stored_id(&row.text(0)?)?;
                    let key = row.text(1)?;
                    swept.get_mut(&id).ok_or_else(|| DbError::Corrupt(format!("a file of {id}")))?.push(key);
                }
            }
            tx.commit().await?;
            let mut swept: Vec<SweptShare> = swept.into_iter().map(|(id, keys)| SweptShare { id, keys }).collect();
            swept.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
            Ok(swept)
        })
    }

    /// Gives a claimed share back to the sweep (its `swept_at` cleared), for
    /// the server when deleting one of its objects failed: a later sweep
    /// claims it again and retries.
    pub async fn release_sweep(&self, id: &ShareId) -> Result<(), DbError> {
        on_writer!(self, pool => {
            sqlx::query(RELEASE_SWEEP).bind(id.as_str()).execute(pool).await?;
        });
        Ok(())
    }

    /// Makes one share of several: a new share, with `rules`, holding every
    /// file of `ids` (in the order given, then in file order), and the shares
    /// given deleted (an object is in one share at most), all in one
    /// transaction. Refused, with nothing changed, if any of them is not
    /// there (`NotFound`), revoked, swept (`Deleted`), or has a download
    /// counted (`Downloaded`: a link someone used must keep working).
    ///
    /// A download of one of them at the same time is never lost: if it is
    /// counted first, the combination is refused; if the combination comes
    /// first, the download finds no share at its old link (`NotFound`), as
    /// any later one would.
    pub async fn combine(
        &self,
        ids: &[ShareId],
        rules: NewRules,
        now: OffsetDateTime,
    ) -> Result<ShareId, ShareRefusal> {
        check_combined(ids).map_err(refusal_of)?;
        check_rules(rules.max_downloads, rules.password_hash.as_deref()).map_err(refusal_of)?;
        let id = ShareId::random();
        let expires_at = rules.expires_at.map(OffsetDateTime::unix_timestamp);
        let max_downloads = rules.max_downloads.map(i64::from);
        // Locked in one order whatever the order given, so two combinations
        // of the same shares wait for each other instead of deadlocking.
        let mut in_lock_order: Vec<&ShareId> = ids.iter().collect();
        in_lock_order.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        on_writer!(self, pool => {
            // A write first: on SQLite the transaction then holds the write
            // lock from its start, and no other write comes between its reads.
            let mut tx = pool.begin().await?;
            sqlx::query(INSERT_SHARE)
                .bind(id.as_str())
                .bind(now.unix_timestamp())
                .bind(expires_at)
                .bind(max_downloads)
                .bind(rules.password_hash.as_deref())
                .execute(&mut *tx)
                .await?;
            for combined in in_lock_order {
                let locked = sqlx::query(LOCK_TO_COMBINE).bind(combined.as_str()).execute(&mut *tx).await?;
                if locked.rows_affected() == 0 {
                    let rows = sqlx::query(WHY_NOT_COMBINED).bind(combined.as_str()).fetch_all(&mut *tx).await?;
                    let Some(row) = rows.first() else {
                        return Err(ShareRefusal::NotFound);
                    };
                    return Err(if row.flag(0)? {
                        ShareRefusal::Revoked
                    } else if row.flag(1)? {
                        ShareRefusal::Deleted
                    } else {
                        ShareRefusal::Unavailable(DbError::Contended)
                    });
                }
            }
            let mut files = 0;
            for combined in ids {
                let moved = sqlx::query(MOVE_FILES)
                    .bind(id.as_str())
                    .bind(files)
                    .bind(combined.as_str())
                    .execute(&mut *tx)
                    .await?;
                let left: i64 = sqlx::query_scalar(FILES_LEFT).bind(combined.as_str()).fetch_one(&mut *tx).await?;
                if left > 0 {
                    return Err(ShareRefusal::Downloaded);
                }
                files += i64::try_from(moved.rows_affected())
                    .map_err(|_| DbError::InvalidShare("cannot hold that many files"))?;
                sqlx::query(DELETE_SHARE).bind(combined.as_str()).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(id)
    }

    /// The share with id `id` as stored, read at `now`; `None` if there is none.
    async fn stored(&self, id: &str, now: OffsetDateTime) -> Result<Option<Stored>, DbError> {
        let now = now.unix_timestamp();
        let shares = on_pool!(self, pool => {
            read_stored(&sqlx::query(SHARE).bind(now).bind(id).fetch_all(pool).await?)?
        });
        Ok(shares.into_iter().next())
    }
}

/// The id to look up for `text`: itself if it is an id, else `NO_SUCH_ID`,
/// so a malformed id takes the same path as an unknown one.
fn look_up(text: &str) -> &str {
    if ShareId::parse(text).is_some() {
        text
    } else {
        NO_SUCH_ID
    }
}

/// Whether a share and one of its files can be used, as `WHY_NOT_TAKEN` reads it.
struct Standing {
    revoked: bool,
    expired: bool,
    has_file: bool,
    used_up: bool,
    swept: bool,
    /// Whether the share asks for a password.
    password: bool,
    /// Whether the file is encrypted.
    sealed: bool,
}

/// Which downloads a take counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Take {
    /// A plain file, with the password given (or none asked).
    Any,
    /// A plain file of a share without a password.
    Open,
    /// An encrypted file, its key proved.
    Sealed,
}

impl Standing {
    fn read(row: &impl StoredRow) -> Result<Self, DbError> {
        Ok(Self {
            revoked: row.flag(0)?,
            expired: row.flag(1)?,
            has_file: row.flag(2)?,
            used_up: row.flag(3)?,
            swept: row.flag(4)?,
            password: row.flag(5)?,
            sealed: row.flag(6)?,
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
        } else if self.swept {
            Some(ShareRefusal::Deleted)
        } else {
            None
        }
    }
}

/// A share as `record_select!` reads it: its standing at the `now` given,
/// its rules and its files.
struct Stored {
    id: ShareId,
    revoked: bool,
    expired: bool,
    every_file_used_up: bool,
    swept: bool,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    max_downloads: Option<u32>,
    revoked_at: Option<OffsetDateTime>,
    swept_at: Option<OffsetDateTime>,
    password_hash: Option<String>,
    files: Vec<SharedFile>,
}

impl Stored {
    /// The first reason it is over, as a refusal gives them: revoked, then
    /// expired, then every file used up.
    fn state(&self) -> ShareState {
        if self.revoked {
            ShareState::Revoked
        } else if self.expired {
            ShareState::Expired
        } else if self.every_file_used_up {
            ShareState::LimitReached
        } else {
            ShareState::Live
        }
    }

    /// The share for the person holding its link, or why it cannot be used.
    fn into_share(self) -> Result<Share, ShareRefusal> {
        match self.state() {
            ShareState::Revoked => Err(ShareRefusal::Revoked),
            ShareState::Expired => Err(ShareRefusal::Expired),
            ShareState::LimitReached => Err(ShareRefusal::LimitReached),
            // Only a share released by a failed sweep after a download was
            // given back could be live and swept: its files may be gone.
            ShareState::Live if self.swept => Err(ShareRefusal::Deleted),
            ShareState::Live => Ok(Share {
                id: self.id,
                files: self.files,
                expires_at: self.expires_at,
                max_downloads: self.max_downloads,
                password_hash: self.password_hash,
                created_at: self.created_at,
            }),
        }
    }

    fn into_record(self) -> ShareRecord {
        ShareRecord {
            state: self.state(),
            id: self.id,
            files: self.files,
            created_at: self.created_at,
            expires_at: self.expires_at,
            max_downloads: self.max_downloads,
            revoked_at: self.revoked_at,
            swept_at: self.swept_at,
            has_password: self.password_hash.is_some(),
        }
    }
}

/// The shares in `record_select!`'s rows (one per file, each share's rows
/// together, in file order).
fn read_stored<R: StoredRow>(rows: &[R]) -> Result<Vec<Stored>, DbError> {
    let mut shares: Vec<Stored> = Vec::new();
    for row in rows {
        let id = row.text(0)?;
        let file = file_at(row, RECORD_FILE_AT)?;
        let used_up = row.flag(3)?;
        if let Some(share) = shares.last_mut().filter(|share| share.id.as_str() == id) {
            share.every_file_used_up &= used_up;
            share.files.push(file);
            continue;
        }
        shares.push(Stored {
            id: stored_id(&id)?,
            revoked: row.flag(1)?,
            expired: row.flag(2)?,
            every_file_used_up: used_up,
            swept: row.flag(4)?,
            created_at: instant(row.int(5)?)?,
            expires_at: row.optional_int(6)?.map(instant).transpose()?,
            max_downloads: row
                .optional_int(7)?
                .map(|max| narrow(max, "a download limit"))
                .transpose()?,
            revoked_at: row.optional_int(8)?.map(instant).transpose()?,
            swept_at: row.optional_int(9)?.map(instant).transpose()?,
            password_hash: row.optional_text(10)?,
            files: vec![file],
        });
    }
    Ok(shares)
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
        last_download_at: row.optional_int(at + 6)?.map(instant).transpose()?,
        seal: row.optional_text(at + 7)?,
    })
}

/// A share's rules as the schema keeps them: at least one download, and a
/// password only as an Argon2id PHC string (a password stored by mistake in
/// place of its hash is refused, as the schema's CHECK would).
fn check_rules(max_downloads: Option<u32>, password_hash: Option<&str>) -> Result<(), DbError> {
    if max_downloads == Some(0) {
        return Err(DbError::InvalidShare(
            "allows at least one download of each file, or any number",
        ));
    }
    if password_hash.is_some_and(|hash| !hash.starts_with("$argon2id$")) {
        return Err(DbError::InvalidShare(
            "keeps its password as an Argon2id hash ($argon2id$…), never as itself",
        ));
    }
    Ok(())
}

/// The shares `combine` is given: one or more, each once, not too many.
fn check_combined(ids: &[ShareId]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Err(DbError::InvalidShare("needs at least one file"));
    }
    if ids.len() > MOST_SHARES_AT_ONCE {
        return Err(DbError::InvalidShare("combines at most 100 shares"));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|id| seen.insert(id)) {
        return Err(DbError::InvalidShare("combines each share at most once"));
    }
    Ok(())
}

/// A refusal for the sender: a rule broken is said as such, anything else
/// is the database's failure.
fn refusal_of(error: DbError) -> ShareRefusal {
    match error {
        DbError::InvalidShare(why) => ShareRefusal::Invalid(why),
        other => ShareRefusal::Unavailable(other),
    }
}

/// `($first, $first + 1, …)`: a list of `count` ids to look up, and how many
/// it lists: `count` rounded up to a power of two (at most
/// `MOST_SHARES_AT_ONCE`), the rest `NO_SUCH_ID` (see `padded`). So lists
/// have few lengths, and each connection prepares (and caches) few statements.
fn id_list(first: usize, count: usize) -> (String, usize) {
    let listed = count.next_power_of_two().min(MOST_SHARES_AT_ONCE).max(count);
    let parameters: Vec<String> = (first..first + listed).map(|n| format!("${n}")).collect();
    (format!("({})", parameters.join(", ")), listed)
}

/// `ids`, then `NO_SUCH_ID` up to `listed` ids.
fn padded<I: AsRef<str>>(ids: &[I], listed: usize) -> impl Iterator<Item = &str> {
    let padding = listed.saturating_sub(ids.len());
    ids.iter()
        .map(AsRef::as_ref)
        .chain(std::iter::repeat_n(NO_SUCH_ID, padding))
}

fn stored_id(id: &str) -> Result<ShareId, DbError> {
    ShareId::parse(id).ok_or_else(|| DbError::Corrupt(format!("a share id {id:?}")))
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
    fn optional_text(&self, at: usize) -> Result<Option<String>, DbError>;
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

    fn optional_text(&self, at: usize) -> Result<Option<String>, DbError> {
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

pub mod requests;
pub mod tokens;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The sweep's SQL cannot name Rust constants: it must say the same
    /// numbers as `sealed_download_window`.
    #[test]
    fn the_sweeps_window_is_sealed_download_window() {
        use crate::share::{LONGEST_SEALED_DOWNLOAD, SEALED_DOWNLOAD_GRACE, SLOWEST_SEALED_DOWNLOAD};
        let streaming = format!("{SEALED_DOWNLOAD_GRACE} + f.size / {SLOWEST_SEALED_DOWNLOAD}");
        let expected = format!(
            "(CASE WHEN f.seal IS NULL THEN 0 WHEN {streaming} < {LONGEST_SEALED_DOWNLOAD} \
             THEN {streaming} ELSE {LONGEST_SEALED_DOWNLOAD} END)"
        );
        assert_eq!(sealed_window!(), expected);
    }

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
            assert_send(&db.remove_file("", OffsetDateTime::UNIX_EPOCH));
            assert_send(&db.create_once(NewShare {
                files: Vec::new(),
                expires_at: None,
                max_downloads: None,
                password_hash: None,
                created_at: OffsetDateTime::UNIX_EPOCH,
            }));
            assert_send(&db.share_of_file(""));
            let id = ShareId::random();
            assert_send(&db.give_back_download(&id, 0));
            assert_send(&db.owner_view("", OffsetDateTime::UNIX_EPOCH));
            assert_send(&db.owner_views(std::slice::from_ref(&id), OffsetDateTime::UNIX_EPOCH));
            assert_send(&db.set_rules("", RuleChange::default(), OffsetDateTime::UNIX_EPOCH));
            assert_send(&db.claim_sweep(OffsetDateTime::UNIX_EPOCH, std::time::Duration::ZERO, 1));
            assert_send(&db.release_sweep(&id));
            assert_send(&db.combine(
                std::slice::from_ref(&id),
                NewRules::default(),
                OffsetDateTime::UNIX_EPOCH,
            ));
            assert_send(&db.close());
        };
    }

    #[test]
    fn no_id_is_the_one_looked_up_for_malformed_ids() {
        assert_eq!(NO_SUCH_ID.len(), crate::share::ID_CHARS);
        assert_eq!(ShareId::parse(NO_SUCH_ID), None);
        assert_eq!(look_up("short"), NO_SUCH_ID);
        let id = ShareId::random();
        assert_eq!(look_up(id.as_str()), id.as_str());
    }

    #[test]
    fn id_lists_have_few_lengths() {
        assert_eq!(id_list(2, 1), ("($2)".to_owned(), 1));
        assert_eq!(id_list(1, 3), ("($1, $2, $3, $4)".to_owned(), 4));
        assert_eq!(id_list(1, 65).1, MOST_SHARES_AT_ONCE);
        assert_eq!(id_list(1, MOST_SHARES_AT_ONCE).1, MOST_SHARES_AT_ONCE);
        let ids = [ShareId::random()];
        let listed: Vec<&str> = padded(&ids, 4).collect();
        assert_eq!(listed, [ids[0].as_str(), NO_SUCH_ID, NO_SUCH_ID, NO_SUCH_ID]);
    }
}

//! File requests: a link that lets someone without upload access upload
//! into a share of the person who made it, within a file count, a size
//! budget and an expiry.
//!
//! Each upload granted for a request holds one file and its declared size
//! of the request's room from its grant ([`ShareDb::hold_request_upload`])
//! until it arrives ([`ShareDb::receive_request_upload`], which puts it in
//! the request's share) or, never received, until its grant runs out; an
//! aborted upload gives its room back at once. Every write that counts the
//! room first bumps the request's row, so on PostgreSQL two of them queue
//! on that row's lock and the second counts what the first held; on SQLite
//! they queue on the one writer.

use std::fmt;

use time::OffsetDateTime;

use super::{INSERT_FILE, INSERT_SHARE, Pool, ShareDb, instant, look_up, narrow, stored_id};
use crate::error::DbError;
use crate::share::ShareId;

/// A request's id: as random, and spelled, as a share's.
pub type RequestId = ShareId;

/// A request to make. Times in whole seconds, UTC.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub max_files: u32,
    pub max_bytes: u64,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// Files may be sent.
    Open,
    /// Its maker closed it.
    Closed,
    Expired,
    /// Every file it asked for has arrived (or is on its way).
    Full,
}

/// A request as its maker sees it (and, without `received`, as the person
/// asked for files does).
#[derive(Clone, Debug)]
pub struct FileRequest {
    pub id: RequestId,
    pub state: RequestState,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub max_files: u32,
    pub max_bytes: u64,
    /// The share its files went into, once one arrived.
    pub share: Option<ShareId>,
    /// Files that arrived, and their bytes.
    pub files_received: u32,
    pub bytes_received: u64,
    /// Uploads granted and not yet arrived, and their declared bytes.
    pub files_arriving: u32,
    pub bytes_arriving: u64,
    /// The files that arrived, in the order they did.
    pub received: Vec<ReceivedFile>,
}

impl FileRequest {
    /// Files that may still be granted.
    pub fn files_left(&self) -> u32 {
        self.max_files
            .saturating_sub(self.files_received)
            .saturating_sub(self.files_arriving)
    }

    /// Bytes that may still be granted.
    pub fn bytes_left(&self) -> u64 {
        self.max_bytes
            .saturating_sub(self.bytes_received)
            .saturating_sub(self.bytes_arriving)
    }
}

/// One file that arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedFile {
    pub filename: String,
    pub size: u64,
    pub received_at: OffsetDateTime,
}

/// Why an upload may not be granted for a request: each a sentence for
/// the person sending files.
#[derive(Debug, thiserror::Error)]
pub enum RequestRefusal {
    #[error("There is no file request at this link. Check that it was copied whole.")]
    NotFound,
    #[error("This file request was closed by the person who made it: ask them for a new link.")]
    Closed,
    #[error("This file request has expired: ask the person who made it for a new link.")]
    Expired,
    #[error(
        "This file request has all the files it asked for ({max_files}): ask its maker for a new link to send more."
    )]
    NoFilesLeft { max_files: u32 },
    #[error(
        "This file request has no room left: the files sent or on their way take all it asked for. Ask its maker for a new link to send more."
    )]
    NoRoomLeft,
    #[error("This file does not fit in what is left of this file request ({}): send a smaller one, or ask its maker for more room.", Bytes(*left))]
    TooLarge { left: u64 },
    #[error(transparent)]
    Unavailable(#[from] DbError),
}

/// A size as people read it: 1.5 GiB.
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            write!(f, "{} bytes", self.0)
        } else {
            write!(f, "{value:.1} {}", UNITS[unit])
        }
    }
}

const INSERT_REQUEST: &str =
    "INSERT INTO file_requests (id, created_at, expires_at, max_files, max_bytes) VALUES ($1, $2, $3, $4, $5)";

/// $1 id: the row every counting write changes first.
const LOCK_REQUEST: &str = "UPDATE file_requests SET writes = writes + 1 WHERE id = $1";

/// An upload that counts against its request at `$n`: arrived, or granted
/// and not yet run out.
macro_rules! counted {
    ($now:literal) => {
        concat!("(u.received_at IS NOT NULL OR u.held_until > ", $now, ")")
    };
}

/// $1 request, $2 object key, $3 size, $4 now, $5 held until: the upload
/// is held if the request is open and has a file and the size left.
const HOLD: &str = concat!(
    "INSERT INTO request_uploads (object_key, request_id, size, held_until) ",
    "SELECT $2, r.id, $3, $5 FROM file_requests AS r ",
    "WHERE r.id = $1 AND r.closed_at IS NULL AND r.expires_at > $4 ",
    "AND (SELECT COUNT(*) FROM request_uploads AS u WHERE u.request_id = r.id AND ",
    counted!("$4"),
    ") < r.max_files ",
    "AND (SELECT COALESCE(SUM(u.size), 0) FROM request_uploads AS u WHERE u.request_id = r.id AND ",
    counted!("$4"),
    ") + $3 <= r.max_bytes"
);

/// $1 id, $2 now: the request and its counts (`read_request`).
const REQUEST: &str = concat!(
    "SELECT r.id, r.created_at, r.expires_at, r.max_files, r.max_bytes, r.closed_at, r.share_id, ",
    "(SELECT COUNT(*) FROM request_uploads AS u WHERE u.request_id = r.id AND u.received_at IS NOT NULL), ",
    "(SELECT CAST(COALESCE(SUM(u.size), 0) AS BIGINT) FROM request_uploads AS u WHERE u.request_id = r.id AND u.received_at IS NOT NULL), ",
    "(SELECT COUNT(*) FROM request_uploads AS u WHERE u.request_id = r.id AND u.received_at IS NULL AND u.held_until > $2), ",
    "(SELECT CAST(COALESCE(SUM(u.size), 0) AS BIGINT) FROM request_uploads AS u WHERE u.request_id = r.id AND u.received_at IS NULL AND u.held_until > $2) ",
    "FROM file_requests AS r WHERE r.id = $1"
);

/// $1 id: the files that arrived and are still in its share.
const RECEIVED: &str = "SELECT f.filename, f.size, u.received_at FROM request_uploads AS u \
                        JOIN share_files AS f ON f.object_key = u.stored_key \
                        WHERE u.request_id = $1 AND u.received_at IS NOT NULL ORDER BY u.received_at, f.file_index";

/// $1 object key: locks its request, if it has one; the request's id.
const LOCK_REQUEST_OF: &str = "UPDATE file_requests SET writes = writes + 1 \
                               WHERE id = (SELECT request_id FROM request_uploads WHERE object_key = $1) RETURNING id";

/// $1 request, $2 now: its share, if files can still be added to it.
const LIVE_SHARE_OF: &str = "SELECT s.id FROM file_requests AS r JOIN shares AS s ON s.id = r.share_id \
                             WHERE r.id = $1 AND s.revoked_at IS NULL AND s.swept_at IS NULL \
                             AND (s.expires_at IS NULL OR s.expires_at > $2)";

/// $1 share, then the file as `INSERT_FILE` takes it: the share's next file.
const APPEND_FILE: &str = "INSERT INTO share_files (share_id, file_index, object_key, filename, content_type, size, seal) \
                           SELECT $1, COALESCE(MAX(f.file_index) + 1, 0), $2, $3, $4, $5, NULL \
                           FROM share_files AS f WHERE f.share_id = $1";

const REQUEST_OF: &str = "SELECT request_id FROM request_uploads WHERE object_key = $1";
const SET_SHARE: &str = "UPDATE file_requests SET share_id = $2 WHERE id = $1";
/// $1 upload key, $2 now, $3 the key it is stored under.
const RECEIVED_AT: &str = "UPDATE request_uploads SET received_at = $2, stored_key = $3 WHERE object_key = $1";
const SHARE_OF_FILE: &str = "SELECT share_id FROM share_files WHERE object_key = $1";
const GIVE_BACK: &str = "DELETE FROM request_uploads WHERE object_key = $1 AND received_at IS NULL";
const CLOSE: &str = "UPDATE file_requests SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL";

/// A file as it arrives for a request.
#[derive(Clone, Debug)]
pub struct ArrivedFile {
    /// The key it was uploaded to, which its grant was held under.
    pub upload_key: String,
    /// The key it is stored under, confirmed.
    pub key: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

/// Columns of `REQUEST`, as a tuple.
type RequestRow = (
    String,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
);

impl ShareDb {
    /// Makes a request under a new random id.
    pub async fn create_request(&self, request: NewRequest) -> Result<RequestId, DbError> {
        let max_bytes =
            i64::try_from(request.max_bytes).map_err(|_| DbError::InvalidShare("request cannot hold 8 EiB"))?;
        if request.max_files == 0 || max_bytes == 0 {
            return Err(DbError::InvalidShare("request asks for at least one byte in one file"));
        }
        let id = RequestId::random();
        on_writer!(self, pool => sqlx::query(INSERT_REQUEST)
            .bind(id.as_str())
            .bind(request.created_at.unix_timestamp())
            .bind(request.expires_at.unix_timestamp())
            .bind(i64::from(request.max_files))
            .bind(max_bytes)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(id)
    }

    /// The request with id `id` at `now`, with the files that arrived; `None` if there is none.
    pub async fn file_request(&self, id: &str, now: OffsetDateTime) -> Result<Option<FileRequest>, DbError> {
        let id = look_up(id);
        let now = now.unix_timestamp();
        let row: Option<RequestRow> =
            on_pool!(self, pool => sqlx::query_as(REQUEST).bind(id).bind(now).fetch_optional(pool).await?);
        let Some(row) = row else {
            return Ok(None);
        };
        let received: Vec<(String, i64, i64)> =
            on_pool!(self, pool => sqlx::query_as(RECEIVED).bind(id).fetch_all(pool).await?);
        let mut request = read_request(row, now)?;
        request.received = received
            .into_iter()
            .map(|(filename, size, at)| {
                Ok(ReceivedFile {
                    filename,
                    size: narrow(size, "a file's size")?,
                    received_at: instant(at)?,
                })
            })
            .collect::<Result<_, DbError>>()?;
        Ok(Some(request))
    }

    /// Holds one file and `size` bytes of request `id`'s room for the
    /// upload of `key` until `held_until` (or until it arrives), if the
    /// request is open and has them; else why not.
    pub async fn hold_request_upload(
        &self,
        id: &str,
        key: &str,
        size: u64,
        held_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), RequestRefusal> {
        let id = look_up(id);
        let stored_size = i64::try_from(size).map_err(|_| RequestRefusal::TooLarge { left: 0 })?;
        let held = on_writer!(self, pool => {
            let mut tx = pool.begin().await.map_err(DbError::from)?;
            sqlx::query(LOCK_REQUEST).bind(id).execute(&mut *tx).await.map_err(DbError::from)?;
            let held = sqlx::query(HOLD)
                .bind(id)
                .bind(key)
                .bind(stored_size)
                .bind(now.unix_timestamp())
                .bind(held_until.unix_timestamp())
                .execute(&mut *tx)
                .await
                .map_err(DbError::from)?
                .rows_affected();
            tx.commit().await.map_err(DbError::from)?;
            held
        });
        if held > 0 {
            return Ok(());
        }
        let request = self.file_request(id, now).await?.ok_or(RequestRefusal::NotFound)?;
        Err(match request.state {
            RequestState::Closed => RequestRefusal::Closed,
            RequestState::Expired => RequestRefusal::Expired,
            RequestState::Full => RequestRefusal::NoFilesLeft {
                max_files: request.max_files,
            },
            RequestState::Open if request.bytes_left() == 0 => RequestRefusal::NoRoomLeft,
            RequestState::Open => RequestRefusal::TooLarge {
                left: request.bytes_left(),
            },
        })
    }

    /// The upload to `file.upload_key` arrived: if it was granted for a request, it
    /// joins the request's share (made now for the first file, or again if
    /// the one it had was taken back or ran out), and that share's id is
    /// returned; `None` for an upload no request granted. Arriving again
    /// (a confirmation retried) finds the share it joined.
    pub async fn receive_request_upload(
        &self,
        file: &ArrivedFile,
        share_expires_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Option<ShareId>, DbError> {
        let size =
            i64::try_from(file.size).map_err(|_| DbError::InvalidShare("cannot hold a file of 8 EiB or more"))?;
        let now_s = now.unix_timestamp();
        // Most uploads are no request's: a read says so without the writer.
        let granted: Option<String> =
            on_pool!(self, pool => sqlx::query_scalar(REQUEST_OF).bind(&file.upload_key).fetch_optional(pool).await?);
        if granted.is_none() {
            return Ok(None);
        }
        let share: String = on_writer!(self, pool => {
            let mut tx = pool.begin().await?;
            let request: Option<String> =
                sqlx::query_scalar(LOCK_REQUEST_OF).bind(&file.upload_key).fetch_optional(&mut *tx).await?;
            let Some(request) = request else {
                return Ok(None);
            };
            let joined: Option<String> =
                sqlx::query_scalar(SHARE_OF_FILE).bind(&file.key).fetch_optional(&mut *tx).await?;
            if let Some(share) = joined {
                return stored_id(&share).map(Some);
            }
            let live: Option<String> =
                sqlx::query_scalar(LIVE_SHARE_OF).bind(&request).bind(now_s).fetch_optional(&mut *tx).await?;
            let share = match live {
                Some(share) => {
                    sqlx::query(APPEND_FILE)
                        .bind(&share)
                        .bind(&file.key)
                        .bind(&file.filename)
                        .bind(&file.content_type)
                        .bind(size)
                        .execute(&mut *tx)
                        .await?;
                    share
                }
                None => {
                    let share = ShareId::random();
                    sqlx::query(INSERT_SHARE)
                        .bind(share.as_str())
                        .bind(now_s)
                        .bind(share_expires_at.map(OffsetDateTime::unix_timestamp))
                        .bind(None::<i64>)
                        .bind(None::<&str>)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(INSERT_FILE)
                        .bind(share.as_str())
                        .bind(0_i64)
                        .bind(&file.key)
                        .bind(&file.filename)
                        .bind(&file.content_type)
                        .bind(size)
                        .bind(None::<&str>)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(SET_SHARE).bind(&request).bind(share.as_str()).execute(&mut *tx).await?;
                    share.as_str().to_owned()
                }
            };
            sqlx::query(RECEIVED_AT)
                .bind(&file.upload_key)
                .bind(now_s)
                .bind(&file.key)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            share
        });
        stored_id(&share).map(Some)
    }

    /// The upload of `key` was aborted: the room it held comes back.
    pub async fn give_back_request_upload(&self, key: &str) -> Result<(), DbError> {
        on_writer!(self, pool => sqlx::query(GIVE_BACK).bind(key).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Closes request `id` (no upload is granted for it after this; those
    /// granted before may still arrive); the request as it is now.
    pub async fn close_request(&self, id: &str, now: OffsetDateTime) -> Result<Option<FileRequest>, DbError> {
        let id = look_up(id);
        on_writer!(self, pool => sqlx::query(CLOSE).bind(id).bind(now.unix_timestamp()).execute(pool).await?.rows_affected());
        self.file_request(id, now).await
    }
}

fn read_request(row: RequestRow, now: i64) -> Result<FileRequest, DbError> {
    let (
        id,
        created_at,
        expires_at,
        max_files,
        max_bytes,
        closed_at,
        share,
        received,
        received_bytes,
        arriving,
        arriving_bytes,
    ) = row;
    let max_files: u32 = narrow(max_files, "a request's file count")?;
    let files_received: u32 = narrow(received, "a request's files")?;
    let files_arriving: u32 = narrow(arriving, "a request's uploads")?;
    let state = if closed_at.is_some() {
        RequestState::Closed
    } else if expires_at <= now {
        RequestState::Expired
    } else if files_received.saturating_add(files_arriving) >= max_files {
        RequestState::Full
    } else {
        RequestState::Open
    };
    Ok(FileRequest {
        id: stored_id(&id)?,
        state,
        created_at: instant(created_at)?,
        expires_at: instant(expires_at)?,
        max_files,
        max_bytes: narrow(max_bytes, "a request's size")?,
        share: share.map(|share| stored_id(&share)).transpose()?,
        files_received,
        bytes_received: narrow(received_bytes, "a request's bytes")?,
        files_arriving,
        bytes_arriving: narrow(arriving_bytes, "a request's bytes")?,
        received: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::Bytes;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(Bytes(512).to_string(), "512 bytes");
        assert_eq!(Bytes(1536).to_string(), "1.5 KiB");
        assert_eq!(Bytes(5 << 30).to_string(), "5.0 GiB");
    }
}

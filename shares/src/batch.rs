//! Downloads counted on SQLite, a batch to a transaction (group commit).
//! SQLite writes one at a time, and each statement through sqlx costs a
//! round trip to its connection's thread and, alone, a commit of its own:
//! about 160 µs, which held a share's downloads to 3.5k a second. Here one
//! task takes every download waiting (up to [`MOST_AT_ONCE`]) and counts
//! them in one transaction on the writing connection, then answers each.
//!
//! Downloads of one file in a batch (a link many people open at once) are
//! counted by one statement when they all fit under its limit; when they
//! do not, one by one, in the order they came, so the limit stays exact:
//! each `UPDATE` checks the rules against the counts before it. A batch that
//! fails is rolled back whole and each of its downloads is answered with the
//! failure (nothing counted).

use sqlx::sqlite::{SqlitePool, SqliteRow};
use tokio::sync::{mpsc, oneshot};

use crate::error::DbError;
use crate::share::SharedFile;

/// The most downloads one transaction counts.
const MOST_AT_ONCE: usize = 64;

/// Downloads waiting for the batch task, at most; more wait to be queued.
const QUEUE: usize = 1024;

/// Reads the file a counting statement returned.
pub(crate) type ReadFile = fn(&SqliteRow) -> Result<SharedFile, DbError>;

/// What a download waits for: its file (with its count), `None` if it was
/// not counted (a rule refused it).
type Counted = Result<Option<SharedFile>, DbError>;

/// One download to count: its statement, its parameters, and who waits.
struct Take {
    sql: &'static str,
    /// The same statement for `$4` downloads at once, all or none.
    many: &'static str,
    id: String,
    index: i64,
    now: i64,
    reply: oneshot::Sender<Counted>,
}

/// The queue to the batch task. Cheap to clone; the task ends with the last clone.
#[derive(Clone)]
pub(crate) struct TakeBatches {
    queue: mpsc::Sender<Take>,
}

impl TakeBatches {
    /// Starts the batch task on `writer` (the one writing connection).
    pub(crate) fn start(writer: SqlitePool, read: ReadFile) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Take>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MOST_AT_ONCE);
            while incoming.recv_many(&mut batch, MOST_AT_ONCE).await > 0 {
                count(&writer, read, &mut batch).await;
            }
        });
        Self { queue }
    }

    /// Runs `sql` (`$1` id, `$2` file index, `$3` now: a statement that
    /// counts one download) in the next batch; `many` is the same for `$4`
    /// downloads at once, all or none.
    pub(crate) async fn take(&self, sql: &'static str, many: &'static str, id: &str, index: i64, now: i64) -> Counted {
        let (reply, answer) = oneshot::channel();
        let take = Take {
            sql,
            many,
            id: id.to_owned(),
            index,
            now,
            reply,
        };
        let closed = || DbError::Query(sqlx::Error::PoolClosed);
        self.queue.send(take).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// Counts `batch` in one transaction and answers each; empties `batch`.
async fn count(writer: &SqlitePool, read: ReadFile, batch: &mut Vec<Take>) {
    let groups = same_file_groups(batch);
    let counted: Result<Vec<Option<SharedFile>>, DbError> = async {
        let mut answers = vec![None; batch.len()];
        let mut transaction = writer.begin().await.map_err(DbError::Query)?;
        for group in &groups {
            let first = &batch[group[0]];
            // All of them at once, if they all fit under the file's limit.
            if group.len() > 1 {
                let many = i64::try_from(group.len()).unwrap_or(i64::MAX);
                let row = sqlx::query(first.many)
                    .bind(first.id.as_str())
                    .bind(first.index)
                    .bind(first.now)
                    .bind(many)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(DbError::Query)?;
                if let Some(row) = row {
                    let file = read(&row)?;
                    let before = file
                        .downloads
                        .saturating_sub(u32::try_from(group.len()).unwrap_or(u32::MAX));
                    for (n, &at) in group.iter().enumerate() {
                        let mut counted = file.clone();
                        counted.downloads = before.saturating_add(u32::try_from(n + 1).unwrap_or(u32::MAX));
                        answers[at] = Some(counted);
                    }
                    continue;
                }
            }
            // One by one, in the order they came.
            for &at in group {
                let take = &batch[at];
                let row = sqlx::query(take.sql)
                    .bind(take.id.as_str())
                    .bind(take.index)
                    .bind(take.now)
                    .fetch_optional(&mut *transaction)
                    .await
                    .map_err(DbError::Query)?;
                answers[at] = row.as_ref().map(read).transpose()?;
            }
        }
        transaction.commit().await.map_err(DbError::Query)?;
        Ok(answers)
    }
    .await;
    match counted {
        Ok(answers) => {
            for (take, answer) in batch.drain(..).zip(answers) {
                // Whoever stopped waiting has its download counted all the same.
                let _ = take.reply.send(Ok(answer));
            }
        }
        Err(error) => {
            let reason = error.to_string();
            for take in batch.drain(..) {
                let failed = sqlx::Error::Io(std::io::Error::other(reason.clone()));
                let _ = take.reply.send(Err(DbError::Query(failed)));
            }
        }
    }
}

/// The batch's positions, grouped by the statement and file they count, in
/// the order each group first came.
fn same_file_groups(batch: &[Take]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (at, take) in batch.iter().enumerate() {
        let same = |group: &&mut Vec<usize>| {
            let first = &batch[group[0]];
            first.sql == take.sql && first.id == take.id && first.index == take.index && first.now == take.now
        };
        match groups.iter_mut().find(same) {
            Some(group) => group.push(at),
            None => groups.push(vec![at]),
        }
    }
    groups
}

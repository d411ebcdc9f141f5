//! Downloads counted on SQLite, a batch to a transaction (group commit).
//! SQLite writes one at a time, and each statement through sqlx costs a
//! round trip to its connection's thread and, alone, a commit of its own:
//! about 160 µs, which held a share's downloads to 3.5k a second. Here one
//! task takes every download waiting (up to [`MOST_AT_ONCE`]) and runs them
//! in order in one transaction on the writing connection, then answers each.
//! Each `UPDATE` still checks its rules against the counts before it, so the
//! limit stays exact; a batch that fails is rolled back whole and every
//! download in it is answered with the failure (nothing counted).

use sqlx::sqlite::{SqlitePool, SqliteRow};
use tokio::sync::{mpsc, oneshot};

/// The most downloads one transaction counts.
const MOST_AT_ONCE: usize = 64;

/// Downloads waiting for the batch task, at most; more wait to be queued.
const QUEUE: usize = 1024;

/// One download to count: its statement, its parameters, and who waits.
struct Take {
    sql: &'static str,
    id: String,
    index: i64,
    now: i64,
    reply: oneshot::Sender<Result<Option<SqliteRow>, sqlx::Error>>,
}

/// The queue to the batch task. Cheap to clone; the task ends with the last clone.
#[derive(Clone)]
pub(crate) struct TakeBatches {
    queue: mpsc::Sender<Take>,
}

impl TakeBatches {
    /// Starts the batch task on `writer` (the one writing connection).
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Take>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MOST_AT_ONCE);
            while incoming.recv_many(&mut batch, MOST_AT_ONCE).await > 0 {
                count(&writer, &mut batch).await;
            }
        });
        Self { queue }
    }

    /// Runs `sql` (`$1` id, `$2` file index, `$3` now) in the next batch:
    /// the row it returned, if it updated one.
    pub(crate) async fn take(
        &self,
        sql: &'static str,
        id: &str,
        index: i64,
        now: i64,
    ) -> Result<Option<SqliteRow>, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        let take = Take {
            sql,
            id: id.to_owned(),
            index,
            now,
            reply,
        };
        self.queue.send(take).await.map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

/// Counts `batch` in one transaction and answers each; empties `batch`.
async fn count(writer: &SqlitePool, batch: &mut Vec<Take>) {
    let counted = async {
        let mut transaction = writer.begin().await?;
        let mut rows = Vec::with_capacity(batch.len());
        for take in batch.iter() {
            let row = sqlx::query(take.sql)
                .bind(take.id.as_str())
                .bind(take.index)
                .bind(take.now)
                .fetch_optional(&mut *transaction)
                .await?;
            rows.push(row);
        }
        transaction.commit().await?;
        Ok::<_, sqlx::Error>(rows)
    }
    .await;
    match counted {
        Ok(rows) => {
            for (take, row) in batch.drain(..).zip(rows) {
                // Whoever stopped waiting has its download counted all the same.
                let _ = take.reply.send(Ok(row));
            }
        }
        Err(error) => {
            let reason = error.to_string();
            for take in batch.drain(..) {
                let _ = take
                    .reply
                    .send(Err(sqlx::Error::Io(std::io::Error::other(reason.clone()))));
            }
        }
    }
}

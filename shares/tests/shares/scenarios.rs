//! What the share database must do, each written once and run on both
//! backends. Times are whole seconds: the database keeps no less.

use std::os::unix::fs::PermissionsExt as _;

use courier_shares::{
    DatabaseConfig, DbError, RuleChange, Share, ShareDb, ShareId, ShareRefusal, ShareState, SharedFile, SweptShare,
};
use sqlx::{AssertSqlSafe, Connection as _, SqliteConnection};
use time::Duration;

use crate::backend::{NamedBackend, on_raw_connection};
use crate::support::{HASH, created, downloads, new_share, read, refusal, t0, take, view};

pub async fn round_trip_with_several_files(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let mut limited_share = new_share(3, Some(2), Some(Duration::hours(1)));
    // An encrypted file keeps its seal (FORMAT.md), a plain one none.
    limited_share.files[2].seal = Some("eyJ2IjoxLCJhdXRoIjoiQUFBQSJ9".into());
    let limited = created(&db, limited_share.clone()).await;
    let open = created(&db, new_share(1, None, None)).await;
    assert_ne!(limited, open);

    let share = read(&db, &limited, t0()).await;
    let expected_files: Vec<SharedFile> = limited_share
        .files
        .into_iter()
        .enumerate()
        .map(|(n, new)| SharedFile {
            index: n,
            key: new.key,
            filename: new.filename,
            content_type: new.content_type,
            size: new.size,
            downloads: 0,
            last_download_at: None,
            seal: new.seal,
        })
        .collect();
    let expected = Share {
        id: limited.clone(),
        files: expected_files,
        expires_at: Some(t0() + Duration::hours(1)),
        max_downloads: Some(2),
        password_hash: None,
        created_at: t0(),
    };
    assert_eq!(share, expected);
    assert_eq!(share.downloads_left(1), Some(2));

    // A download counted says when.
    let later = t0() + Duration::seconds(30);
    let taken = take(&db, &limited, 1, later).await;
    assert_eq!(
        (taken.index, taken.downloads, taken.key.as_str(), taken.last_download_at),
        (1, 1, expected.files[1].key.as_str(), Some(later))
    );
    let share = read(&db, &limited, later).await;
    assert_eq!(share.files.iter().map(|f| f.downloads).collect::<Vec<_>>(), [0, 1, 0]);
    assert_eq!(
        share.files.iter().map(|f| f.last_download_at).collect::<Vec<_>>(),
        [None, Some(later), None]
    );
    assert_eq!(share.downloads_left(1), Some(1));

    let share = read(&db, &open, t0() + Duration::days(3650)).await;
    assert_eq!(
        (share.files.len(), share.expires_at, share.max_downloads),
        (1, None, None)
    );
    assert_eq!(share.downloads_left(0), None);
}

pub async fn expired_share_is_refused(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(2, None, Some(Duration::minutes(1)))).await;
    let last_second = t0() + Duration::seconds(59);
    let expiry = t0() + Duration::minutes(1);

    assert_eq!(read(&db, &id, last_second).await.files.len(), 2);
    assert_eq!(take(&db, &id, 0, last_second).await.downloads, 1);
    assert_eq!(refusal(db.share(id.as_str(), expiry).await), "Expired");
    assert_eq!(refusal(db.take_download(id.as_str(), 1, expiry).await), "Expired");
    assert_eq!(
        refusal(db.take_download(id.as_str(), 0, expiry + Duration::days(1)).await),
        "Expired"
    );
    // Nothing was counted by the refusals.
    assert_eq!(
        read(&db, &id, last_second)
            .await
            .files
            .iter()
            .map(|f| f.downloads)
            .sum::<u32>(),
        1
    );
}

pub async fn revoked_share_is_refused(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(2, Some(3), Some(Duration::hours(1)))).await;
    let other = created(&db, new_share(1, Some(3), None)).await;
    take(&db, &id, 0, t0()).await;

    assert_eq!(refusal(db.revoke(id.as_str(), t0() + Duration::seconds(5)).await), "Ok");
    assert_eq!(refusal(db.share(id.as_str(), t0()).await), "Revoked");
    assert_eq!(refusal(db.take_download(id.as_str(), 1, t0()).await), "Revoked");
    // Revoking again changes nothing; revoked outranks expired: the sender's act is what happened.
    assert_eq!(refusal(db.revoke(id.as_str(), t0() + Duration::hours(2)).await), "Ok");
    assert_eq!(
        refusal(db.share(id.as_str(), t0() + Duration::hours(2)).await),
        "Revoked"
    );
    // Other shares are untouched.
    assert_eq!(take(&db, &other, 0, t0()).await.downloads, 1);
}

pub async fn limit_is_per_file(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(2, Some(2), None)).await;

    assert_eq!(take(&db, &id, 0, t0()).await.downloads, 1);
    assert_eq!(take(&db, &id, 0, t0()).await.downloads, 2);
    assert_eq!(refusal(db.take_download(id.as_str(), 0, t0()).await), "LimitReached");
    // The other file has its own two; the share is usable while it does.
    let share = read(&db, &id, t0()).await;
    assert_eq!((share.downloads_left(0), share.downloads_left(1)), (Some(0), Some(2)));
    assert_eq!(take(&db, &id, 1, t0()).await.downloads, 1);
    assert_eq!(take(&db, &id, 1, t0()).await.downloads, 2);
    assert_eq!(refusal(db.take_download(id.as_str(), 1, t0()).await), "LimitReached");
    assert_eq!(refusal(db.share(id.as_str(), t0()).await), "LimitReached");
    // A file the share does not have.
    assert_eq!(refusal(db.take_download(id.as_str(), 2, t0()).await), "NotFound");
    assert_eq!(
        refusal(db.take_download(id.as_str(), usize::MAX, t0()).await),
        "NotFound"
    );

    let unlimited = created(&db, new_share(1, None, None)).await;
    for n in 1..=20 {
        assert_eq!(take(&db, &unlimited, 0, t0()).await.downloads, n);
    }
}

/// 200 requests at once for a file limited to 5: exactly 5 are counted.
async fn race(dbs: &[ShareDb], id: &ShareId) -> (usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200 {
        let db = dbs[n % dbs.len()].clone();
        let id = id.to_string();
        tasks.spawn(async move { refusal(db.take_download(&id, 0, t0()).await) });
    }
    let (mut taken, mut refused) = (0, 0);
    while let Some(answer) = tasks.join_next().await {
        match answer.expect("a task") {
            "Ok" => taken += 1,
            "LimitReached" => refused += 1,
            other => panic!("a download was answered {other}"),
        }
    }
    (taken, refused)
}

pub async fn concurrent_downloads_stop_at_the_limit(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(2, Some(5), Some(Duration::hours(1)))).await;
    assert_eq!(race(std::slice::from_ref(&db), &id).await, (5, 195));
    assert_eq!(raced_downloads(&db, &id).await, 5);
}

/// Two Courier instances on one database: two pools, opened (and migrated) at once.
pub async fn two_instances_share_one_limit(backend: NamedBackend) {
    let database = backend.fresh().await;
    let (first, second) = if backend.is_postgres() {
        tokio::join!(database.open(), database.open())
    } else {
        // SQLite is one instance's database; a second pool on the file is
        // still a second writer, opened after the first migrated it.
        let first = database.open().await;
        (first, database.open().await)
    };
    let id = created(&first, new_share(2, Some(5), None)).await;
    assert_eq!(race(&[first.clone(), second.clone()], &id).await, (5, 195));
    assert_eq!(raced_downloads(&second, &id).await, 5);
}

/// The raced file's downloads: the share's second file keeps it readable.
async fn raced_downloads(db: &ShareDb, id: &ShareId) -> u32 {
    read(db, id, t0()).await.files[0].downloads
}

pub async fn unknown_and_malformed_ids_are_not_found(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    created(&db, new_share(1, None, None)).await;
    let unknown = ShareId::random().to_string();
    for id in [
        unknown.as_str(),
        "",
        "short",
        "not base64 at all!!!!!",
        "' OR 1=1; --aaaaaaaaaaa",
        "%00aaaaaaaaaaaaaaaaaaa",
    ] {
        assert_eq!(refusal(db.share(id, t0()).await), "NotFound", "{id:?}");
        assert_eq!(refusal(db.take_download(id, 0, t0()).await), "NotFound", "{id:?}");
        assert_eq!(refusal(db.revoke(id, t0()).await), "NotFound", "{id:?}");
        assert_eq!(refusal(db.owner_view(id, t0()).await), "NotFound", "{id:?}");
        let change = RuleChange {
            max_downloads: Some(Some(3)),
            ..RuleChange::default()
        };
        assert_eq!(refusal(db.set_rules(id, change, t0()).await), "NotFound", "{id:?}");
    }
}

/// A malformed id is looked up as an unknown one is (so neither answers
/// faster): with the database closed, both find it unavailable.
pub async fn malformed_ids_cost_a_query_as_unknown_ones_do(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    created(&db, new_share(1, None, None)).await;
    db.close().await;
    let unknown = ShareId::random().to_string();
    for id in [
        unknown.as_str(),
        "",
        "short",
        "' OR 1=1; --aaaaaaaaaaa",
        "~~~~~~~~~~~~~~~~~~~~~~",
    ] {
        assert_eq!(refusal(db.share(id, t0()).await), "Unavailable", "{id:?}");
        assert_eq!(refusal(db.take_download(id, 0, t0()).await), "Unavailable", "{id:?}");
        assert_eq!(
            refusal(db.take_download(id, usize::MAX, t0()).await),
            "Unavailable",
            "{id:?}"
        );
        assert_eq!(refusal(db.revoke(id, t0()).await), "Unavailable", "{id:?}");
        assert_eq!(refusal(db.owner_view(id, t0()).await), "Unavailable", "{id:?}");
        let change = RuleChange::default();
        assert_eq!(refusal(db.set_rules(id, change, t0()).await), "Unavailable", "{id:?}");
    }
}

/// A password is kept as the hash the caller made, handed back for the
/// route to check, and told to the sender only as set or not.
pub async fn a_password_is_kept_as_its_hash(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let mut with_password = new_share(1, None, None);
    with_password.password_hash = Some(HASH.into());
    let id = created(&db, with_password.clone()).await;
    let share = read(&db, &id, t0()).await;
    assert_eq!(share.password_hash.as_deref(), Some(HASH));
    assert!(!format!("{share:?}").contains(HASH) && !format!("{with_password:?}").contains(HASH));
    assert!(view(&db, &id, t0()).await.has_password);
    let without = created(&db, new_share(1, None, None)).await;
    assert_eq!(read(&db, &without, t0()).await.password_hash, None);
    assert!(!view(&db, &without, t0()).await.has_password);

    // A password where its hash belongs is refused, by the crate and by the schema.
    let mut plain = new_share(1, None, None);
    plain.password_hash = Some("hunter2".into());
    let refused = db.create(plain).await;
    assert!(matches!(refused, Err(DbError::InvalidShare(_))), "{refused:?}");
    let error = refused.err().map(|error| error.to_string()).unwrap_or_default();
    assert!(!error.contains("hunter2"), "{error}");
    let stored = format!("UPDATE shares SET password_hash = 'hunter2' WHERE id = '{id}'");
    let schema = on_raw_connection!(database, connection => {
        sqlx::query(AssertSqlSafe(stored)).execute(&mut connection).await.map(drop)
    });
    assert!(schema.is_err(), "the schema took a password as its hash");
}

/// A download counted but not served (its URL could not be signed) is
/// given back: the file has it again, and never fewer than none.
pub async fn a_download_given_back_is_not_counted(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(2, Some(1), None)).await;
    take(&db, &id, 0, t0()).await;
    assert_eq!(refusal(db.take_download(id.as_str(), 0, t0()).await), "LimitReached");
    db.give_back_download(&id, 0).await.expect("given back");
    assert_eq!(downloads(&db, &id).await, [0, 0]);
    assert_eq!(take(&db, &id, 0, t0()).await.downloads, 1);
    // Never below none, and nothing for a file or a share that is not there.
    db.give_back_download(&id, 1).await.expect("given back");
    db.give_back_download(&id, 1).await.expect("given back");
    db.give_back_download(&id, usize::MAX).await.expect("given back");
    db.give_back_download(&ShareId::random(), 0).await.expect("given back");
    assert_eq!(downloads(&db, &id).await, [1, 0]);
    take(&db, &id, 1, t0()).await;
    assert_eq!(downloads(&db, &id).await, [1, 1]);

    // Once swept, its count is what ended the share: it stays.
    let late = t0() + Duration::hours(1);
    let swept = db
        .claim_sweep(late, std::time::Duration::ZERO, 10)
        .await
        .expect("a sweep");
    assert_eq!(swept.iter().map(|share| &share.id).collect::<Vec<_>>(), [&id]);
    db.give_back_download(&id, 0).await.expect("given back");
    assert_eq!(downloads(&db, &id).await, [1, 1]);
    assert_eq!(refusal(db.share(id.as_str(), late).await), "LimitReached");
}

/// Shares made before migration 0003 are kept through it: no password, no
/// time of their last download, not swept; and a used-up one among them is
/// swept as if last downloaded when it was made.
pub async fn an_upgrade_to_0003_keeps_every_share(backend: NamedBackend) {
    let database = backend.fresh().await;
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(database.config.backend());
    let migrator = sqlx::migrate::Migrator::new(migrations).await.expect("the migrations");
    let (used_up, live) = (ShareId::random(), ShareId::random());
    let setup = format!(
        "INSERT INTO shares (id, created_at, max_downloads) VALUES ('{used_up}', {t0}, 1), ('{live}', {t0}, NULL); \
         INSERT INTO share_files (share_id, file_index, object_key, filename, content_type, size, downloads) VALUES \
         ('{used_up}', 0, 'old/a', 'a.txt', 'text/plain', 1, 1), ('{live}', 0, 'old/b', 'b.txt', 'text/plain', 1, 7)",
        t0 = t0().unix_timestamp()
    );
    on_raw_connection!(database, connection => {
        // `run_to` on a connection trips over sqlx's `Acquire` bounds in an
        // async block; `run_direct` is the same, and public for this reason.
        migrator.run_direct(Some(2), &mut connection, false).await.expect("0001 and 0002");
        sqlx::raw_sql(AssertSqlSafe(setup)).execute(&mut connection).await.expect("shares made before 0003");
    });

    let db = database.open().await;
    assert!(db.status().await.expect("a status").is_current());
    let record = view(&db, &live, t0()).await;
    assert_eq!(
        (
            record.state,
            record.has_password,
            record.swept_at,
            record.files[0].downloads
        ),
        (ShareState::Live, false, None, 7)
    );
    assert_eq!(record.files[0].last_download_at, None);
    assert_eq!(view(&db, &used_up, t0()).await.state, ShareState::LimitReached);
    let grace = std::time::Duration::from_secs(60);
    let early = db.claim_sweep(t0() + Duration::seconds(59), grace, 10).await;
    assert_eq!(early.expect("a sweep"), []);
    let swept = db.claim_sweep(t0() + Duration::seconds(60), grace, 10).await;
    let swept = swept.expect("a sweep");
    assert_eq!(
        swept,
        [SweptShare {
            id: used_up,
            keys: vec!["old/a".into()]
        }]
    );
}

pub async fn status_counts_migrations_and_reopening_applies_nothing_twice(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let status = db.status().await.expect("a status");
    assert_eq!(status.backend, database.config.backend());
    assert!(status.known >= 1 && status.is_current(), "{status:?}");
    let id = created(&db, new_share(1, Some(3), None)).await;
    take(&db, &id, 0, t0()).await;
    db.close().await;

    let reopened = database.open().await;
    assert_eq!(reopened.status().await.expect("a status"), status);
    assert_eq!(read(&reopened, &id, t0()).await.files[0].downloads, 1);
}

pub async fn invalid_shares_are_refused(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let no_files = db.create(new_share(0, None, None)).await;
    assert!(matches!(no_files, Err(DbError::InvalidShare(_))), "{no_files:?}");
    let no_downloads = db.create(new_share(1, Some(0), None)).await;
    assert!(
        matches!(no_downloads, Err(DbError::InvalidShare(_))),
        "{no_downloads:?}"
    );
    let mut huge = new_share(2, None, None);
    huge.files[1].size = u64::MAX;
    assert!(matches!(db.create(huge).await, Err(DbError::InvalidShare(_))));
    let mut plain = new_share(1, None, None);
    plain.password_hash = Some("$argon2i$v=19$m=16,t=2,p=1$c2FsdA$aGFzaA".into());
    assert!(matches!(db.create(plain).await, Err(DbError::InvalidShare(_))));
}

pub async fn closed_database_is_unavailable(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(1, Some(1), None)).await;
    db.close().await;
    let answer = db.take_download(id.as_str(), 0, t0()).await;
    let Err(unavailable @ ShareRefusal::Unavailable(_)) = answer else {
        panic!("a closed database answered {}", refusal(answer));
    };
    assert!(unavailable.to_string().contains("Nothing was lost"), "{unavailable}");
    assert!(matches!(
        db.create(new_share(1, None, None)).await,
        Err(DbError::Query(_))
    ));
}

pub async fn sqlite_file_is_private_and_in_wal_mode() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("not-yet-made");
    let config = DatabaseConfig::from_setting(None, &data_dir).expect("the default configuration");
    let db = ShareDb::open(&config).await.expect("open");
    let path = data_dir.join("shares.db");
    let mode = std::fs::metadata(&path)
        .expect("the database file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    let mut connection = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("a connection");
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut connection)
        .await
        .expect("journal mode");
    assert_eq!(journal, "wal");
    drop(connection.close().await);
    db.close().await;
}

pub async fn unreachable_postgres_hides_the_password() {
    let config = DatabaseConfig::from_setting(
        Some("postgres://courier:hunter2@127.0.0.1:1/courier"),
        std::path::Path::new("/"),
    )
    .expect("a PostgreSQL configuration");
    let error = ShareDb::open(&config).await.err().expect("port 1 has no PostgreSQL");
    let message = error.to_string();
    assert!(
        message.contains("PostgreSQL at courier@127.0.0.1:1/courier"),
        "{message}"
    );
    assert!(
        !message.contains("hunter2") && !format!("{error:?}").contains("hunter2"),
        "{message}"
    );
}

/// An upload confirmed again, or twice at once, keeps the one share it got;
/// a new share cannot take a file another share holds.
pub async fn an_upload_confirmed_again_keeps_its_share(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let share = new_share(1, Some(2), None);
    let key = share.files[0].key.clone();
    assert_eq!(db.share_of_file(&key).await.expect("a look"), None);
    let first = db.create_once(share.clone()).await.expect("created");
    assert_eq!(db.create_once(share.clone()).await.expect("found"), first);
    assert_eq!(db.share_of_file(&key).await.expect("a look"), Some(first.clone()));
    match db.create(share.clone()).await {
        Err(DbError::FileShared { key: shared }) => assert_eq!(shared, key),
        other => panic!("a second share of one file: {other:?}"),
    }
    // Twenty confirmations of another upload at once: one share.
    let other = new_share(1, None, None);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (db, other) = (db.clone(), other.clone());
        tasks.spawn(async move { db.create_once(other).await });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(joined) = tasks.join_next().await {
        ids.insert(joined.expect("a task").expect("a share"));
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = ids.into_iter().next().expect("one id");
    assert_eq!(read(&db, &id, t0()).await.files.len(), 1);
    assert_ne!(id, first);
}

/// A download that comes without the password counts only where none is
/// asked; where one is, it counts nothing and says so, after the share's own
/// refusals (a share over says why first).
pub async fn a_download_without_the_password_counts_only_where_none_is_asked(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let open = created(&db, new_share(1, Some(2), None)).await;
    let taken = db.take_open_download(open.as_str(), 0, t0()).await.expect("counted");
    assert_eq!(taken.downloads, 1);
    let mut locked = new_share(1, Some(2), None);
    locked.password_hash = Some(HASH.into());
    let locked = created(&db, locked).await;
    assert_eq!(
        refusal(db.take_open_download(locked.as_str(), 0, t0()).await),
        "PasswordNeeded"
    );
    assert_eq!(downloads(&db, &locked).await, [0]);
    assert_eq!(
        take(&db, &locked, 0, t0()).await.downloads,
        1,
        "with the password given"
    );
    db.revoke(locked.as_str(), t0()).await.expect("revoked");
    assert_eq!(
        refusal(db.take_open_download(locked.as_str(), 0, t0()).await),
        "Revoked"
    );
    assert_eq!(refusal(db.take_open_download("not-an-id", 0, t0()).await), "NotFound");
}

/// Many downloads at once on SQLite go a batch to a transaction, those of
/// one file by one statement when they fit under its limit: each is
/// answered with its own count, the limit holds, and none is lost.
pub async fn downloads_counted_in_batches_are_each_answered(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let limited = created(&db, new_share(1, Some(150), None)).await;
    let unlimited = created(&db, new_share(1, None, None)).await;
    let attempts = (0..400).map(|n| {
        let db = db.clone();
        let id = if n % 2 == 0 { limited.clone() } else { unlimited.clone() };
        async move {
            db.take_open_download(id.as_str(), 0, t0())
                .await
                .ok()
                .map(|file| file.downloads)
        }
    });
    let answers = futures_join_all(attempts).await;
    let counts = |parity: usize| {
        let mut counts: Vec<u32> = answers
            .iter()
            .enumerate()
            .filter(|(n, _)| n % 2 == parity)
            .filter_map(|(_, count)| *count)
            .collect();
        counts.sort_unstable();
        counts
    };
    // Each download counted has its own number: 1, 2, 3…
    assert_eq!(counts(0), (1..=150).collect::<Vec<_>>(), "the limited file");
    assert_eq!(counts(1), (1..=200).collect::<Vec<_>>(), "the unlimited file");
    assert_eq!(downloads(&db, &limited).await, [150]);
    assert_eq!(downloads(&db, &unlimited).await, [200]);
    assert_eq!(
        refusal(db.take_open_download(limited.as_str(), 0, t0()).await),
        "LimitReached"
    );
}

/// Runs every future at once on the test's runtime.
async fn futures_join_all<T: Send + 'static, F: std::future::Future<Output = T> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<T> {
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("the task ran"));
    }
    answers
}

/// A file its owner deleted leaves its share; the others keep their numbers
/// and their downloads; the last one out takes the share back.
pub async fn a_deleted_file_leaves_its_share_and_the_last_takes_it_back(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(3, Some(2), None)).await;
    let keys: Vec<String> = read(&db, &id, t0())
        .await
        .files
        .iter()
        .map(|file| file.key.clone())
        .collect();
    db.remove_file(&keys[1], t0()).await.expect("removed");
    let share = read(&db, &id, t0()).await;
    assert_eq!(share.files.iter().map(|file| file.index).collect::<Vec<_>>(), [0, 2]);
    assert_eq!(share.downloads_left(2), Some(2));
    assert_eq!(refusal(db.take_download(id.as_str(), 1, t0()).await), "NotFound");
    assert_eq!(take(&db, &id, 2, t0()).await.downloads, 1);
    db.remove_file(&keys[0], t0()).await.expect("removed");
    db.remove_file(&keys[2], t0()).await.expect("removed");
    assert_eq!(refusal(db.share(id.as_str(), t0()).await), "Revoked");
    // An object in no share: nothing to do.
    db.remove_file("files/none/x", t0()).await.expect("nothing");
}

pub async fn an_encrypted_file_is_downloaded_only_with_its_key_proved(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let mut new = new_share(2, Some(1), None);
    new.files[0].seal = Some("eyJ2IjoxfQ".into());
    let id = created(&db, new).await;
    let now = t0();
    // The plain routes never count an encrypted file: its downloads go
    // through a proof of its key.
    assert_eq!(refusal(db.take_open_download(id.as_str(), 0, now).await), "Sealed");
    assert_eq!(refusal(db.take_download(id.as_str(), 0, now).await), "Sealed");
    // And the proved route never counts a plain one.
    assert_eq!(refusal(db.take_sealed_download(id.as_str(), 1, now).await), "NotFound");
    assert_eq!(downloads(&db, &id).await, [0, 0]);

    let taken = db.take_sealed_download(id.as_str(), 0, now).await.expect("counted");
    assert_eq!(
        (taken.index, taken.downloads, taken.seal.as_deref()),
        (0, 1, Some("eyJ2IjoxfQ"))
    );
    assert_eq!(
        refusal(db.take_sealed_download(id.as_str(), 0, now).await),
        "LimitReached"
    );
    assert_eq!(refusal(db.take_sealed_download(id.as_str(), 7, now).await), "NotFound");
}

pub async fn api_tokens_are_kept_by_hash_one_live_name_at_a_time(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let (first, second) = ("a".repeat(64), "b".repeat(64));
    let id = db.create_api_token("ci-backups", &first, t0()).await.expect("made");
    assert_eq!(db.api_token(&first).await.expect("read"), Some(id));
    assert_eq!(db.api_token(&second).await.expect("read"), None);
    // One live token per name; a name others cannot type is refused.
    assert!(matches!(
        db.create_api_token("ci-backups", &second, t0()).await,
        Err(courier_shares::TokenRefusal::NameTaken(_))
    ));
    assert!(matches!(
        db.create_api_token("two words", &second, t0()).await,
        Err(courier_shares::TokenRefusal::BadName)
    ));
    // Revoked: it no longer opens, its name is free, and the list keeps it.
    assert!(db.revoke_api_token("ci-backups", t0()).await.expect("revoked"));
    assert!(!db.revoke_api_token("ci-backups", t0()).await.expect("none live"));
    assert_eq!(db.api_token(&first).await.expect("read"), None);
    let again = db
        .create_api_token("ci-backups", &second, t0())
        .await
        .expect("made again");
    assert_ne!(again, id);
    assert_eq!(db.api_token(&second).await.expect("read"), Some(again));
    let listed = db.api_tokens().await.expect("listed");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].name, "ci-backups");
    assert_eq!(listed[0].revoked_at, Some(t0()));
    assert_eq!(listed[1].revoked_at, None);
    // The same hash twice is refused by the database itself.
    assert!(db.create_api_token("another", &second, t0()).await.is_err());
}

//! The sender's side: a share as its sender sees it, in any state, alone or
//! in a list, and its rules changed, never reviving a share taken back or
//! deleted.

use std::collections::HashSet;

use courier_shares::{DbError, PasswordChange, RuleChange, ShareId, ShareRefusal, ShareState};
use sqlx::AssertSqlSafe;
use time::Duration;

use crate::backend::{NamedBackend, on_raw_connection};
use crate::support::{HASH, created, new_share, refusal, t0, take, view};

const GRACE: std::time::Duration = std::time::Duration::from_secs(120);

/// Live, expired, revoked, used up and swept: each read by its sender, with
/// its rules and the state the link would show.
pub async fn owner_view_shows_a_share_in_every_state(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let mut live_share = new_share(2, Some(2), Some(Duration::hours(1)));
    live_share.password_hash = Some(HASH.into());
    let live = created(&db, live_share).await;
    let expired = created(&db, new_share(1, None, Some(Duration::minutes(1)))).await;
    let revoked = created(&db, new_share(1, None, None)).await;
    let used_up = created(&db, new_share(2, Some(1), None)).await;
    let first_used = t0() + Duration::seconds(5);
    take(&db, &live, 1, first_used).await;
    take(&db, &used_up, 0, first_used).await;
    take(&db, &used_up, 1, first_used + Duration::seconds(1)).await;
    db.revoke(revoked.as_str(), t0() + Duration::seconds(10))
        .await
        .expect("revoked");

    let now = t0() + Duration::minutes(2);
    let record = view(&db, &live, now).await;
    assert_eq!(
        (record.id.clone(), record.state, record.has_password, record.created_at),
        (live.clone(), ShareState::Live, true, t0())
    );
    assert_eq!(
        (
            record.expires_at,
            record.max_downloads,
            record.revoked_at,
            record.swept_at
        ),
        (Some(t0() + Duration::hours(1)), Some(2), None, None)
    );
    assert_eq!(
        record
            .files
            .iter()
            .map(|file| (file.index, file.downloads, file.last_download_at))
            .collect::<Vec<_>>(),
        [(0, 0, None), (1, 1, Some(first_used))]
    );
    assert!(!format!("{record:?}").contains("argon2"));
    assert_eq!(view(&db, &expired, now).await.state, ShareState::Expired);
    let record = view(&db, &revoked, now).await;
    assert_eq!(
        (record.state, record.revoked_at),
        (ShareState::Revoked, Some(t0() + Duration::seconds(10)))
    );
    assert_eq!(view(&db, &used_up, now).await.state, ShareState::LimitReached);
    // Revoked outranks expired, as the link's refusal does.
    db.revoke(expired.as_str(), now).await.expect("revoked");
    assert_eq!(view(&db, &expired, now).await.state, ShareState::Revoked);

    // Swept, each keeps its state; the sweep's time is shown.
    let later = now + Duration::hours(2);
    let swept = db.claim_sweep(later, GRACE, 10).await.expect("a sweep");
    assert_eq!(swept.len(), 4, "{swept:?}");
    for (id, state) in [
        (&live, ShareState::Expired),
        (&expired, ShareState::Revoked),
        (&revoked, ShareState::Revoked),
        (&used_up, ShareState::LimitReached),
    ] {
        let record = view(&db, id, later).await;
        assert_eq!((record.state, record.swept_at), (state, Some(later)), "{id}");
    }
    assert_eq!(
        refusal(db.owner_view(ShareId::random().as_str(), now).await),
        "NotFound"
    );
}

/// The sender's recent list: the shares found, in the order asked, each
/// once; at most 100 asked at once.
pub async fn owner_views_reads_a_list_in_its_order(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let mut ids = Vec::new();
    for files in 1..=5 {
        ids.push(created(&db, new_share(files, None, None)).await);
    }
    db.revoke(ids[2].as_str(), t0()).await.expect("revoked");
    let unknown = ShareId::random();
    let asked = [&ids[2], &unknown, &ids[0], &ids[2], &ids[4]].map(Clone::clone);
    let records = db.owner_views(&asked, t0()).await.expect("a list");
    assert_eq!(
        records
            .iter()
            .map(|record| (record.id.clone(), record.files.len(), record.state))
            .collect::<Vec<_>>(),
        [
            (ids[2].clone(), 3, ShareState::Revoked),
            (ids[0].clone(), 1, ShareState::Live),
            (ids[4].clone(), 5, ShareState::Live)
        ]
    );
    // Each the same as the sender's view of it alone.
    for record in &records {
        assert_eq!(record, &view(&db, &record.id, t0()).await);
    }
    assert_eq!(db.owner_views(&[], t0()).await.expect("a list"), []);

    // A full list: the five among 95 unknown.
    let mut full: Vec<ShareId> = (0..95).map(|_| ShareId::random()).collect();
    full.extend(ids.iter().rev().cloned());
    let records = db.owner_views(&full, t0()).await.expect("a list");
    let found: Vec<ShareId> = records.into_iter().map(|record| record.id).collect();
    assert_eq!(found, ids.iter().rev().cloned().collect::<Vec<_>>());
    full.push(ShareId::random());
    let too_many = db.owner_views(&full, t0()).await;
    assert!(
        matches!(too_many, Err(DbError::TooManyShares { asked: 101, most: 100 })),
        "{too_many:?}"
    );
}

/// Each rule kept, cleared or set as asked; the share returned as it is now.
pub async fn set_rules_changes_what_was_asked(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = created(&db, new_share(2, Some(3), Some(Duration::hours(1)))).await;
    take(&db, &id, 0, t0()).await;
    take(&db, &id, 0, t0()).await;

    // Nothing asked: nothing changes.
    let unchanged = db.set_rules(id.as_str(), RuleChange::default(), t0()).await;
    assert_eq!(unchanged.expect("no change"), view(&db, &id, t0()).await);

    let change = RuleChange {
        expires_at: Some(Some(t0() + Duration::days(7))),
        max_downloads: None,
        password: PasswordChange::Set(HASH.into()),
    };
    let record = db.set_rules(id.as_str(), change, t0()).await.expect("changed");
    assert_eq!(
        (record.expires_at, record.max_downloads, record.has_password),
        (Some(t0() + Duration::days(7)), Some(3), true)
    );
    let share = db.share(id.as_str(), t0()).await.expect("live");
    assert_eq!(share.password_hash.as_deref(), Some(HASH));

    let change = RuleChange {
        expires_at: Some(None),
        max_downloads: Some(None),
        password: PasswordChange::Keep,
    };
    let record = db.set_rules(id.as_str(), change, t0()).await.expect("changed");
    assert_eq!(
        (record.expires_at, record.max_downloads, record.has_password),
        (None, None, true)
    );

    // A limit below the downloads so far: that file is used up, the other not yet.
    let change = RuleChange {
        max_downloads: Some(Some(1)),
        password: PasswordChange::Remove,
        ..RuleChange::default()
    };
    let record = db.set_rules(id.as_str(), change, t0()).await.expect("changed");
    assert_eq!(
        (record.max_downloads, record.has_password, record.state),
        (Some(1), false, ShareState::Live)
    );
    assert_eq!(refusal(db.take_download(id.as_str(), 0, t0()).await), "LimitReached");
    take(&db, &id, 1, t0()).await;
    assert_eq!(view(&db, &id, t0()).await.state, ShareState::LimitReached);
    // Raised again, it is live again: nothing was swept.
    let change = RuleChange {
        max_downloads: Some(Some(5)),
        ..RuleChange::default()
    };
    let record = db.set_rules(id.as_str(), change, t0()).await.expect("changed");
    assert_eq!(record.state, ShareState::Live);

    // No download at all, and a password where its hash belongs, are refused; nothing changes.
    let before = view(&db, &id, t0()).await;
    for change in [
        RuleChange {
            max_downloads: Some(Some(0)),
            ..RuleChange::default()
        },
        RuleChange {
            expires_at: Some(None),
            password: PasswordChange::Set("hunter2".into()),
            ..RuleChange::default()
        },
    ] {
        let refused = db.set_rules(id.as_str(), change, t0()).await;
        let Err(ShareRefusal::Invalid(why)) = &refused else {
            panic!("an invalid change answered {}", refusal(refused));
        };
        let sentence = ShareRefusal::Invalid(why).to_string();
        assert!(sentence.starts_with("This share cannot be changed") && !sentence.contains("hunter2"));
    }
    assert_eq!(view(&db, &id, t0()).await, before);
}

/// An expired share whose objects are still there may be extended; a
/// revoked one, or a swept one, cannot be revived.
pub async fn set_rules_never_revives_a_share_taken_back_or_deleted(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let extend = RuleChange {
        expires_at: Some(Some(t0() + Duration::days(1))),
        ..RuleChange::default()
    };
    let expired = created(&db, new_share(1, None, Some(Duration::minutes(1)))).await;
    let now = t0() + Duration::minutes(2);
    assert_eq!(refusal(db.share(expired.as_str(), now).await), "Expired");
    let record = db
        .set_rules(expired.as_str(), extend.clone(), now)
        .await
        .expect("extended");
    assert_eq!(record.state, ShareState::Live);
    db.share(expired.as_str(), now).await.expect("live again");

    let revoked = created(&db, new_share(1, None, None)).await;
    db.revoke(revoked.as_str(), t0()).await.expect("revoked");
    assert_eq!(
        refusal(db.set_rules(revoked.as_str(), extend.clone(), now).await),
        "Revoked"
    );

    let swept = created(&db, new_share(1, None, Some(Duration::minutes(1)))).await;
    let claimed = db.claim_sweep(now + GRACE, GRACE, 10).await.expect("a sweep");
    let claimed: HashSet<ShareId> = claimed.into_iter().map(|share| share.id).collect();
    assert_eq!(claimed, HashSet::from([swept.clone(), revoked.clone()]));
    assert_eq!(
        refusal(db.set_rules(revoked.as_str(), RuleChange::default(), now).await),
        "Revoked"
    );
    let refused = db.set_rules(swept.as_str(), extend, now).await;
    let Err(deleted @ ShareRefusal::Deleted) = refused else {
        panic!("a swept share answered {}", refusal(refused));
    };
    assert_eq!(deleted.to_string(), "The files of this link were deleted.");
    assert_eq!(
        view(&db, &swept, now).await.expires_at,
        Some(t0() + Duration::minutes(1))
    );
}

/// A rule change and a sweep of one share at once: only one wins. Each
/// waits here for the other's transaction, held open on a connection of its
/// own, then decides on the row as that transaction left it (on PostgreSQL,
/// its `WHERE` checked again; on SQLite, the write lock waited for).
pub async fn a_rule_change_and_a_sweep_never_both_win(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let now = t0() + Duration::hours(1);
    let expired = created(&db, new_share(1, None, Some(Duration::minutes(1)))).await;
    let used_up = created(&db, new_share(1, Some(1), None)).await;
    take(&db, &used_up, 0, t0()).await;

    // The sender's change first, committed while the sweep waits: not swept.
    let extended = format!(
        "UPDATE shares SET expires_at = {} WHERE id = '{expired}'",
        (now + Duration::days(1)).unix_timestamp()
    );
    let raised = format!("UPDATE shares SET max_downloads = 2 WHERE id = '{used_up}'");
    let claimed = on_raw_connection!(database, connection => {
        let mut tx = connection.begin().await.expect("a transaction");
        sqlx::query(AssertSqlSafe(extended)).execute(&mut *tx).await.expect("extended");
        sqlx::query(AssertSqlSafe(raised)).execute(&mut *tx).await.expect("raised");
        let sweep = tokio::spawn({
            let db = db.clone();
            async move { db.claim_sweep(now, GRACE, 10).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!sweep.is_finished(), "the sweep did not wait for the change");
        tx.commit().await.expect("committed");
        sweep.await.expect("a task")
    });
    assert_eq!(claimed.expect("a sweep"), []);
    assert_eq!(view(&db, &expired, now).await.state, ShareState::Live);
    assert_eq!(view(&db, &used_up, now).await.state, ShareState::Live);

    // The sweep first, committed while the change waits: refused, nothing changed.
    let swept = format!(
        "UPDATE shares SET swept_at = {} WHERE id = '{expired}'",
        now.unix_timestamp()
    );
    let changed = on_raw_connection!(database, connection => {
        let mut tx = connection.begin().await.expect("a transaction");
        sqlx::query(AssertSqlSafe(swept)).execute(&mut *tx).await.expect("swept");
        let change = tokio::spawn({
            let (db, id) = (db.clone(), expired.clone());
            let change = RuleChange {
                max_downloads: Some(Some(9)),
                ..RuleChange::default()
            };
            async move { db.set_rules(id.as_str(), change, now).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!change.is_finished(), "the change did not wait for the sweep");
        tx.commit().await.expect("committed");
        change.await.expect("a task")
    });
    assert_eq!(refusal(changed), "Deleted");
    assert_eq!(view(&db, &expired, now).await.max_downloads, None);
}

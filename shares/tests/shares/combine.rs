//! Several shares made one: every file in one new share, in the order
//! given, the shares given gone; all or nothing, and never at the cost of
//! a download counted meanwhile.

use std::collections::HashSet;

use courier_shares::{NewRules, ShareDb, ShareId, ShareRefusal, ShareState};
use time::Duration;

use crate::backend::NamedBackend;
use crate::support::{HASH, created, downloads, new_share, refusal, t0, take, view};

/// Each share's files' keys, in file order.
async fn keys(db: &ShareDb, id: &ShareId) -> Vec<String> {
    let record = view(db, id, t0()).await;
    record.files.into_iter().map(|file| file.key).collect()
}

pub async fn combine_makes_one_share_of_several(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let first = created(&db, new_share(2, Some(1), Some(Duration::hours(1)))).await;
    let kept = created(&db, new_share(1, None, None)).await;
    let second = created(&db, new_share(3, None, None)).await;
    let mut expected = keys(&db, &second).await;
    expected.extend(keys(&db, &first).await);
    let kept_keys = keys(&db, &kept).await;

    let rules = NewRules {
        expires_at: Some(t0() + Duration::days(3)),
        max_downloads: Some(2),
        password_hash: Some(HASH.into()),
    };
    let now = t0() + Duration::minutes(5);
    let combined = db.combine(&[second.clone(), first.clone()], rules, now).await;
    let combined = combined.expect("combined");
    let record = view(&db, &combined, now).await;
    assert_eq!(
        record
            .files
            .iter()
            .map(|file| (file.index, file.key.clone()))
            .collect::<Vec<_>>(),
        expected.iter().cloned().enumerate().collect::<Vec<_>>()
    );
    assert_eq!(
        (
            record.created_at,
            record.expires_at,
            record.max_downloads,
            record.has_password,
            record.state
        ),
        (now, Some(t0() + Duration::days(3)), Some(2), true, ShareState::Live)
    );
    assert!(record.files.iter().all(|file| file.downloads == 0));
    for id in [&first, &second] {
        assert_eq!(refusal(db.share(id.as_str(), now).await), "NotFound");
        assert_eq!(refusal(db.owner_view(id.as_str(), now).await), "NotFound");
    }
    for key in &expected {
        assert_eq!(db.share_of_file(key).await.expect("a look"), Some(combined.clone()));
    }
    assert_eq!(keys(&db, &kept).await, kept_keys);
    // The new share's files count as any share's do.
    assert_eq!(take(&db, &combined, 4, now).await.downloads, 1);
    assert_eq!(downloads(&db, &combined).await, [0, 0, 0, 0, 1]);
}

/// One share that cannot be combined refuses the whole: the shares given
/// stay as they were, each with its files, and no new share is made.
pub async fn combine_is_all_or_nothing(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let good = created(&db, new_share(2, None, None)).await;
    let other = created(&db, new_share(1, Some(3), None)).await;
    let revoked = created(&db, new_share(1, None, None)).await;
    db.revoke(revoked.as_str(), t0()).await.expect("revoked");
    let swept = created(&db, new_share(1, None, Some(Duration::minutes(1)))).await;
    let claimed = db
        .claim_sweep(t0() + Duration::hours(1), std::time::Duration::ZERO, 10)
        .await;
    let claimed: HashSet<ShareId> = claimed.expect("a sweep").into_iter().map(|share| share.id).collect();
    assert_eq!(claimed, HashSet::from([revoked.clone(), swept.clone()]));
    let downloaded = created(&db, new_share(2, Some(3), None)).await;
    take(&db, &downloaded, 1, t0()).await;
    let expired = created(&db, new_share(1, None, Some(Duration::seconds(1)))).await;

    let before = [&good, &other, &downloaded, &expired].map(|id| id.clone());
    let mut keys_before = Vec::new();
    for id in &before {
        keys_before.push(keys(&db, id).await);
    }
    let cases: [(Vec<ShareId>, &str); 7] = [
        (vec![good.clone(), ShareId::random(), other.clone()], "NotFound"),
        (vec![good.clone(), other.clone(), revoked.clone()], "Revoked"),
        (vec![swept.clone(), good.clone()], "Deleted"),
        (vec![good.clone(), other.clone(), downloaded.clone()], "Downloaded"),
        (vec![good.clone(), other.clone(), good.clone()], "Invalid"),
        (vec![], "Invalid"),
        ((0..101).map(|_| ShareId::random()).collect(), "Invalid"),
    ];
    for (ids, expected) in cases {
        let answer = db.combine(&ids, NewRules::default(), t0()).await;
        assert_eq!(refusal(answer), expected, "{ids:?}");
    }
    let zero = NewRules {
        max_downloads: Some(0),
        ..NewRules::default()
    };
    assert_eq!(
        refusal(db.combine(std::slice::from_ref(&good), zero, t0()).await),
        "Invalid"
    );
    let plain = NewRules {
        password_hash: Some("hunter2".into()),
        ..NewRules::default()
    };
    assert_eq!(
        refusal(db.combine(std::slice::from_ref(&good), plain, t0()).await),
        "Invalid"
    );

    for (id, keys_before) in before.iter().zip(&keys_before) {
        assert_eq!(&keys(&db, id).await, keys_before, "{id}");
        for key in keys_before {
            assert_eq!(db.share_of_file(key).await.expect("a look").as_ref(), Some(id));
        }
    }
    assert_eq!(downloads(&db, &downloaded).await, [0, 1]);
    // An expired share whose objects are still there can be combined.
    let now = t0() + Duration::minutes(1);
    assert_eq!(view(&db, &expired, now).await.state, ShareState::Expired);
    let combined = db
        .combine(&[expired.clone(), good.clone()], NewRules::default(), now)
        .await;
    let record = view(&db, &combined.expect("combined"), now).await;
    assert_eq!((record.files.len(), record.state), (3, ShareState::Live));
}

/// A combination and downloads of one of its shares at once, many times: a
/// download counted first refuses the combination (and keeps its count);
/// a combination first leaves the download nothing at the old link. No
/// count is ever lost: the downloads answered `Ok` are the downloads stored.
pub async fn combine_and_downloads_at_once_never_lose_a_count(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let mut outcomes = HashSet::new();
    for round in 0..40_u64 {
        let raced = created(&db, new_share(2, Some(5), None)).await;
        let other = created(&db, new_share(1, None, None)).await;
        let mut downloads_at_once = tokio::task::JoinSet::new();
        for n in 0..3 {
            let (db, raced) = (db.clone(), raced.clone());
            // Every other round a little later, so each side comes first in some.
            let later = round % 2 == 1;
            downloads_at_once.spawn(async move {
                if later {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                db.take_download(raced.as_str(), n % 2, t0()).await
            });
        }
        let combined = db
            .combine(&[other.clone(), raced.clone()], NewRules::default(), t0())
            .await;
        let mut taken = 0;
        while let Some(answer) = downloads_at_once.join_next().await {
            match answer.expect("a download") {
                Ok(_) => taken += 1,
                Err(ShareRefusal::NotFound) => {}
                Err(refused) => panic!("a download answered {refused}"),
            }
        }
        match combined {
            Ok(id) => {
                // Every download came after, and found no share.
                assert_eq!(taken, 0);
                assert_eq!(downloads(&db, &id).await, [0, 0, 0]);
                assert_eq!(refusal(db.share(raced.as_str(), t0()).await), "NotFound");
                outcomes.insert("combined");
            }
            Err(ShareRefusal::Downloaded) => {
                let stored: u32 = downloads(&db, &raced).await.iter().sum();
                assert!(taken >= 1);
                assert_eq!(stored, taken);
                assert_eq!(downloads(&db, &other).await, [0]);
                outcomes.insert("refused");
            }
            Err(refused) => panic!("the combination answered {refused}"),
        }
    }
    if std::env::var_os("COURIER_TEST_TIMES").is_some() {
        eprintln!("combine and downloads at once: {outcomes:?}");
    }
}

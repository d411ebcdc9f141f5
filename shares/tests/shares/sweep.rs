//! The sweep: shares that are over are claimed once each, after their
//! grace, with the keys of the objects to delete; a share whose objects
//! could not all be deleted is released for a later sweep.

use std::collections::HashSet;
use std::time::Duration as Grace;

use courier_shares::{ShareDb, ShareId, ShareState, SweptShare, sealed_download_window};
use time::{Duration, OffsetDateTime};

use crate::backend::NamedBackend;
use crate::support::{created, new_share, refusal, t0, take, view};

const GRACE: Grace = Grace::from_secs(120);

async fn claim(db: &ShareDb, now: OffsetDateTime, max: usize) -> Vec<SweptShare> {
    match db.claim_sweep(now, GRACE, max).await {
        Ok(swept) => swept,
        Err(error) => panic!("claim_sweep: {error}"),
    }
}

fn ids(swept: &[SweptShare]) -> HashSet<ShareId> {
    swept.iter().map(|share| share.id.clone()).collect()
}

/// Revoked at once; expired, or used up since its last download, after the
/// grace; live shares, and a share with a file left to download, never.
pub async fn sweep_claims_what_is_over_after_its_grace(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let unlimited = created(&db, new_share(1, None, None)).await;
    let downloaded = created(&db, new_share(1, None, Some(Duration::days(30)))).await;
    let expires = created(&db, new_share(2, None, Some(Duration::hours(1)))).await;
    let revoked = created(&db, new_share(3, Some(5), None)).await;
    let used_up_share = new_share(2, Some(1), None);
    let used_up_keys: Vec<String> = used_up_share.files.iter().map(|file| file.key.clone()).collect();
    let used_up = created(&db, used_up_share).await;
    let one_left = created(&db, new_share(2, Some(1), None)).await;
    for _ in 0..3 {
        take(&db, &downloaded, 0, t0()).await;
    }
    take(&db, &used_up, 0, t0()).await;
    let last_download = t0() + Duration::minutes(10);
    take(&db, &used_up, 1, last_download).await;
    take(&db, &one_left, 0, t0()).await;
    db.revoke(revoked.as_str(), t0() + Duration::minutes(1))
        .await
        .expect("revoked");

    // Revoked: at once, and no other yet.
    let swept = claim(&db, t0() + Duration::minutes(1), 10).await;
    assert_eq!(ids(&swept), HashSet::from([revoked.clone()]));
    assert_eq!(swept[0].keys.len(), 3);
    // Used up: `GRACE` after the last download, with every key in file order.
    assert_eq!(claim(&db, last_download + Duration::seconds(119), 10).await, []);
    let swept = claim(&db, last_download + Duration::seconds(120), 10).await;
    assert_eq!(
        swept,
        [SweptShare {
            id: used_up.clone(),
            keys: used_up_keys
        }]
    );
    // Expired: `GRACE` after it expired.
    let expiry = t0() + Duration::hours(1);
    assert_eq!(claim(&db, expiry + Duration::seconds(119), 10).await, []);
    assert_eq!(
        ids(&claim(&db, expiry + Duration::seconds(120), 10).await),
        HashSet::from([expires.clone()])
    );
    // Each once; the others never.
    assert_eq!(claim(&db, t0() + Duration::days(29), 10).await, []);
    for id in [&unlimited, &downloaded, &one_left] {
        assert_eq!(view(&db, id, t0()).await.swept_at, None);
    }

    // Swept, each link still says why it ended.
    let now = t0() + Duration::days(2);
    assert_eq!(refusal(db.share(revoked.as_str(), now).await), "Revoked");
    assert_eq!(refusal(db.share(used_up.as_str(), now).await), "LimitReached");
    assert_eq!(refusal(db.share(expires.as_str(), now).await), "Expired");
    assert_eq!(refusal(db.take_download(expires.as_str(), 0, now).await), "Expired");
    assert_eq!(view(&db, &expires, now).await.state, ShareState::Expired);
}

/// No more than `max` at a time; and none for `max` 0.
/// The last download an encrypted file had goes on after its share is used
/// up (the page fetches its object in ranges, renewing the URL), counting
/// nothing; the file stays for that download's window, then is swept. A
/// revoked or expired share, or a plain file, renews nothing.
pub async fn an_encrypted_download_under_way_keeps_its_file(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let size = 262_144 * 600;
    let mut new = new_share(2, Some(1), None);
    new.files[0].seal = Some("eyJ2IjoxfQ".into());
    new.files[0].size = size;
    let id = created(&db, new).await;
    let counted = t0();
    db.take_sealed_download(id.as_str(), 0, counted).await.expect("counted");
    take(&db, &id, 1, counted).await;
    let later = counted + Duration::minutes(20);
    assert_eq!(
        refusal(db.take_sealed_download(id.as_str(), 0, later).await),
        "LimitReached"
    );
    let going_on = db
        .continue_sealed_download(id.as_str(), 0, later)
        .await
        .expect("goes on");
    assert_eq!((going_on.index, going_on.downloads, going_on.size), (0, 1, size));
    assert_eq!(
        refusal(db.continue_sealed_download(id.as_str(), 1, later).await),
        "NotFound"
    );
    assert_eq!(
        refusal(db.continue_sealed_download(id.as_str(), 7, later).await),
        "NotFound"
    );

    // 15 minutes, and 10 at 256 KiB/s; then the grace, as for any share.
    assert_eq!(sealed_download_window(size), Grace::from_secs(25 * 60));
    let over = counted + Duration::minutes(25) + Duration::seconds(120);
    assert_eq!(claim(&db, over - Duration::seconds(1), 10).await, []);
    assert_eq!(ids(&claim(&db, over, 10).await), HashSet::from([id.clone()]));
    assert_eq!(
        refusal(db.continue_sealed_download(id.as_str(), 0, over).await),
        "Deleted"
    );

    // Revoked, or expired: no more.
    for ends in ["revoked", "expired"] {
        let mut new = new_share(1, None, Some(Duration::hours(1)));
        new.files[0].seal = Some("eyJ2IjoxfQ".into());
        let id = created(&db, new).await;
        db.take_sealed_download(id.as_str(), 0, counted).await.expect("counted");
        let (now, refused) = if ends == "revoked" {
            db.revoke(id.as_str(), counted).await.expect("revoked");
            (counted, "Revoked")
        } else {
            (counted + Duration::hours(1), "Expired")
        };
        assert_eq!(refusal(db.continue_sealed_download(id.as_str(), 0, now).await), refused);
    }
}

pub async fn sweep_claims_at_most_max(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let mut over = HashSet::new();
    for _ in 0..5 {
        over.insert(created(&db, new_share(1, None, Some(Duration::minutes(1)))).await);
    }
    let now = t0() + Duration::hours(1);
    assert_eq!(claim(&db, now, 0).await, []);
    let mut claimed = HashSet::new();
    for expected in [2, 2, 1, 0] {
        let swept = claim(&db, now, 2).await;
        assert_eq!(swept.len(), expected);
        for share in swept {
            assert!(claimed.insert(share.id), "claimed twice");
        }
    }
    assert_eq!(claimed, over);
}

/// A share whose objects could not all be deleted is released, and the
/// next sweep claims it again; the others stay claimed.
pub async fn a_released_share_is_claimed_again(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let failed = created(&db, new_share(2, None, None)).await;
    let deleted = created(&db, new_share(1, None, None)).await;
    for id in [&failed, &deleted] {
        db.revoke(id.as_str(), t0()).await.expect("revoked");
    }
    assert_eq!(claim(&db, t0(), 10).await.len(), 2);
    db.release_sweep(&failed).await.expect("released");
    db.release_sweep(&ShareId::random()).await.expect("nothing to release");
    assert_eq!(view(&db, &failed, t0()).await.swept_at, None);
    let later = t0() + Duration::minutes(5);
    let swept = claim(&db, later, 10).await;
    assert_eq!(ids(&swept), HashSet::from([failed.clone()]));
    assert_eq!(swept[0].keys.len(), 2);
    assert_eq!(view(&db, &failed, later).await.swept_at, Some(later));
    assert_eq!(view(&db, &deleted, later).await.swept_at, Some(t0()));
}

/// Sweeps at once (on PostgreSQL from two pools, as two instances) never
/// claim one share twice, and between them claim every share that is over.
pub async fn concurrent_sweeps_never_claim_a_share_twice(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let second = database.open().await;
    let mut over = HashSet::new();
    for n in 0..60 {
        let id = created(&db, new_share(1 + n % 3, None, Some(Duration::minutes(1)))).await;
        over.insert(id);
        created(&db, new_share(1, None, None)).await;
    }
    let now = t0() + Duration::hours(1);
    let mut sweeps = tokio::task::JoinSet::new();
    for n in 0..8 {
        let db = if n % 2 == 0 { db.clone() } else { second.clone() };
        sweeps.spawn(async move {
            let mut claimed = Vec::new();
            loop {
                let swept = claim(&db, now, 4).await;
                if swept.is_empty() {
                    return claimed;
                }
                claimed.extend(swept);
            }
        });
    }
    let mut claimed = HashSet::new();
    while let Some(swept) = sweeps.join_next().await {
        for share in swept.expect("a sweep") {
            assert!(!share.keys.is_empty());
            assert!(claimed.insert(share.id.clone()), "{} claimed twice", share.id);
        }
    }
    // A sweep can find nothing left when another claimed what it chose;
    // whatever is left, one more sweep claims.
    for share in claim(&db, now, 100).await {
        assert!(claimed.insert(share.id.clone()), "{} claimed twice", share.id);
    }
    assert_eq!(claimed, over);
}

//! File requests: each upload granted holds a file and its size of the
//! request's room until it arrives or runs out, and what arrives joins one
//! share.

use courier_shares::{ArrivedFile, NewRequest, RequestRefusal, RequestState, ShareDb};
use time::Duration;

use crate::backend::NamedBackend;
use crate::support::t0;

fn arrived(key: &str, size: u64) -> ArrivedFile {
    ArrivedFile {
        upload_key: key.to_owned(),
        key: format!("files/{key}"),
        filename: format!("{key}.pdf"),
        content_type: "application/pdf".to_owned(),
        size,
    }
}

fn why(result: Result<(), RequestRefusal>) -> String {
    match result {
        Ok(()) => "held".to_owned(),
        Err(RequestRefusal::TooLarge { left }) => format!("TooLarge {left}"),
        Err(refusal) => format!("{refusal:?}"),
    }
}

async fn request(db: &ShareDb, files: u32, bytes: u64) -> String {
    db.create_request(NewRequest {
        max_files: files,
        max_bytes: bytes,
        expires_at: t0() + Duration::hours(1),
        created_at: t0(),
    })
    .await
    .expect("made")
    .as_str()
    .to_owned()
}

pub async fn a_request_holds_its_room_and_its_files_join_one_share(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = request(&db, 2, 100).await;
    let until = t0() + Duration::minutes(10);
    let hold = |key: &'static str, size: u64| {
        let (db, id) = (db.clone(), id.clone());
        async move { why(db.hold_request_upload(&id, key, size, until, t0()).await) }
    };
    assert_eq!(hold("a", 50).await, "held");
    // The declared size counts from the grant: 50 left, not 100.
    assert_eq!(hold("b", 60).await, "TooLarge 50");
    assert_eq!(hold("b", 50).await, "held");
    assert_eq!(hold("c", 1).await, "NoFilesLeft { max_files: 2 }");
    // An aborted upload gives its file and bytes back.
    db.give_back_request_upload("b").await.expect("given back");
    assert_eq!(hold("c", 10).await, "held");

    let first = db
        .receive_request_upload(&arrived("a", 50), None, t0())
        .await
        .expect("received")
        .expect("a request's upload");
    let second = db
        .receive_request_upload(&arrived("c", 10), None, t0())
        .await
        .expect("received")
        .expect("a request's upload");
    assert_eq!(first, second, "one share for the request's files");
    // A confirmation retried finds the share it joined; an upload no request granted has none.
    let again = db
        .receive_request_upload(&arrived("a", 50), None, t0())
        .await
        .expect("received");
    assert_eq!(again, Some(first.clone()));
    assert_eq!(
        db.receive_request_upload(&arrived("z", 1), None, t0())
            .await
            .expect("read"),
        None
    );

    let seen = db.file_request(&id, t0()).await.expect("read").expect("there");
    assert_eq!(seen.state, RequestState::Full);
    assert_eq!((seen.files_received, seen.bytes_received), (2, 60));
    assert_eq!((seen.files_arriving, seen.bytes_arriving), (0, 0));
    assert_eq!(seen.share.as_ref(), Some(&first));
    let names: Vec<_> = seen.received.iter().map(|file| file.filename.as_str()).collect();
    assert_eq!(names, ["a.pdf", "c.pdf"]);
    let share = db.owner_view(first.as_str(), t0()).await.expect("the share");
    let keys: Vec<_> = share.files.iter().map(|file| file.key.as_str()).collect();
    assert_eq!(keys, ["files/a", "files/c"]);
}

pub async fn a_request_refuses_once_closed_expired_or_unknown(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = request(&db, 3, 1000).await;
    let until = t0() + Duration::minutes(10);
    // A grant that ran out unreceived stops counting.
    assert_eq!(why(db.hold_request_upload(&id, "a", 1000, until, t0()).await), "held");
    assert_eq!(
        why(db.hold_request_upload(&id, "b", 1, until, t0()).await),
        "NoRoomLeft"
    );
    let later = until + Duration::seconds(1);
    assert_eq!(
        why(db
            .hold_request_upload(&id, "b", 1000, later + Duration::minutes(5), later)
            .await),
        "held"
    );
    // Past its expiry.
    let expired = t0() + Duration::hours(2);
    assert_eq!(
        why(db.hold_request_upload(&id, "c", 1, expired, expired).await),
        "Expired"
    );
    // Closed by its maker: an upload granted before still arrives.
    let closed = db.close_request(&id, later).await.expect("closed").expect("there");
    assert_eq!(closed.state, RequestState::Closed);
    assert_eq!(why(db.hold_request_upload(&id, "d", 1, until, later).await), "Closed");
    assert!(
        db.receive_request_upload(&arrived("b", 1000), None, later)
            .await
            .expect("received")
            .is_some()
    );
    for unknown in ["AAAAAAAAAAAAAAAAAAAAAA", "not an id"] {
        assert_eq!(
            why(db.hold_request_upload(unknown, "e", 1, until, t0()).await),
            "NotFound"
        );
        assert!(db.file_request(unknown, t0()).await.expect("read").is_none());
    }
}

pub async fn a_request_whose_share_was_taken_back_starts_another(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = request(&db, 5, 1000).await;
    let until = t0() + Duration::minutes(10);
    for key in ["a", "b"] {
        assert_eq!(why(db.hold_request_upload(&id, key, 1, until, t0()).await), "held");
    }
    let first = db
        .receive_request_upload(&arrived("a", 1), None, t0())
        .await
        .expect("received")
        .expect("share");
    db.revoke(first.as_str(), t0()).await.expect("revoked");
    let second = db
        .receive_request_upload(&arrived("b", 1), None, t0())
        .await
        .expect("received")
        .expect("share");
    assert_ne!(first, second);
    let seen = db.file_request(&id, t0()).await.expect("read").expect("there");
    assert_eq!(seen.share, Some(second));
}

/// Many grants at once for a request with room for three: three are held.
pub async fn concurrent_grants_never_pass_a_request(backend: NamedBackend) {
    let database = backend.fresh().await;
    let db = database.open().await;
    let id = request(&db, 3, 1_000_000).await;
    let until = t0() + Duration::minutes(10);
    let grants = (0..20).map(|n| {
        let (db, id) = (db.clone(), id.clone());
        tokio::spawn(async move {
            db.hold_request_upload(&id, &format!("k{n}"), 10, until, t0())
                .await
                .is_ok()
        })
    });
    let mut held = 0;
    for grant in grants {
        held += usize::from(grant.await.expect("ran"));
    }
    assert_eq!(held, 3);
}

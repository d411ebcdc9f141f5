//! One stranger against everyone else (issue 26): a client that trickles
//! bodies a byte at a time on hundreds of connections, as an attacker would,
//! from an address of its own (127.0.0.2; the honest client is 127.0.0.1).
//! Before, 530 trickled part uploads took every one of the store's 512 slots
//! (every download and upload answered `503 SlowDown`), and 4,150 trickled
//! `sign_parts` took all of the app's 4,096 connections (`GET /` went
//! unanswered). Now each client has its share of the slots and connections,
//! reads and writes have pools of their own, and a body slower than the
//! floor is cut.

use std::time::Duration;

use courier::serve::{Limits, Serving};
use reqwest::StatusCode;

use courier_test_support::{ATTACKER, FLOOR, Trickle, connect_from, one_trickle};

use crate::raw_http::host_of;
use crate::slow_clients::spawn_serving;

#[tokio::test]
async fn trickled_sign_parts_on_thousands_of_connections_leave_the_page_answering() {
    // No floor on the body rate: each client's share of the connections
    // (and `sign_parts`' own allowance) must hold it back by themselves.
    let courier = spawn_serving(Serving {
        app: Limits {
            min_body_rate: None,
            ..Limits::APP
        },
        ..Serving::default()
    })
    .await;
    let head = format!(
        "POST /api/sign_parts HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n",
        host_of(&courier.base)
    );
    // More than the app's 4,096 connections.
    let mut trickle = Trickle::start(host_of(&courier.base), head, 4_200).await;
    let asked = std::time::Instant::now();

    let page = tokio::time::timeout(Duration::from_secs(5), courier.get_as(&courier.base, "text/html"))
        .await
        .expect("the page answers while sign_parts is trickled at");
    let answered = asked.elapsed();
    assert_eq!(page.status(), StatusCode::OK);
    // Let the connections the app closed show it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!(
        "4,200 trickled sign_parts, {} of them still open: the page answered in {:?}",
        trickle.still_sending(),
        answered
    );
}

/// A trickled body on the app is cut once a window of waiting shows it under
/// the floor, with a sentence.
#[tokio::test]
async fn a_trickled_body_on_the_app_is_cut_with_a_sentence() {
    let courier = spawn_serving(Serving {
        app: Limits {
            min_body_rate: Some(FLOOR),
            ..Limits::APP
        },
        ..Serving::default()
    })
    .await;
    let head = format!(
        "POST /api/sign_upload HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: 60000\r\n\r\nfilename=a",
        host_of(&courier.base)
    );
    let answer = one_trickle(host_of(&courier.base), &head).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("arrived too slowly"), "{answer}");
}

/// One address keeps its share of each port's connections, its next ones
/// are closed at once, and another address still connects and is served.
/// Idle connections stay open for the header time (10 s), so every one
/// closed within a second was closed for being past the share.
#[tokio::test]
async fn one_address_holds_its_share_of_connections_and_no_more() {
    let courier = spawn_serving(Serving::default()).await;
    for (addr, share) in [
        (
            host_of(&courier.store).to_owned(),
            Limits::STORE.max_connections_per_client,
        ),
        (
            host_of(&courier.base).to_owned(),
            Limits::APP.max_connections_per_client,
        ),
    ] {
        let mut opened = Vec::new();
        for _ in 0..share + 40 {
            opened.push(connect_from(ATTACKER, &addr).await.expect("the kernel accepts"));
        }
        let mut closed = 0;
        let mut open = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        for stream in &mut opened {
            if crate::raw_http::closed_by(stream, deadline).await {
                closed += 1;
            } else {
                open += 1;
            }
        }
        assert_eq!((open, closed), (share, 40), "{addr}");
    }
    // Another address is served meanwhile.
    let page = courier.get_as(&courier.base, "text/html").await;
    assert_eq!(page.status(), StatusCode::OK);
}

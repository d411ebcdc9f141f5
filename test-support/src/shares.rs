//! Shares, driven as the sender's page and a downloader drive them: the
//! sender's calls, the share page and its downloads, and the share database
//! behind a running Courier for what no route does (time passing).

use app::model::DownloadLink;
use app::share::{RuleChange, ShareLink, ShareRef};
use reqwest::{Response, StatusCode};
use wire::endpoint;

use crate::test_courier::TestCourier;

/// A link's share and its sender token, as the share calls name it.
pub fn share_ref(link: &DownloadLink) -> ShareRef {
    let share = link.share.as_ref().expect("the link has a share");
    ShareRef {
        id: share.id.clone(),
        token: share.owner_token().expect("the sender's token").to_owned(),
    }
}

impl TestCourier {
    pub async fn update_share(&self, share: &ShareRef, change: &RuleChange) -> Response {
        self.call(endpoint::update_share(share, change)).await
    }

    /// Changes a share's rules, which must be accepted; the share as it is now.
    pub async fn set_rules(&self, link: &DownloadLink, change: RuleChange) -> ShareLink {
        let response = self.update_share(&share_ref(link), &change).await;
        assert_eq!(response.status(), StatusCode::OK, "update_share refused");
        response.json().await.expect("a ShareLink")
    }

    pub async fn revoke_share(&self, share: &ShareRef) -> Response {
        self.call(endpoint::revoke_share(share)).await
    }

    pub async fn combine_shares(&self, shares: &[ShareRef], rules: &RuleChange) -> Response {
        self.call(endpoint::combine_shares(shares, rules)).await
    }

    pub async fn share_status(&self, shares: &[ShareRef]) -> Response {
        self.call(endpoint::share_status(shares)).await
    }

    /// `GET /s/<id>` (or any path under it), as a browser without cookies asks.
    pub async fn share_get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}/s/{path}", self.base))
            .send()
            .await
            .expect("Courier answers")
    }

    /// `GET /s/<path>` with the browser's cookie (`name=value`).
    pub async fn share_get_with(&self, path: &str, cookie: &str) -> Response {
        self.http
            .get(format!("{}/s/{path}", self.base))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .expect("Courier answers")
    }

    /// `POST /s/<id>` with a password, as the share page's form sends it.
    pub async fn give_password(&self, id: &str, password: &str) -> Response {
        self.http
            .post(format!("{}/s/{id}", self.base))
            .form(&[("password", password)])
            .send()
            .await
            .expect("Courier answers")
    }

    /// The cookie (`name=value`) a right password's answer sets.
    pub fn unlock_cookie(answer: &Response) -> String {
        let cookie = answer.headers()[reqwest::header::SET_COOKIE].to_str().expect("ascii");
        cookie.split(';').next().expect("a name and value").to_owned()
    }

    /// The share database this Courier keeps (SQLite in its data
    /// directory), opened beside it: for what only time does to a share.
    pub async fn share_db(&self) -> courier_shares::ShareDb {
        let config = courier_shares::DatabaseConfig::Sqlite {
            path: self.store_dir.join("shares.db"),
        };
        courier_shares::ShareDb::open(&config)
            .await
            .expect("the share database opens")
    }

    /// Takes the share database's write lock, as another process could
    /// (SQLite: `BEGIN IMMEDIATE`), until the connection given back is
    /// dropped or its transaction ends.
    pub async fn lock_share_db(&self) -> sqlx::SqliteConnection {
        use sqlx::Connection as _;
        let path = self.store_dir.join("shares.db");
        let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("a connection to the share database");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut connection)
            .await
            .expect("the write lock");
        connection
    }

    /// Makes a share as if it had expired `ago` before now.
    pub async fn expire_share(&self, id: &str, ago: std::time::Duration) {
        let now = time::OffsetDateTime::now_utc();
        let change = courier_shares::RuleChange {
            expires_at: Some(Some(now - ago)),
            max_downloads: None,
            password: courier_shares::PasswordChange::Keep,
        };
        let db = self.share_db().await;
        db.set_rules(id, change, now)
            .await
            .expect("the share's expiry is changed");
        db.close().await;
    }
}

//! Who may upload (`COURIER_UPLOAD_ACCESS`): the upload password and its
//! session, a trusted proxy's user (and the same header from anyone else),
//! API tokens made with `courier token`, and each uploader's own budget.
//! Share pages and downloads never ask.

use courier::settings::{Settings, SettingsError};
use courier_shares::DatabaseConfig;
use reqwest::{Response, StatusCode, header};
use wire::endpoint;

use courier_test_support::TestCourier;

const PASSWORD: &str = "correct horse battery staple";

async fn password_courier() -> TestCourier {
    TestCourier::builder()
        .envs(&[
            ("COURIER_UPLOAD_ACCESS", "password"),
            ("COURIER_UPLOAD_PASSWORD", PASSWORD),
        ])
        .start()
        .await
}

/// `sign_upload` for a small file, with `headers` added.
async fn sign_upload(courier: &TestCourier, headers: &[(&str, &str)]) -> Response {
    send(
        courier,
        &endpoint::sign_upload("notes.txt", "text/plain", 12, None),
        headers,
    )
    .await
}

/// `call`, with `headers` added.
pub(crate) async fn send<T>(courier: &TestCourier, call: &endpoint::Call<T>, headers: &[(&str, &str)]) -> Response {
    let mut request = courier.request(call);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("Courier answers")
}

/// A refusal's status and sentence.
pub(crate) async fn refusal(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.expect("a JSON refusal");
    (status, body["error"].as_str().expect("a sentence").to_owned())
}

async fn sign_in(courier: &TestCourier, password: &str) -> Response {
    courier
        .http
        .post(format!("{}/sign-in", courier.base))
        .form(&[("password", password)])
        .send()
        .await
        .expect("Courier answers")
}

async fn page(courier: &TestCourier, headers: &[(&str, &str)]) -> String {
    let mut request = courier.http.get(format!("{}/", courier.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the page");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("HTML")
}

fn database(courier: &TestCourier) -> DatabaseConfig {
    DatabaseConfig::from_setting(None, courier.data_dir.path()).expect("SQLite in the data directory")
}

/// `courier token …`, as the operator runs it, on the Courier's database.
async fn token_command(courier: &TestCourier, args: &[&str]) -> Result<courier::commands::TokenOutput, String> {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    courier::commands::token(&database(courier), &args)
        .await
        .map_err(|error| error.to_string())
}

#[test]
fn a_courier_reached_from_elsewhere_must_say_who_may_upload() {
    let env = |public_url: &'static str, access: Option<&'static str>| {
        move |name: &str| match name {
            "COURIER_PUBLIC_URL" => Some(public_url.to_owned()),
            "COURIER_UPLOAD_ACCESS" => access.map(str::to_owned),
            _ => None,
        }
    };
    // The other commands (setup-bucket, check, token) read such settings;
    // serving them is refused.
    let settings = Settings::parse(env("https://files.example.com", None)).expect("settings");
    let refused = settings.access.chosen().expect_err("no mode chosen");
    assert!(matches!(refused, SettingsError::AccessNotChosen { .. }));
    let sentence = refused.to_string();
    assert!(
        sentence.starts_with("COURIER_UPLOAD_ACCESS must be set: Courier is reachable at https://files.example.com"),
        "{sentence}"
    );
    assert!(sentence.contains("password") && sentence.contains("proxy") && sentence.contains("open"));
    let chosen = |settings: Result<Settings, SettingsError>| settings.expect("settings").access.chosen();
    // Choosing is enough, open included; on loopback open is the default.
    assert!(chosen(Settings::parse(env("https://files.example.com", Some("open")))).is_ok());
    for loopback in ["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000"] {
        assert!(chosen(Settings::parse(env(loopback, None))).is_ok(), "{loopback}");
    }
    // Listening everywhere is being reached from elsewhere, whatever the public URL says.
    let everywhere = |public_url: Option<&'static str>| {
        move |name: &str| match name {
            "LEPTOS_SITE_ADDR" => Some("0.0.0.0:3000".to_owned()),
            "COURIER_PUBLIC_URL" => public_url.map(str::to_owned),
            _ => None,
        }
    };
    for public_url in [None, Some("http://localhost:3000")] {
        assert!(
            matches!(
                chosen(Settings::parse(everywhere(public_url))),
                Err(SettingsError::AccessNotChosen { .. })
            ),
            "{public_url:?}"
        );
    }
    // Each mode's needs.
    let with = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    };
    let short = Settings::parse(with(&[
        ("COURIER_UPLOAD_ACCESS", "password"),
        ("COURIER_UPLOAD_PASSWORD", "short"),
    ]));
    assert!(
        short
            .expect_err("too short")
            .to_string()
            .contains("at least 12 characters")
    );
    let missing = Settings::parse(with(&[("COURIER_UPLOAD_ACCESS", "password")]));
    assert!(
        missing
            .expect_err("no password")
            .to_string()
            .contains("COURIER_UPLOAD_PASSWORD")
    );
    let no_proxies = Settings::parse(with(&[("COURIER_UPLOAD_ACCESS", "proxy")]));
    assert!(
        no_proxies
            .expect_err("no proxies")
            .to_string()
            .contains("COURIER_TRUSTED_PROXIES")
    );
    let odd = Settings::parse(with(&[("COURIER_UPLOAD_ACCESS", "everyone")]));
    assert!(
        odd.expect_err("no such mode")
            .to_string()
            .contains("open, password or proxy")
    );
    let taken = Settings::parse(with(&[
        ("COURIER_UPLOAD_ACCESS", "proxy"),
        ("COURIER_TRUSTED_PROXIES", "10.0.0.1"),
        ("COURIER_PROXY_USER_HEADER", "Authorization"),
    ]));
    assert!(
        taken
            .expect_err("a header of its own")
            .to_string()
            .contains("COURIER_PROXY_USER_HEADER")
    );
}

#[tokio::test]
async fn the_upload_password_signs_a_browser_in() {
    let courier = password_courier().await;

    // Not signed in: the page asks for the password, and no grant is signed.
    let html = page(&courier, &[]).await;
    assert!(
        html.contains("Sign in to upload") && html.contains(r#"action="/sign-in""#),
        "{html}"
    );
    assert!(!html.contains("x-amz-signature"), "no signed form without access");
    let (status, sentence) = refusal(sign_upload(&courier, &[]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(sentence, "Sign in with this Courier's upload password to upload files.");
    let form = courier.call(endpoint::sign_upload_form(None)).await;
    assert_eq!(form.status(), StatusCode::UNAUTHORIZED);
    let start = courier
        .call(endpoint::start_multipart(
            "big.bin",
            "application/octet-stream",
            50 << 20,
            None,
        ))
        .await;
    assert_eq!(start.status(), StatusCode::UNAUTHORIZED);

    // A wrong password: the form again, with a sentence.
    let wrong = sign_in(&courier, "battery staple horse correct").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    let html = wrong.text().await.expect("HTML");
    assert!(html.contains("That is not this Courier's upload password."), "{html}");

    // The right one: a session cookie, HttpOnly and SameSite=Strict (not
    // Secure on plain http), and back to the page, which now uploads.
    let right = sign_in(&courier, PASSWORD).await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert_eq!(right.headers()[header::LOCATION], "/");
    let cookie = right.headers()[header::SET_COOKIE].to_str().expect("ASCII").to_owned();
    assert!(cookie.starts_with("courier-session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=1209600"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().expect("name=value").to_owned();
    let html = page(&courier, &[("cookie", &session)]).await;
    assert!(html.contains("x-amz-signature") && html.contains("Sign out"), "{html}");
    assert_eq!(
        sign_upload(&courier, &[("cookie", &session)]).await.status(),
        StatusCode::OK
    );

    // Another site's page cannot use the visitor's session to upload, nor
    // sign them in or out; a link followed from elsewhere still shows the page.
    let cross = sign_upload(&courier, &[("cookie", &session), ("sec-fetch-site", "cross-site")]).await;
    let (status, sentence) = refusal(cross).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        sentence,
        "Courier takes uploads from its own page, not from another site's."
    );
    assert!(
        page(&courier, &[("cookie", &session), ("sec-fetch-site", "cross-site")])
            .await
            .contains("x-amz-signature")
    );
    let cross_sign_in = courier
        .http
        .post(format!("{}/sign-in", courier.base))
        .header("sec-fetch-site", "cross-site")
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .expect("Courier answers");
    assert_eq!(cross_sign_in.status(), StatusCode::FORBIDDEN);
    assert!(cross_sign_in.headers().get(header::SET_COOKIE).is_none());

    // A made-up or altered session is no session. (The character changed is
    // inside the MAC: the last one of its base64url carries two bits no
    // decoder reads, so changing it could leave the same MAC.)
    let at = session.len() - 5;
    let other = if &session[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{other}{}", &session[..at], &session[at + 1..]);
    assert_eq!(
        sign_upload(&courier, &[("cookie", &forged)]).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Signing out clears the cookie.
    let out = courier
        .http
        .post(format!("{}/sign-out", courier.base))
        .header("cookie", &session)
        .send()
        .await
        .expect("Courier answers");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let cleared = out.headers()[header::SET_COOKIE].to_str().expect("ASCII");
    assert!(
        cleared.starts_with("courier-session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

#[tokio::test]
async fn ten_wrong_passwords_a_minute_then_a_wait_even_for_the_right_one() {
    let courier = password_courier().await;
    for try_number in 1..=10 {
        let wrong = sign_in(&courier, &format!("guess number {try_number}")).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "try {try_number}");
    }
    let waiting = sign_in(&courier, "guess number 11").await;
    assert_eq!(waiting.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = waiting.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("seconds");
    assert!((1..=61).contains(&retry_after), "{retry_after}");
    assert!(
        waiting
            .text()
            .await
            .expect("HTML")
            .contains("Too many tries from your address.")
    );
    // The right password now would tell a guesser it was right: it waits too.
    let right = sign_in(&courier, PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn a_trusted_proxys_user_uploads_and_the_same_header_from_anyone_else_is_ignored() {
    // The test's requests come from 127.0.0.1: a trusted proxy here...
    let trusted = TestCourier::builder()
        .envs(&[
            ("COURIER_UPLOAD_ACCESS", "proxy"),
            ("COURIER_TRUSTED_PROXIES", "127.0.0.1"),
        ])
        .start()
        .await;
    assert_eq!(
        sign_upload(&trusted, &[("remote-user", "ada")]).await.status(),
        StatusCode::OK
    );
    // ...which must name a user.
    let (status, sentence) = refusal(sign_upload(&trusted, &[]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(sentence.starts_with("Uploading needs you signed in"), "{sentence}");
    assert_eq!(
        sign_upload(&trusted, &[("remote-user", "  ")]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let html = page(&trusted, &[]).await;
    assert!(html.contains("Uploading needs you signed in") && !html.contains("x-amz-signature"));
    assert!(
        page(&trusted, &[("remote-user", "ada")])
            .await
            .contains("x-amz-signature")
    );

    // ...and an untrusted peer here: its header is anyone's to send.
    let untrusted = TestCourier::builder()
        .envs(&[
            ("COURIER_UPLOAD_ACCESS", "proxy"),
            ("COURIER_TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .start()
        .await;
    for header in [("remote-user", "ada"), ("x-forwarded-user", "ada")] {
        assert_eq!(
            sign_upload(&untrusted, &[header]).await.status(),
            StatusCode::UNAUTHORIZED,
            "{header:?}"
        );
    }

    // Twice (a proxy that appended its own to the client's): neither is believed.
    let twice = trusted
        .request(&endpoint::sign_upload("notes.txt", "text/plain", 12, None))
        .header("remote-user", "mallory")
        .header("remote-user", "ada")
        .send()
        .await
        .expect("Courier answers");
    assert_eq!(twice.status(), StatusCode::UNAUTHORIZED);
    // An identity provider's own bearer token, passed on by the proxy, is not ours.
    assert_eq!(
        sign_upload(
            &trusted,
            &[
                ("remote-user", "ada"),
                ("authorization", "Bearer eyJ0eXAiOiJKV1QifQ.e30.c2ln")
            ]
        )
        .await
        .status(),
        StatusCode::OK
    );

    // Another header, where the operator's proxy uses one.
    let forwarded = TestCourier::builder()
        .envs(&[
            ("COURIER_UPLOAD_ACCESS", "proxy"),
            ("COURIER_TRUSTED_PROXIES", "127.0.0.1"),
            ("COURIER_PROXY_USER_HEADER", "X-Forwarded-User"),
        ])
        .start()
        .await;
    assert_eq!(
        sign_upload(&forwarded, &[("x-forwarded-user", "ada")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        sign_upload(&forwarded, &[("remote-user", "ada")]).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_api_token_uploads_until_it_is_revoked() {
    let courier = password_courier().await;
    let made = token_command(&courier, &["create", "--name", "ci-backups"])
        .await
        .expect("made");
    let token = made.lines[0].clone();
    assert!(token.starts_with("courier_") && token.len() == 51, "{token}");
    assert!(made.note.expect("a note").contains("Courier keeps only its hash"));
    // Only its hash is kept.
    let db = std::fs::read(courier.data_dir.path().join("shares.db")).expect("the database");
    assert!(!db.windows(token.len()).any(|window| window == token.as_bytes()));
    // One live token per name.
    let again = token_command(&courier, &["create", "--name", "ci-backups"])
        .await
        .expect_err("name taken");
    assert!(again.contains("already named \"ci-backups\""), "{again}");

    let bearer = format!("Bearer {token}");
    assert_eq!(
        sign_upload(&courier, &[("authorization", &bearer)]).await.status(),
        StatusCode::OK
    );
    let start = courier
        .request(&endpoint::start_multipart(
            "big.bin",
            "application/octet-stream",
            50 << 20,
            None,
        ))
        .header("authorization", &bearer)
        .send()
        .await
        .expect("Courier answers");
    assert_eq!(start.status(), StatusCode::OK);

    // Revoked: refused, and the sentence never names the token.
    token_command(&courier, &["revoke", "ci-backups"])
        .await
        .expect("revoked");
    let (status, sentence) = refusal(sign_upload(&courier, &[("authorization", &bearer)]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sentence,
        "This API token is not valid: it is unknown, or it was revoked."
    );
    assert!(!sentence.contains("ci-backups"));
    let missing = token_command(&courier, &["revoke", "ci-backups"])
        .await
        .expect_err("none live");
    assert!(missing.contains("No live token is named"), "{missing}");
    let listed = token_command(&courier, &["list"]).await.expect("listed");
    assert_eq!(listed.lines.len(), 1);
    assert!(listed.lines[0].starts_with("ci-backups\tmade ") && listed.lines[0].contains("revoked"));

    // Unknown tokens and other schemes.
    // (Others' credentials are left alone: here, still not signed in.)
    let unknown = format!("Bearer courier_{}", "A".repeat(43));
    for header in [unknown.as_str(), "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer"] {
        assert_eq!(
            sign_upload(&courier, &[("authorization", header)]).await.status(),
            StatusCode::UNAUTHORIZED,
            "{header}"
        );
    }
    // Run where there is no database (another directory), it makes none.
    let elsewhere = tempfile::tempdir().expect("a directory");
    let nowhere = DatabaseConfig::from_setting(None, elsewhere.path()).expect("a path");
    let refused = courier::commands::token(&nowhere, &["list".to_owned()])
        .await
        .expect_err("no database");
    assert!(
        refused.to_string().starts_with("There is no Courier database at "),
        "{refused}"
    );
    assert!(std::fs::read_dir(elsewhere.path()).expect("listed").next().is_none());
    // A name the command refuses.
    let odd = token_command(&courier, &["create", "--name", "two words"])
        .await
        .expect_err("odd name");
    assert!(odd.contains("1 to 64 characters"), "{odd}");
}

#[tokio::test]
async fn a_bad_token_is_refused_even_where_uploads_are_open() {
    let courier = TestCourier::start().await;
    assert_eq!(sign_upload(&courier, &[]).await.status(), StatusCode::OK);
    let unknown = format!("Bearer courier_{}", "B".repeat(43));
    let (status, _) = refusal(sign_upload(&courier, &[("authorization", &unknown)]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a script learns its token is wrong");
    // Credentials that are not Courier's (a proxy's Basic auth, an identity
    // provider's bearer token) are someone else's business.
    for others in ["Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"] {
        assert_eq!(
            sign_upload(&courier, &[("authorization", others)]).await.status(),
            StatusCode::OK,
            "{others}"
        );
        assert!(
            page(&courier, &[("authorization", others)])
                .await
                .contains("x-amz-signature")
        );
    }
}

#[tokio::test]
async fn each_uploader_has_its_own_budget() {
    const MIB: u64 = 1 << 20;
    let courier = TestCourier::builder()
        .envs(&[
            ("COURIER_UPLOAD_ACCESS", "password"),
            ("COURIER_UPLOAD_PASSWORD", PASSWORD),
            ("COURIER_CLIENT_BYTES_PER_DAY", &(100 * MIB).to_string()),
        ])
        .start()
        .await;
    let first = format!(
        "Bearer {}",
        token_command(&courier, &["create", "first"]).await.expect("made").lines[0]
    );
    let second = format!(
        "Bearer {}",
        token_command(&courier, &["create", "second"])
            .await
            .expect("made")
            .lines[0]
    );
    let start = |bearer: String, size: u64| {
        courier
            .request(&endpoint::start_multipart(
                "big.bin",
                "application/octet-stream",
                size,
                None,
            ))
            .header("authorization", bearer)
            .send()
    };
    assert_eq!(
        start(first.clone(), 80 * MIB).await.expect("answers").status(),
        StatusCode::OK
    );
    let (status, sentence) = refusal(start(first.clone(), 30 * MIB).await.expect("answers")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        sentence.starts_with("This file is 30 MiB, but this API token has only 20 MiB left of the 100 MiB this Courier accepts from one API token in a day."),
        "{sentence}"
    );
    // Another token, from the same address, has its own.
    assert_eq!(start(second, 80 * MIB).await.expect("answers").status(), StatusCode::OK);
}

#[tokio::test]
async fn courier_send_uploads_with_a_token_where_a_password_is_asked() {
    let courier = password_courier().await;
    let token = token_command(&courier, &["create", "--name", "laptop"])
        .await
        .expect("made")
        .lines[0]
        .clone();
    let dir = tempfile::tempdir().expect("a directory");
    let file = dir.path().join("report.txt");
    std::fs::write(&file, b"quarterly numbers, all of them").expect("written");
    let send = |token: Option<String>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_courier"));
        command
            .args(["send", "--plain", "--quiet"])
            .arg(&file)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("COURIER_STATE_DIR", dir.path().join("state"))
            .env("COURIER_URL", &courier.base);
        if let Some(token) = token {
            command.env("COURIER_TOKEN", token);
        }
        tokio::task::spawn_blocking(move || command.output().expect("courier runs"))
    };
    // Without it: Courier's sentence, once, and nothing uploaded.
    let refused = send(None).await.expect("joined");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("Sign in with this Courier's upload password"),
        "{stderr}"
    );
    // With it: the share link, alone on stdout.
    let sent = send(Some(token.clone())).await.expect("joined");
    let stdout = String::from_utf8_lossy(&sent.stdout);
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    assert!(stdout.trim().starts_with(&format!("{}/s/", courier.base)), "{stdout}");
    assert!(
        !String::from_utf8_lossy(&sent.stderr).contains(&token),
        "the token is never printed"
    );
}

#[tokio::test]
async fn on_https_the_session_is_a_secure_host_cookie() {
    let courier = TestCourier::builder()
        .envs(&[
            ("COURIER_UPLOAD_ACCESS", "password"),
            ("COURIER_UPLOAD_PASSWORD", PASSWORD),
            ("COURIER_PUBLIC_URL", "https://files.example.com"),
        ])
        .start()
        .await;
    let right = sign_in(&courier, PASSWORD).await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    let cookie = right.headers()[header::SET_COOKIE].to_str().expect("ASCII").to_owned();
    assert!(
        cookie.starts_with("__Host-courier-session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("name=value").to_owned();
    assert_eq!(
        sign_upload(&courier, &[("cookie", &session)]).await.status(),
        StatusCode::OK
    );
    // The plain name, which any page of a sibling host could set, is not read.
    let plain = session.replacen("__Host-", "", 1);
    assert_eq!(
        sign_upload(&courier, &[("cookie", &plain)]).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

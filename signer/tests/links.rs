//! Grants and tokens for public links and deletes, where no store is needed:
//! which prefix each kind of grant pins, the refusal when public links are
//! off, public URLs, and who may delete.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use signer::credentials::CredentialSource;
use signer::object_key::ObjectKey;
use signer::seal::Seal;
use signer::token::{TokenScope, TokenSecret, UploadToken};
use signer::{
    Encryption, FileRules, Limits, LinkKind, LinkSettings, OffsetDateTime, SignError, Signer, Store, UploadRequest,
};

const FILE: &str = "public/files/0123456789abcdef0123456789abcdef/holiday photo.jpg";

fn signer(links: LinkSettings) -> Signer {
    signer_with(links, Encryption::Optional)
}

fn signer_with(links: LinkSettings, encryption: Encryption) -> Signer {
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(credentials.clone())
            .force_path_style(true)
            .build(),
    );
    let store = Store {
        client,
        bucket: "courier".to_owned(),
        post_url: "http://127.0.0.1:9/courier".to_owned(),
        credentials: CredentialSource::new(SharedCredentialsProvider::new(credentials), "us-east-1"),
    };
    let limits = Limits {
        rules: FileRules {
            max_bytes: 1024,
            allowed_types: Vec::new(),
        },
        parallel_uploads: 3,
        upload_ttl: Duration::from_secs(600),
        download_ttl: Duration::from_secs(3600),
        renew_ttl: Duration::from_secs(86400),
        owner_token_window: Duration::from_secs(signer::DEFAULT_OWNER_TOKEN_WINDOW_SECS),
        multipart: signer::MultipartSettings::default(),
        shares: signer::ShareLimits::default(),
        links,
        encryption,
    };
    let url = url::Url::parse("http://127.0.0.1:3000/").expect("a URL");
    Signer::new(store, secret(), &url, limits).expect("a bucket URL")
}

fn secret() -> TokenSecret {
    TokenSecret::new(vec![7u8; 32]).expect("32 bytes")
}

fn public_on() -> LinkSettings {
    LinkSettings {
        default: LinkKind::Expiring,
        public: true,
        public_base_url: None,
    }
}

fn request(link: LinkKind) -> UploadRequest {
    UploadRequest {
        filename: "holiday photo.jpg".to_owned(),
        content_type: "image/jpeg".to_owned(),
        size: 10,
        link,
        seal: None,
    }
}

/// A well-formed seal (FORMAT.md), as a browser would send it.
fn sealed(link: LinkKind) -> UploadRequest {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let json = format!(
        r#"{{"v":1,"auth":"{}","meta":"{}","kdf":null}}"#,
        b64(&[7; 32]),
        b64(&[1; 12 + 16 + 256])
    );
    UploadRequest {
        seal: Some(Seal::parse(&b64(json.as_bytes())).expect("a good seal")),
        ..request(link)
    }
}

/// The policy's conditions, decoded.
fn conditions(fields: &signer::FormFields) -> String {
    use base64::Engine as _;
    let policy = base64::engine::general_purpose::STANDARD
        .decode(&fields["policy"])
        .expect("base64");
    String::from_utf8(policy).expect("utf-8")
}

#[tokio::test]
async fn each_grant_pins_its_own_prefix() {
    let signer = signer(public_on());
    let now = OffsetDateTime::now_utc();
    let public = signer
        .grant_upload(request(LinkKind::Public), now)
        .await
        .expect("a grant");
    assert!(public.key.starts_with("public/uploads/"), "{}", public.key);
    assert!(conditions(&public.fields).contains(&format!("{{\"key\":\"{}\"}}", public.key)));
    // A public file carries its own download name, as no signed link adds one.
    assert_eq!(
        public.fields["Content-Disposition"],
        "attachment; filename=\"holiday photo.jpg\"; filename*=UTF-8''holiday%20photo.jpg"
    );
    let private = signer
        .grant_upload(request(LinkKind::Expiring), now)
        .await
        .expect("a grant");
    assert!(private.key.starts_with("uploads/"), "{}", private.key);
    assert!(!private.fields.contains_key("Content-Disposition"));

    let form = signer.grant_form(LinkKind::Public, now).await.expect("a grant");
    let policy = conditions(&form.fields);
    assert!(
        policy.contains("[\"starts-with\",\"$key\",\"public/uploads/"),
        "{policy}"
    );
    let form = signer.grant_form(LinkKind::Expiring, now).await.expect("a grant");
    assert!(conditions(&form.fields).contains("[\"starts-with\",\"$key\",\"uploads/"));
    // Both stay private objects: readability comes from the prefix.
    assert_eq!(form.fields["acl"], "private");
}

#[tokio::test]
async fn public_grants_are_refused_when_public_links_are_off() {
    let off = signer(LinkSettings::default());
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        off.grant_upload(request(LinkKind::Public), now).await.err(),
        Some(SignError::PublicLinksOff)
    );
    assert_eq!(
        off.grant_form(LinkKind::Public, now).await.err(),
        Some(SignError::PublicLinksOff)
    );
    let settings = off.page_settings();
    assert!(!settings.public_links);
    // A default of "public" with public links off still offers expiring links.
    let default_public = signer(LinkSettings {
        default: LinkKind::Public,
        public: false,
        public_base_url: None,
    });
    assert_eq!(default_public.page_settings().default_link, LinkKind::Expiring);
}

#[tokio::test]
async fn an_encrypted_file_is_stored_under_no_name_of_its_own() {
    let signer = signer(public_on());
    let now = OffsetDateTime::now_utc();
    let grant = signer
        .grant_upload(sealed(LinkKind::Expiring), now)
        .await
        .expect("a grant");
    assert!(grant.key.ends_with("/encrypted"), "{}", grant.key);
    assert_eq!(grant.fields["Content-Type"], "application/octet-stream");
    assert_eq!(grant.fields["x-amz-meta-filename"], "encrypted");
    let policy = conditions(&grant.fields);
    assert!(!policy.contains("holiday"), "{policy}");
    assert!(policy.contains("x-amz-meta-courier-seal"), "{policy}");
    assert_eq!(
        signer.grant_upload(sealed(LinkKind::Public), now).await.err(),
        Some(SignError::SealedPublic)
    );
}

#[tokio::test]
async fn the_operator_decides_whether_files_are_encrypted() {
    let now = OffsetDateTime::now_utc();
    let always = signer_with(public_on(), Encryption::Always);
    assert_eq!(
        always.grant_upload(request(LinkKind::Expiring), now).await.err(),
        Some(SignError::EncryptionRequired)
    );
    // The plain form cannot encrypt.
    assert_eq!(
        always.grant_form(LinkKind::Expiring, now).await.err(),
        Some(SignError::EncryptionRequired)
    );
    assert!(always.grant_upload(sealed(LinkKind::Expiring), now).await.is_ok());
    assert_eq!(always.page_settings().encryption, Encryption::Always);

    let off = signer_with(public_on(), Encryption::Off);
    assert_eq!(
        off.grant_upload(sealed(LinkKind::Expiring), now).await.err(),
        Some(SignError::EncryptionOff)
    );
    assert!(off.grant_upload(request(LinkKind::Expiring), now).await.is_ok());
}

#[test]
fn public_urls_follow_the_base_and_encode_the_key() {
    let key = ObjectKey::parse(FILE).expect("a key");
    assert_eq!(
        signer(public_on()).public_url(&key),
        "http://127.0.0.1:9/courier/public/files/0123456789abcdef0123456789abcdef/holiday%20photo.jpg"
    );
    let cdn = signer(LinkSettings {
        public_base_url: Some(url::Url::parse("https://cdn.example.com/files").expect("a URL")),
        ..public_on()
    });
    assert_eq!(
        cdn.public_url(&key),
        "https://cdn.example.com/files/public/files/0123456789abcdef0123456789abcdef/holiday%20photo.jpg"
    );
}

#[tokio::test]
async fn only_the_owners_token_for_that_file_deletes() {
    let signer = signer(public_on());
    let now = OffsetDateTime::now_utc();
    let later = now + Duration::from_secs(600);
    let other = "public/files/fedcba9876543210fedcba9876543210/holiday photo.jpg";
    let owners = UploadToken::issue(&secret(), TokenScope::Renewal, other, later);
    // Another file's token, an upload token, an expired one, a forged one:
    // each refused before the store is asked (it is not even reachable here).
    assert_eq!(
        signer.delete(FILE, &owners, now).await.err(),
        Some(SignError::NotThisFile)
    );
    let upload = UploadToken::issue(&secret(), TokenScope::Key, FILE, later);
    assert_eq!(
        signer.delete(FILE, &upload, now).await.err(),
        Some(SignError::NotDeletable)
    );
    let expired = UploadToken::issue(&secret(), TokenScope::Renewal, FILE, now);
    assert_eq!(
        signer.delete(FILE, &expired, now).await.err(),
        Some(SignError::PermissionExpired)
    );
    let forged = UploadToken::issue(
        &TokenSecret::new(vec![8u8; 32]).expect("32 bytes"),
        TokenScope::Renewal,
        FILE,
        later,
    );
    assert_eq!(
        signer.delete(FILE, &forged, now).await.err(),
        Some(SignError::NotThisFile)
    );
    let pending = "public/uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/holiday photo.jpg";
    let renewal = UploadToken::issue(&secret(), TokenScope::Renewal, pending, later);
    assert_eq!(
        signer.delete(pending, &renewal, now).await.err(),
        Some(SignError::NotDeletable)
    );
}

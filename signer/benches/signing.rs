//! The signing core's hot paths, in-process: what one `sign_upload` and one
//! download link cost before any HTTP. `make bench` reads the results (and
//! puts them next to boto3's and the AWS SDK for JavaScript's). The SDK's own
//! presigner runs here too, as the reference our presigned GET replaced.

use std::hint::black_box;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use criterion::{Criterion, criterion_group, criterion_main};
use signer::credentials::{CredentialSource, SigningIdentity};
use signer::object_key::ObjectKey;
use signer::post_policy::{PostPolicy, SigningCredentials};
use signer::presign::{BucketUrl, GetObject, presign_get};
use signer::token::{TokenScope, TokenSecret, UploadToken};
use signer::{FileRules, Limits, LinkKind, LinkSettings, OffsetDateTime, Signer, Store, UploadRequest};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ENDPOINT: &str = "http://127.0.0.1:9000";
const BUCKET: &str = "courier";
const REGION: &str = "us-east-1";
const KEY: &str = "files/0123456789abcdef0123456789abcdef/holiday photo.jpg";
const DISPOSITION: &str = "attachment; filename=\"holiday photo.jpg\"; filename*=UTF-8''holiday%20photo.jpg";

fn client() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(ENDPOINT)
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn signer() -> Signer {
    let provider = SharedCredentialsProvider::new(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench"));
    let store = Store {
        client: client(),
        bucket: BUCKET.to_owned(),
        post_url: format!("{ENDPOINT}/{BUCKET}"),
        credentials: CredentialSource::new(provider, REGION),
    };
    let limits = Limits {
        rules: FileRules {
            max_bytes: 100 * 1024 * 1024,
            allowed_types: Vec::new(),
        },
        parallel_uploads: 3,
        upload_ttl: Duration::from_secs(15 * 60),
        download_ttl: Duration::from_secs(24 * 3600),
        renew_ttl: Duration::from_secs(7 * 24 * 3600),
        owner_token_window: Duration::from_secs(signer::DEFAULT_OWNER_TOKEN_WINDOW_SECS),
        multipart: signer::MultipartSettings::default(),
        shares: signer::ShareLimits::default(),
        links: LinkSettings::default(),
        encryption: signer::Encryption::default(),
    };
    let secret = TokenSecret::new(vec![7u8; 32]).expect("a 32-byte secret");
    let public_url = url::Url::parse("http://127.0.0.1:3000/").expect("a URL");
    Signer::new(store, secret, &public_url, limits).expect("a bucket URL")
}

/// The SDK's retry layer sleeps, so the runtime needs a clock.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
}

fn identity() -> SigningIdentity {
    let credentials = SigningCredentials {
        access_key_id: ACCESS_KEY.to_owned(),
        secret_access_key: SECRET_KEY.to_owned(),
        session_token: None,
    };
    SigningIdentity::new(&credentials, REGION)
}

fn upload_grant(c: &mut Criterion) {
    let runtime = runtime();
    let signer = signer();
    c.bench_function("grant_upload", |b| {
        b.iter(|| {
            let request = UploadRequest {
                filename: "holiday photo.jpg".to_owned(),
                content_type: "image/jpeg".to_owned(),
                size: 3_500_000,
                link: LinkKind::Expiring,
                seal: None,
            };
            runtime
                .block_on(signer.grant_upload(black_box(request), OffsetDateTime::now_utc()))
                .expect("a grant")
        })
    });
}

fn post_policy(c: &mut Criterion) {
    let identity = identity();
    c.bench_function("post_policy", |b| {
        b.iter(|| {
            let now = OffsetDateTime::now_utc();
            PostPolicy::builder(BUCKET, now + Duration::from_secs(900))
                .field("key", black_box("uploads/0b7a3f0e-8d52-4c52-9e0e-9a3c1c1b2d4e/holiday photo.jpg"))
                .field("Content-Type", "image/jpeg")
                .field("acl", "private")
                .field("success_action_redirect", "http://127.0.0.1:3000/confirm-upload?token=k.1764370000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .field("x-amz-meta-filename", "holiday%20photo%2Ejpg")
                .content_length_range(3_500_000, 3_500_000)
                .sign(&identity, now)
        })
    });
}

fn presigned_get(c: &mut Criterion) {
    let identity = identity();
    let bucket = BucketUrl::parse(&format!("{ENDPOINT}/{BUCKET}")).expect("a bucket URL");
    c.bench_function("presign_get", |b| {
        b.iter(|| {
            let get = GetObject {
                key: black_box(KEY),
                cache_control: None,
                content_disposition: Some(DISPOSITION),
                expires_in: Duration::from_secs(24 * 3600),
            };
            presign_get(&identity, &bucket, get, OffsetDateTime::now_utc())
        })
    });

    let runtime = runtime();
    let client = client();
    c.bench_function("presign_get_aws_sdk", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let config = PresigningConfig::expires_in(Duration::from_secs(24 * 3600)).expect("a TTL");
                client
                    .get_object()
                    .bucket(BUCKET)
                    .key(black_box(KEY))
                    .response_content_disposition(DISPOSITION)
                    .presigned(config)
                    .await
                    .expect("a presigned GET")
                    .uri()
                    .to_owned()
            })
        })
    });
}

fn token_verify(c: &mut Criterion) {
    let secret = TokenSecret::new(vec![7u8; 32]).expect("a 32-byte secret");
    let key = ObjectKey::parse(KEY).expect("a key");
    let now = OffsetDateTime::now_utc();
    let token = UploadToken::issue(&secret, TokenScope::Renewal, KEY, now + Duration::from_secs(3600));
    c.bench_function("token_verify", |b| {
        b.iter(|| UploadToken::verify(&secret, black_box(&token), &key, now).expect("a valid token"))
    });
}

criterion_group!(signing, upload_grant, post_policy, presigned_get, token_verify);
criterion_main!(signing);

//! A fake Courier and store on 127.0.0.1:0: the `e2e` routes, the server
//! functions `courier send` calls, a POST and part PUTs to the store, and
//! the confirmation. Objects are kept in memory.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Form, Json, Router};
use base64::Engine;
use courier_format::{Keys, Layout, Metadata, Seal, Secret, seal_records};
use sha2::{Digest, Sha256};
use wire::seal::{KeyProof, SealedDownload, SealedFile, SealedShare, sealed_part_size};
use wire::{
    DownloadLink, FileRules, FormFields, FormGrant, LinkKind, MultipartGrant, MultipartUpload, PageSettings, PartUrl,
    ShareLink, ShareState, UploadGrant,
};

/// Objects at least this large go up in parts.
pub const MULTIPART_THRESHOLD: u64 = 1024 * 1024;

#[derive(Clone)]
pub struct StoredFile {
    pub seal: Seal,
    pub object: Vec<u8>,
    /// What the store serves instead of `object` (damaged, cut short),
    /// while Courier still reports `object`'s size.
    pub served: Option<Vec<u8>>,
}

#[derive(Default)]
struct Uploading {
    seal: String,
    size: u64,
    parts: HashMap<u32, Vec<u8>>,
    signed: HashMap<u32, Option<String>>,
}

#[derive(Default)]
pub struct Counts {
    pub posts: u32,
    pub part_puts: u32,
    pub aborts: u32,
    /// Server function calls, and those that carried the API token.
    pub api_calls: u32,
    pub api_calls_with_token: u32,
}

#[derive(Default)]
struct Inner {
    shares: HashMap<String, Vec<StoredFile>>,
    nonces: HashSet<String>,
    uploads: HashMap<String, Uploading>,
    next: u32,
    counts: Counts,
    /// The API token every server function asks for, if any.
    token: Option<String>,
}

#[derive(Clone)]
pub struct Fake {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl Fake {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A Courier whose server functions answer 401 without `token`, as
    /// Courier does for a missing or revoked API token.
    pub async fn start_with_token(token: &str) -> Self {
        Self::start_with(Some(token.to_owned())).await
    }

    async fn start_with(token: Option<String>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let fake = Self {
            base,
            inner: Arc::new(Mutex::new(Inner {
                token,
                ..Inner::default()
            })),
        };
        let app = Router::new()
            .route("/s/{id}/e2e", get(sealed_share))
            .route("/s/{id}/{number}/e2e", post(prove))
            .route("/store/{id}/{number}", get(object))
            .route("/api/sign_upload_form", post(sign_upload_form))
            .route("/api/sign_upload", post(sign_upload))
            .route("/store-post", post(store_post))
            .route("/confirm-upload", get(confirm))
            .route("/api/start_multipart", post(start_multipart))
            .route("/api/sign_parts", post(sign_parts))
            .route("/store-part/{upload}/{number}", put(store_part))
            .route("/api/complete_multipart", post(complete_multipart))
            .route("/api/abort_multipart", post(abort_multipart))
            .layer(axum::middleware::from_fn_with_state(fake.clone(), api_token))
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        fake
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A share of `files` under `id`.
    pub fn add_share(&self, id: &str, files: Vec<StoredFile>) {
        self.lock().shares.insert(id.to_owned(), files);
    }

    pub fn share(&self, id: &str) -> Option<Vec<StoredFile>> {
        self.lock().shares.get(id).cloned()
    }

    /// Server function calls, and how many carried the API token.
    pub fn api_calls(&self) -> (u32, u32) {
        let inner = self.lock();
        (inner.counts.api_calls, inner.counts.api_calls_with_token)
    }

    pub fn counts(&self) -> (u32, u32, u32) {
        let inner = self.lock();
        (inner.counts.posts, inner.counts.part_puts, inner.counts.aborts)
    }

    fn new_share(&self, seal: &str, object: Vec<u8>) -> Result<DownloadLink, Box<Response>> {
        let seal = Seal::decode(seal).map_err(|error| Box::new(refuse(StatusCode::BAD_REQUEST, &error.to_string())))?;
        let mut inner = self.lock();
        inner.next += 1;
        let id = format!("Share{:017}", inner.next);
        let size = object.len() as u64;
        inner.shares.insert(
            id.clone(),
            vec![StoredFile {
                seal,
                object,
                served: None,
            }],
        );
        Ok(DownloadLink {
            key: format!("files/{id}/encrypted"),
            filename: "encrypted".to_owned(),
            size,
            content_type: "application/octet-stream".to_owned(),
            etag: "etag".to_owned(),
            download_url: format!("{}/store/{id}/1", self.base),
            expires_at: None,
            link: LinkKind::Expiring,
            token: "owner".to_owned(),
            share: Some(ShareLink {
                url: format!("{}/s/{id}", self.base),
                id,
                state: ShareState::Live,
                expires_at: None,
                max_downloads: None,
                password: false,
                encrypted: true,
                files: Vec::new(),
                token: "sender".to_owned(),
            }),
            seal: None,
        })
    }
}

/// What a sender makes of `plaintext`: its secret and the stored file.
pub fn sealed_file(plaintext: &[u8], name: &str, password: Option<&str>) -> (Secret, StoredFile) {
    let secret = Secret::generate().expect("random");
    let kdf = password.map(|_| courier_format::Kdf::generate().expect("random"));
    let keys = Keys::derive(&secret, password.zip(kdf.as_ref()));
    let layout = Layout::new(plaintext.len() as u64);
    let object = seal_records(&keys, 0, layout.records(), plaintext).expect("seals");
    let metadata = Metadata {
        name: name.to_owned(),
        content_type: String::new(),
        size: plaintext.len() as u64,
    };
    let seal = Seal::new(&keys, metadata.seal(&keys).expect("seals"), kdf.as_ref());
    (
        secret,
        StoredFile {
            seal,
            object,
            served: None,
        },
    )
}

fn refuse(status: StatusCode, sentence: &str) -> Response {
    (status, Json(serde_json::json!({ "error": sentence }))).into_response()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

async fn sealed_share(State(fake): State<Fake>, Path(id): Path<String>) -> Response {
    if id == "GoneGoneGoneGoneGoneGo" {
        return refuse(StatusCode::GONE, "The sender took this link back.");
    }
    let mut inner = fake.lock();
    let Some(files) = inner.shares.get(&id) else {
        return refuse(StatusCode::NOT_FOUND, "There is no such share.");
    };
    let files = files
        .iter()
        .zip(1..)
        .map(|(file, number)| SealedFile {
            number,
            size: file.object.len() as u64,
            meta: file.seal.meta.clone(),
            kdf: file.seal.kdf.as_ref().map(courier_format::Kdf::to_wire),
        })
        .collect();
    inner.next += 1;
    let nonce = format!("nonce-{}", inner.next);
    inner.nonces.insert(nonce.clone());
    Json(SealedShare { nonce, files }).into_response()
}

async fn prove(
    State(fake): State<Fake>,
    Path((id, number)): Path<(String, usize)>,
    Json(proof): Json<KeyProof>,
) -> Response {
    let inner = fake.lock();
    let Some(file) = inner
        .shares
        .get(&id)
        .and_then(|files| files.get(number.wrapping_sub(1)))
    else {
        return refuse(StatusCode::NOT_FOUND, "There is no such file.");
    };
    if !inner.nonces.contains(&proof.nonce) || !file.seal.verify_proof(&proof.nonce, &proof.proof) {
        return refuse(StatusCode::UNAUTHORIZED, "The key or the password is wrong.");
    }
    Json(SealedDownload {
        url: format!("{}/store/{id}/{number}", fake.base),
        expires_at: "2030-01-01T00:00:00Z".to_owned(),
        renew: String::new(),
    })
    .into_response()
}

async fn object(State(fake): State<Fake>, Path((id, number)): Path<(String, usize)>) -> Response {
    match fake
        .share(&id)
        .and_then(|files| files.get(number.wrapping_sub(1)).cloned())
    {
        Some(file) => file.served.unwrap_or(file.object).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The sentence Courier answers a server function's call without its token with.
pub const TOKEN_REFUSAL: &str = "This Courier takes uploads with an API token only: give yours with COURIER_TOKEN.";

/// Counts the server functions' calls, and refuses those without the
/// token where one is asked for.
async fn api_token(
    State(fake): State<Fake>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let allowed = {
        let mut inner = fake.lock();
        inner.counts.api_calls += 1;
        let carried = bearer.is_some() && bearer == inner.token;
        if carried {
            inner.counts.api_calls_with_token += 1;
        }
        carried || inner.token.is_none()
    };
    if !allowed {
        return refuse(StatusCode::UNAUTHORIZED, TOKEN_REFUSAL);
    }
    next.run(request).await
}

async fn sign_upload_form(State(fake): State<Fake>) -> Response {
    Json(FormGrant {
        grant: UploadGrant {
            url: format!("{}/store-post", fake.base),
            fields: FormFields::default(),
            key: "uploads/${filename}".to_owned(),
            expires_at: "2030-01-01T00:00:00Z".to_owned(),
        },
        link: LinkKind::Expiring,
        settings: PageSettings {
            rules: FileRules {
                max_bytes: 1 << 40,
                allowed_types: Vec::new(),
            },
            parallel_uploads: 2,
            default_link: LinkKind::Expiring,
            public_links: false,
            multipart_threshold: MULTIPART_THRESHOLD,
            parallel_parts: 2,
            part_checksums: true,
            encryption: wire::seal::Encryption::Optional,
            request: None,
        },
    })
    .into_response()
}

/// Courier's side of a sealed upload: a seal, and the object's size.
fn sealed_request(fields: &[(String, String)]) -> Result<(String, u64), Box<Response>> {
    let seal = field(fields, "seal").ok_or_else(|| Box::new(refuse(StatusCode::BAD_REQUEST, "no seal")))?;
    Seal::decode(seal).map_err(|error| Box::new(refuse(StatusCode::BAD_REQUEST, &error.to_string())))?;
    let size = field(fields, "size")
        .and_then(|size| size.parse().ok())
        .ok_or_else(|| Box::new(refuse(StatusCode::BAD_REQUEST, "no size")))?;
    if wire::seal::plain_size(size).is_none() {
        return Err(Box::new(refuse(StatusCode::BAD_REQUEST, "not an object's size")));
    }
    Ok((seal.to_owned(), size))
}

async fn sign_upload(State(fake): State<Fake>, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let (seal, size) = match sealed_request(&fields) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let mut inner = fake.lock();
    inner.next += 1;
    let key = format!("files/{}/encrypted", inner.next);
    inner.uploads.insert(
        key.clone(),
        Uploading {
            seal,
            size,
            ..Uploading::default()
        },
    );
    let mut form_fields = FormFields::default();
    form_fields.insert("key", key.clone());
    form_fields.insert("policy", "a \"policy\"; signed");
    Json(UploadGrant {
        url: format!("{}/store-post", fake.base),
        fields: form_fields,
        key,
        expires_at: "2030-01-01T00:00:00Z".to_owned(),
    })
    .into_response()
}

async fn store_post(State(fake): State<Fake>, mut form: Multipart) -> Response {
    let mut key = None;
    let mut policy = false;
    while let Ok(Some(part)) = form.next_field().await {
        let name = part.name().unwrap_or_default().to_owned();
        let Ok(value) = part.bytes().await else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        match name.as_str() {
            "key" => key = Some(String::from_utf8_lossy(&value).into_owned()),
            "policy" => policy = value.as_ref() == b"a \"policy\"; signed",
            "file" => {
                let Some(key) = key.clone().filter(|_| policy) else {
                    return (StatusCode::FORBIDDEN, "fields must come before the file").into_response();
                };
                let mut inner = fake.lock();
                inner.counts.posts += 1;
                let Some(upload) = inner.uploads.get_mut(&key) else {
                    return StatusCode::FORBIDDEN.into_response();
                };
                if value.len() as u64 != upload.size {
                    return (StatusCode::BAD_REQUEST, "EntityTooLarge or too small").into_response();
                }
                upload.parts.insert(1, value.to_vec());
                let location = format!("{}/confirm-upload?key={key}", fake.base);
                return (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
            }
            _ => {}
        }
    }
    StatusCode::BAD_REQUEST.into_response()
}

#[derive(serde::Deserialize)]
struct ConfirmQuery {
    key: String,
}

async fn confirm(State(fake): State<Fake>, headers: HeaderMap, Query(query): Query<ConfirmQuery>) -> Response {
    let json = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.starts_with("application/json"));
    if !json {
        return "a page".into_response();
    }
    let upload = fake.lock().uploads.remove(&query.key);
    let Some(mut upload) = upload else {
        return refuse(StatusCode::NOT_FOUND, "no such upload");
    };
    let object = upload.parts.remove(&1).unwrap_or_default();
    match fake.new_share(&upload.seal, object) {
        Ok(link) => Json(link).into_response(),
        Err(refusal) => *refusal,
    }
}

async fn start_multipart(State(fake): State<Fake>, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let (seal, size) = match sealed_request(&fields) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    let mut inner = fake.lock();
    inner.next += 1;
    let upload_id = format!("upload-{}", inner.next);
    inner.uploads.insert(
        upload_id.clone(),
        Uploading {
            seal,
            size,
            ..Uploading::default()
        },
    );
    Json(MultipartGrant {
        upload: MultipartUpload {
            key: format!("files/{upload_id}/encrypted"),
            upload_id,
            size,
            part_size: sealed_part_size(size),
            token: "token".to_owned(),
        },
        expires_at: "2030-01-01T00:00:00Z".to_owned(),
    })
    .into_response()
}

fn upload_of(fields: &[(String, String)]) -> Option<MultipartUpload> {
    Some(MultipartUpload {
        key: field(fields, "upload[key]")?.to_owned(),
        upload_id: field(fields, "upload[upload_id]")?.to_owned(),
        size: field(fields, "upload[size]")?.parse().ok()?,
        part_size: field(fields, "upload[part_size]")?.parse().ok()?,
        token: field(fields, "upload[token]")?.to_owned(),
    })
}

async fn sign_parts(State(fake): State<Fake>, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let Some(upload) = upload_of(&fields) else {
        return refuse(StatusCode::BAD_REQUEST, "no upload");
    };
    let mut inner = fake.lock();
    let Some(uploading) = inner.uploads.get_mut(&upload.upload_id) else {
        return refuse(StatusCode::NOT_FOUND, "no such upload");
    };
    let mut urls = Vec::new();
    for i in 0.. {
        let Some(number) = field(&fields, &format!("parts[{i}][number]")).and_then(|n| n.parse::<u32>().ok()) else {
            break;
        };
        let Some(size) = upload.part_len(number) else {
            return refuse(StatusCode::BAD_REQUEST, "no such part");
        };
        let sha256 = field(&fields, &format!("parts[{i}][sha256]")).map(str::to_owned);
        uploading.signed.insert(number, sha256);
        urls.push(PartUrl {
            number,
            size,
            url: format!("{}/store-part/{}/{number}", fake.base, upload.upload_id),
            expires_at: "2030-01-01T00:00:00Z".to_owned(),
        });
    }
    Json(urls).into_response()
}

async fn store_part(
    State(fake): State<Fake>,
    Path((upload_id, number)): Path<(String, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = fake.lock();
    inner.counts.part_puts += 1;
    let Some(uploading) = inner.uploads.get_mut(&upload_id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(signed) = uploading.signed.get(&number) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let sent = headers.get("x-amz-checksum-sha256").and_then(|v| v.to_str().ok());
    let actual = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body));
    if signed.as_deref() != sent || sent != Some(actual.as_str()) {
        return (StatusCode::BAD_REQUEST, "<Error><Code>BadDigest</Code></Error>").into_response();
    }
    uploading.parts.insert(number, body.to_vec());
    StatusCode::OK.into_response()
}

async fn complete_multipart(State(fake): State<Fake>, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let Some(upload) = upload_of(&fields) else {
        return refuse(StatusCode::BAD_REQUEST, "no upload");
    };
    let Some(mut uploading) = fake.lock().uploads.remove(&upload.upload_id) else {
        return refuse(StatusCode::NOT_FOUND, "no such upload");
    };
    let mut object = Vec::new();
    for number in 1..=upload.part_count() {
        match uploading.parts.remove(&number) {
            Some(part) => object.extend(part),
            None => return refuse(StatusCode::BAD_REQUEST, "a part is missing"),
        }
    }
    if object.len() as u64 != uploading.size {
        return refuse(StatusCode::BAD_REQUEST, "the parts are not the object's size");
    }
    match fake.new_share(&uploading.seal, object) {
        Ok(link) => Json(link).into_response(),
        Err(refusal) => *refusal,
    }
}

async fn abort_multipart(State(fake): State<Fake>, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let mut inner = fake.lock();
    inner.counts.aborts += 1;
    if let Some(upload) = upload_of(&fields) {
        inner.uploads.remove(&upload.upload_id);
    }
    Json(()).into_response()
}

//! The server functions the page calls. Their bodies run on the server only;
//! the page calls them as `wire::endpoint` names and encodes them (a
//! form-encoded POST to `/api/<name>`, through `crate::browser`'s `calls`,
//! written out to keep the generated client out of the bundle) and reads
//! the JSON answer with [`crate::json`] (the browser's own parser, not
//! `serde_json`). Each function answers with its refusal's status and
//! reports what it did itself ([`answer`]).

#[cfg(feature = "ssr")]
mod answer;
#[cfg(feature = "ssr")]
mod budgets;
mod refusals;
#[cfg(feature = "ssr")]
pub mod requests;
#[cfg(feature = "ssr")]
pub mod sharing;

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use answer::logged;
#[cfg(feature = "ssr")]
pub use answer::{CallReport, Reported, answered};

use crate::error::CourierError;
use crate::json::JsonCodec;
use crate::model::{DownloadLink, FormGrant, LinkKind, UploadGrant};
use crate::multipart::{MultipartGrant, MultipartUpload, PartToSign, PartUrl, StoredPart};
use crate::request::{RequestLink, RequestRef, RequestRules};
use crate::share::{RuleChange, ShareLink, ShareRef};

/// JSON in the response body, as `Json` writes it; read without `serde_json`.
type JsonOut = leptos::server_fn::codec::Post<JsonCodec>;

/// Signs a POST policy for one file: `filename`, `content_type` and `size`
/// as the browser reports them, and the `link` it is to get (the page's
/// default when left out). With `request`, for a file request's page: the
/// file goes to the request's maker, within its room.
#[server(endpoint = "sign_upload", output = JsonOut)]
pub async fn sign_upload(
    filename: String,
    content_type: String,
    size: u64,
    link: Option<LinkKind>,
    seal: Option<String>,
    request: Option<String>,
) -> Result<UploadGrant, CourierError> {
    let signer = signer()?;
    let uploader = admitted(request.as_deref())?;
    let upload = upload_request(&signer, filename, content_type, size, link, seal, request.is_some())?;
    let link = upload.link;
    // A POST counts against the storage budget until its policy expires.
    let held = budgets::Held::for_grant(&signer, uploader.as_ref(), &upload, signer.upload_ttl()).await?;
    let now = signer::OffsetDateTime::now_utc();
    let grant = logged(signer.grant_upload(upload, now).await)?;
    if let Some(id) = &request {
        // Held past the policy's end by the longest a POST begun at its
        // last moment could take to arrive.
        let until = now + signer.upload_ttl() + requests::ARRIVAL_MARGIN;
        refused(requests::hold(&shares()?, id, &grant.key, size, until, now).await)?;
    }
    held.keep();
    answer::granted(link);
    Ok(grant)
}

/// A fresh download link for a file uploaded earlier, for the holder of its token.
#[server(endpoint = "sign_download", output = JsonOut)]
pub async fn sign_download(key: String, token: String) -> Result<DownloadLink, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    let mut link = logged(signer.renew(&key, &token, now).await)?;
    // With its share (made now for a file confirmed before shares existed).
    refused(sharing::share_confirmed(&shares()?, &signer, &mut link, &key, now).await)?;
    Ok(link)
}

/// Deletes a file for its owner (the holder of the token its link came
/// with); afterwards its links answer 404.
#[server(endpoint = "delete_upload", output = JsonOut)]
pub async fn delete_upload(key: String, token: String) -> Result<(), CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    logged(signer.delete(&key, &token, now).await)?;
    // Its share goes with it: the page says the sender took it back.
    refused(sharing::file_deleted(&shares()?, &key, now).await)
}

/// The page's form: the policy the plain HTML form carries (any file name
/// under a per-page prefix, for `link`, or the default one) and the settings
/// every upload from the page shares. Not charged to the upload budget: it
/// declares no size (any file up to the multipart threshold), and the page
/// that carries it is rate limited.
#[server(endpoint = "sign_upload_form", output = JsonOut)]
pub async fn sign_upload_form(link: Option<LinkKind>, request: Option<String>) -> Result<FormGrant, CourierError> {
    let signer = signer()?;
    admitted(request.as_deref())?;
    let mut settings = signer.page_settings();
    let mut link = link;
    if let Some(id) = &request {
        let db = shares()?;
        let page = requests::page(&db, &signer, id, signer::OffsetDateTime::now_utc()).await;
        let page = refused(page)?;
        // The page checks each file against what the request still takes,
        // before it asks, as it does against the largest file allowed.
        settings.rules.max_bytes = settings.rules.max_bytes.min(page.bytes_left);
        settings.request = Some(page);
        // A request's files go to its maker's share, as they are.
        settings.public_links = false;
        settings.default_link = LinkKind::Expiring;
        settings.encryption = wire::seal::Encryption::Off;
        link = Some(LinkKind::Expiring);
    }
    // A page asked for a public form where public links are off gets the
    // expiring one (and says which it is); grants themselves refuse.
    let link = match link {
        Some(LinkKind::Public) if !settings.public_links => LinkKind::Expiring,
        Some(link) => link,
        None => settings.default_link,
    };
    // Where every file is encrypted, the plain form (which cannot) gets no
    // grant, nor where a storage budget is kept (it declares no size, and
    // takes any number of files): the page says so instead.
    let plain_form_off = settings.encryption == wire::seal::Encryption::Always
        || settings.request.is_some()
        || use_context::<std::sync::Arc<signer::storage_budget::StorageBudget>>().is_some();
    let grant = if plain_form_off {
        UploadGrant {
            url: String::new(),
            fields: wire::FormFields::default(),
            key: String::new(),
            expires_at: String::new(),
        }
    } else {
        logged(signer.grant_form(link, signer::OffsetDateTime::now_utc()).await)?
    };
    Ok(FormGrant { grant, link, settings })
}

/// Starts a multipart upload for one large file (same arguments and rules
/// as `sign_upload`): the upload the other multipart calls name. Its whole
/// declared size is charged to the client's budget here, at its start.
#[server(endpoint = "start_multipart", output = JsonOut)]
pub async fn start_multipart(
    filename: String,
    content_type: String,
    size: u64,
    link: Option<LinkKind>,
    seal: Option<String>,
    request: Option<String>,
) -> Result<MultipartGrant, CourierError> {
    let signer = signer()?;
    let uploader = admitted(request.as_deref())?;
    let upload = upload_request(&signer, filename, content_type, size, link, seal, request.is_some())?;
    // Counted against the budgets from its start to its end.
    let held = budgets::Held::for_grant(&signer, uploader.as_ref(), &upload, signer::multipart::MULTIPART_TTL).await?;
    let now = signer::OffsetDateTime::now_utc();
    let grant = logged(signer.start_multipart(upload, now).await)?;
    if let Some(id) = &request {
        let until = now + signer::multipart::MULTIPART_TTL + requests::ARRIVAL_MARGIN;
        let db = shares()?;
        if let Err(refusal) = requests::hold(&db, id, &grant.upload.key, size, until, now).await {
            // Nothing of it stays in the store.
            if let Err(error) = signer.abort_multipart(&grant.upload, now).await {
                tracing::warn!(%error, "an upload a file request refused could not be aborted");
            }
            return refused(Err(refusal));
        }
    }
    held.keep_for_upload(&grant.upload.upload_id);
    Ok(grant)
}

/// Presigned PUTs for some of an upload's parts, each for its exact length
/// and the MD5 given for it.
#[server(endpoint = "sign_parts", output = JsonOut)]
pub async fn sign_parts(upload: MultipartUpload, parts: Vec<PartToSign>) -> Result<Vec<PartUrl>, CourierError> {
    let signer = signer()?;
    logged(
        signer
            .sign_parts(&upload, &parts, signer::OffsetDateTime::now_utc())
            .await,
    )
}

/// The parts the store already holds (to resume an upload).
#[server(endpoint = "list_parts", output = JsonOut)]
pub async fn list_parts(upload: MultipartUpload) -> Result<Vec<StoredPart>, CourierError> {
    let signer = signer()?;
    logged(signer.stored_parts(&upload, signer::OffsetDateTime::now_utc()).await)
}

/// Completes an upload whose parts are all stored: its download link.
#[server(endpoint = "complete_multipart", output = JsonOut)]
pub async fn complete_multipart(upload: MultipartUpload) -> Result<DownloadLink, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    let completed = signer.complete_multipart(&upload, now).await;
    match &completed {
        Ok(_) => budgets::upload_settled(&upload.upload_id),
        // Its parts did not add up: the signer aborted it.
        Err(signer::SignError::PartsDoNotAddUp(_)) => budgets::upload_aborted(&upload.upload_id),
        Err(_) => {}
    }
    let mut link = logged(completed)?;
    refused(sharing::share_confirmed(&shares()?, &signer, &mut link, &upload.key, now).await)?;
    Ok(link)
}

/// Cancels an upload: the store keeps none of its parts, and its charge to
/// the uploader's daily budget and its room in the storage budget come back
/// (on the instance that started it), but only when this call found it in
/// progress: an upload completed meanwhile keeps its charge.
#[server(endpoint = "abort_multipart", output = JsonOut)]
pub async fn abort_multipart(upload: MultipartUpload) -> Result<(), CourierError> {
    let signer = signer()?;
    if logged(signer.abort_multipart(&upload, signer::OffsetDateTime::now_utc()).await)? {
        budgets::upload_aborted(&upload.upload_id);
        // A file request's room it held comes back.
        if let Err(error) = shares()?.give_back_request_upload(&upload.key).await {
            tracing::warn!(%error, "an aborted upload's room in its file request waits for its grant to end");
        }
    } else {
        budgets::upload_settled(&upload.upload_id);
    }
    Ok(())
}

/// Changes a share's rules (expiry, download limit, password), for the
/// holder of its token: the share as it is now.
#[server(endpoint = "update_share", output = JsonOut)]
pub async fn update_share(share: ShareRef, change: RuleChange) -> Result<ShareLink, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    refused(sharing::update(&shares()?, &signer, &share, change, now).await)
}

/// Takes a share's link back now and deletes its files, for the holder of its token.
#[server(endpoint = "revoke_share", output = JsonOut)]
pub async fn revoke_share(share: ShareRef) -> Result<ShareLink, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    refused(sharing::revoke(&shares()?, &signer, &share, now).await)
}

/// Where each of the sender's shares stands: downloads so far, what is left.
/// Shares whose token does not check are left out.
#[server(endpoint = "share_status", output = JsonOut)]
pub async fn share_status(shares: Vec<ShareRef>) -> Result<Vec<ShareLink>, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    refused(sharing::statuses(&self::shares()?, &signer, shares, now).await)
}

/// One share for the files of several shares sent together, with `rules`
/// (a new upload's defaults where they say nothing), for the holder of each
/// one's token. The shares given stop existing: refused if any was used.
#[server(endpoint = "combine_shares", output = JsonOut)]
pub async fn combine_shares(shares: Vec<ShareRef>, rules: RuleChange) -> Result<ShareLink, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    refused(sharing::combine(&self::shares()?, &signer, &shares, rules, now).await)
}

/// A new file request with `rules`, for whoever may upload: its link, to
/// hand to someone who may not, and its maker's token.
#[server(endpoint = "create_request", output = JsonOut)]
pub async fn create_request(rules: RequestRules) -> Result<RequestLink, CourierError> {
    let signer = signer()?;
    let uploader = uploader()?;
    let now = signer::OffsetDateTime::now_utc();
    // What a request may take counts against its maker's daily budget.
    budgets::charge_request(&uploader, rules.max_bytes)?;
    refused(requests::create(&shares()?, &signer, &rules, now).await)
}

/// Where each of the maker's requests stands: the files that arrived, and
/// the share they are in. Requests whose token does not check are left out.
#[server(endpoint = "request_status", output = JsonOut)]
pub async fn request_status(requests: Vec<RequestRef>) -> Result<Vec<RequestLink>, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    refused(self::requests::statuses(&shares()?, &signer, &requests, now).await)
}

/// Closes a request, for the holder of its token: its link takes no more files.
#[server(endpoint = "close_request", output = JsonOut)]
pub async fn close_request(request: RequestRef) -> Result<RequestLink, CourierError> {
    let signer = signer()?;
    let now = signer::OffsetDateTime::now_utc();
    refused(requests::close(&shares()?, &signer, &request, now).await)
}

/// One file as the browser describes it; the page's default link unless it chose one.
#[cfg(feature = "ssr")]
fn upload_request(
    signer: &signer::Signer,
    filename: String,
    content_type: String,
    size: u64,
    link: Option<LinkKind>,
    seal: Option<String>,
    for_request: bool,
) -> Result<signer::UploadRequest, CourierError> {
    if for_request && (seal.is_some() || link == Some(LinkKind::Public)) {
        return Err(answered(CourierError::BadRequest(
            "A file request's files go to its maker as they are: send them without encryption, for an expiring link."
                .to_owned(),
        )));
    }
    // A seal's refusal is the request's: nothing is charged or signed.
    let seal = seal
        .map(|seal| signer::seal::Seal::parse(&seal).map_err(signer::SignError::from))
        .transpose();
    Ok(signer::UploadRequest {
        filename,
        content_type,
        size,
        link: link.unwrap_or(signer.page_settings().default_link),
        seal: logged(seal)?,
    })
}

#[cfg(feature = "ssr")]
fn signer() -> Result<signer::Signer, CourierError> {
    use_context::<signer::Signer>().ok_or_else(|| {
        answered(CourierError::Internal(
            "Courier is not configured to sign uploads.".to_owned(),
        ))
    })
}

/// Who asks to upload, as the server admitted them (`signer::access`); a
/// request it did not admit is refused (401) with why.
#[cfg(feature = "ssr")]
fn uploader() -> Result<signer::access::Uploader, CourierError> {
    use signer::access::Admission;
    let admission =
        with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<Admission>().cloned()).flatten();
    match admission {
        Some(Admission::Admitted(uploader)) => Ok(uploader),
        Some(Admission::Refused(refusal)) => {
            let error = CourierError::from(refusal);
            tracing::info!(error = %error, status = error.status_code(), "refused: no upload access");
            Err(answered(error))
        }
        // The server admits every `/api/*` request; without its verdict
        // nothing is granted rather than everything.
        None => Err(answered(CourierError::Internal(
            "Courier could not tell who the upload comes from.".to_owned(),
        ))),
    }
}

/// Who a grant is for: the admitted uploader, or, for a file request's
/// page (whose link is its own permission), no one but the request, if the
/// call was not made by another site's page.
#[cfg(feature = "ssr")]
fn admitted(request: Option<&str>) -> Result<Option<signer::access::Uploader>, CourierError> {
    use signer::access::{AccessRefusal, Admission};
    if request.is_none() {
        return uploader().map(Some);
    }
    let admission =
        with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<Admission>().cloned()).flatten();
    match admission {
        Some(Admission::Refused(refusal @ AccessRefusal::CrossSite)) => {
            let error = CourierError::from(refusal);
            tracing::info!(error = %error, status = error.status_code(), "refused: a request's upload from another site");
            Err(answered(error))
        }
        _ => Ok(None),
    }
}

#[cfg(feature = "ssr")]
fn shares() -> Result<courier_shares::ShareDb, CourierError> {
    use_context::<courier_shares::ShareDb>().ok_or_else(|| {
        answered(CourierError::Internal(
            "Courier is not configured to keep shares.".to_owned(),
        ))
    })
}

/// A share call's refusal, logged and answered with its status.
#[cfg(feature = "ssr")]
fn refused<T>(result: Result<T, CourierError>) -> Result<T, CourierError> {
    result.map_err(|error| {
        tracing::info!(error = %error, status = error.status_code(), "refused");
        answered(error)
    })
}

/// The contract in `wire::endpoint` and the functions declared here are one:
/// every call it encodes decodes, with the server functions' own codec, into
/// the arguments it meant, at the path it names.
#[cfg(all(test, feature = "ssr"))]
mod contract {
    use leptos::server_fn::ServerFn;
    use leptos::server_fn::axum_export::body::Body;
    use leptos::server_fn::codec::{FromReq, PostUrl};
    use wire::endpoint::{self, Call, Endpoint, FORM_CONTENT_TYPE};

    use super::*;

    /// `call` as the server reads it, at its path.
    fn decoded<Args: FromReq<PostUrl, http::Request<Body>, CourierError> + ServerFn, Answer>(
        call: &Call<Answer>,
    ) -> Args {
        assert_eq!(<Args as ServerFn>::PATH, call.path(), "{:?}", call.endpoint);
        let request = http::Request::post(call.path())
            .header(http::header::CONTENT_TYPE, FORM_CONTENT_TYPE)
            .body(Body::from(call.body()))
            .expect("a request");
        futures::executor::block_on(Args::from_req(request)).expect("arguments the server reads")
    }

    fn upload() -> MultipartUpload {
        MultipartUpload {
            key: "uploads/2026/x y+z.bin".to_owned(),
            upload_id: "id/with=odd&chars".to_owned(),
            size: 20_000_000,
            part_size: 8_388_608,
            token: "v1.abc_DEF-123".to_owned(),
        }
    }

    #[test]
    fn every_endpoint_is_declared_under_its_name() {
        let declared: Vec<&str> = vec![
            SignUpload::PATH,
            SignDownload::PATH,
            DeleteUpload::PATH,
            SignUploadForm::PATH,
            StartMultipart::PATH,
            SignParts::PATH,
            ListParts::PATH,
            CompleteMultipart::PATH,
            AbortMultipart::PATH,
            UpdateShare::PATH,
            RevokeShare::PATH,
            ShareStatus::PATH,
            CombineShares::PATH,
            CreateRequest::PATH,
            RequestStatus::PATH,
            CloseRequest::PATH,
        ];
        let named: Vec<&str> = Endpoint::ALL.iter().map(|endpoint| endpoint.path()).collect();
        assert_eq!(declared, named);
    }

    #[test]
    fn file_calls_decode_to_their_arguments() {
        let name = "résumé & notes=final+1.pdf";
        let args: SignUpload = decoded(&endpoint::sign_upload(
            name,
            "application/pdf",
            1234,
            Some(LinkKind::Public),
        ));
        assert_eq!(
            (args.filename.as_str(), args.content_type.as_str(), args.size, args.link),
            (name, "application/pdf", 1234, Some(LinkKind::Public))
        );
        let args: StartMultipart = decoded(&endpoint::start_multipart(name, "", u64::MAX, None));
        assert_eq!(
            (args.filename.as_str(), args.content_type.as_str(), args.size, args.link),
            (name, "", u64::MAX, None)
        );
        let args: SignUploadForm = decoded(&endpoint::sign_upload_form(Some(LinkKind::Expiring)));
        assert_eq!(args.link, Some(LinkKind::Expiring));
        let args: SignUploadForm = decoded(&endpoint::sign_upload_form(None));
        assert_eq!((args.link, args.request), (None, None));
        let args: SignUploadForm =
            decoded(&endpoint::sign_upload_form(None).for_request(Some("AAAAAAAAAAAAAAAAAAAAAA")));
        assert_eq!(args.request.as_deref(), Some("AAAAAAAAAAAAAAAAAAAAAA"));
        let args: SignUpload = decoded(&endpoint::sign_upload(name, "", 1, None).for_request(Some("r-1")));
        assert_eq!(args.request.as_deref(), Some("r-1"));
        let args: StartMultipart = decoded(&endpoint::start_multipart(name, "", 1, None).for_request(Some("r-2")));
        assert_eq!(args.request.as_deref(), Some("r-2"));
    }

    #[test]
    fn request_calls_decode_to_their_arguments() {
        let rules = RequestRules {
            max_files: 7,
            max_bytes: 5_000_000_000,
            expires_in_hours: 48,
        };
        let args: CreateRequest = decoded(&endpoint::create_request(&rules));
        assert_eq!(args.rules, rules);
        let request = RequestRef {
            id: "AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            token: "q.253402300799.x_y-z".to_owned(),
        };
        let args: RequestStatus = decoded(&endpoint::request_status(&[request.clone(), request.clone()]));
        assert_eq!(args.requests, vec![request.clone(), request.clone()]);
        let args: CloseRequest = decoded(&endpoint::close_request(&request));
        assert_eq!(args.request, request);
    }

    #[test]
    fn link_calls_decode_to_their_arguments() {
        let args: SignDownload = decoded(&endpoint::sign_download("a/b c", "t=1&2"));
        assert_eq!((args.key.as_str(), args.token.as_str()), ("a/b c", "t=1&2"));
        let args: DeleteUpload = decoded(&endpoint::delete_upload("a/b c", "t=1&2"));
        assert_eq!((args.key.as_str(), args.token.as_str()), ("a/b c", "t=1&2"));
    }

    #[test]
    fn share_calls_decode_to_their_arguments() {
        let share = ShareRef {
            id: "AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            token: "s.253402300799.x_y-z".to_owned(),
        };
        let change = RuleChange {
            expires_in_hours: Some(0),
            max_downloads: Some(5),
            password: Some("pa ss&=word é".to_owned()),
            remove_password: false,
        };
        let args: UpdateShare = decoded(&endpoint::update_share(&share, &change));
        assert_eq!((args.share, args.change), (share.clone(), change.clone()));
        let args: UpdateShare = decoded(&endpoint::update_share(&share, &RuleChange::default()));
        assert_eq!(args.change, RuleChange::default());
        let remove = RuleChange {
            remove_password: true,
            ..RuleChange::default()
        };
        let args: UpdateShare = decoded(&endpoint::update_share(&share, &remove));
        assert_eq!(args.change, remove);
        let args: RevokeShare = decoded(&endpoint::revoke_share(&share));
        assert_eq!(args.share, share);
        let other = ShareRef {
            id: "BBBBBBBBBBBBBBBBBBBBBB".to_owned(),
            token: "t".to_owned(),
        };
        let args: ShareStatus = decoded(&endpoint::share_status(&[share.clone(), other.clone()]));
        assert_eq!(args.shares, vec![share.clone(), other.clone()]);
        let args: CombineShares = decoded(&endpoint::combine_shares(&[share.clone(), other.clone()], &change));
        assert_eq!((args.shares, args.rules), (vec![share, other], change));
    }

    #[test]
    fn multipart_calls_decode_to_their_arguments() {
        let parts = [
            PartToSign {
                number: 3,
                sha256: Some("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".to_owned()),
            },
            PartToSign {
                number: 1,
                sha256: None,
            },
        ];
        let args: SignParts = decoded(&endpoint::sign_parts(&upload(), &parts));
        assert_eq!((args.upload, args.parts), (upload(), parts.to_vec()));
        let args: ListParts = decoded(&endpoint::list_parts(&upload()));
        assert_eq!(args.upload, upload());
        let args: CompleteMultipart = decoded(&endpoint::complete_multipart(&upload()));
        assert_eq!(args.upload, upload());
        let args: AbortMultipart = decoded(&endpoint::abort_multipart(&upload()));
        assert_eq!(args.upload, upload());
    }
}

//! Courier's presigned GET against botocore's, case by case: random keys,
//! dispositions, credentials (with and without a session token), regions,
//! path-style and virtual-hosted bucket URLs, expiries and signing times.
//! `presign_vectors.json` is written by `bench/peers/botocore_vectors.py`.
//!
//! botocore orders the query differently (its `response-*` first, the
//! security token after `X-Amz-SignedHeaders`), so the URLs are compared as
//! `scheme://host/path` (exactly, as text: no URL parser, which would resolve
//! `.` and `..` segments that S3 keeps) plus the set of query parameters,
//! decoded, signature included, and encoded as well.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use percent_encoding::percent_decode_str;
use serde::Deserialize;
use signer::credentials::SigningIdentity;
use signer::post_policy::SigningCredentials;
use signer::presign::{BucketUrl, GetObject, presign_get};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Deserialize)]
struct Case {
    at: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    bucket_url: String,
    key: String,
    content_disposition: Option<String>,
    expires_in: u64,
    url: String,
}

/// `(scheme://host/path, encoded name -> encoded value, decoded name -> decoded value)`
type Split = (String, BTreeMap<String, String>, BTreeMap<String, String>);

fn split(url: &str) -> Split {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut encoded = BTreeMap::new();
    let mut decoded = BTreeMap::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| percent_decode_str(s).decode_utf8().expect("UTF-8 query").into_owned();
        assert!(
            encoded.insert(name.to_owned(), value.to_owned()).is_none(),
            "{name} twice in {url}"
        );
        decoded.insert(decode(name), decode(value));
    }
    (base.to_owned(), encoded, decoded)
}

/// One identity per credentials and region, reused from case to case as the
/// server reuses it: its cached day key must follow each case's day.
type Identities = HashMap<(String, String, Option<String>, String), SigningIdentity>;

fn ours(identities: &mut Identities, case: &Case) -> String {
    let id = (
        case.access_key_id.clone(),
        case.secret_access_key.clone(),
        case.session_token.clone(),
        case.region.clone(),
    );
    let identity = identities.entry(id).or_insert_with(|| {
        SigningIdentity::new(
            &SigningCredentials {
                access_key_id: case.access_key_id.clone(),
                secret_access_key: case.secret_access_key.clone(),
                session_token: case.session_token.clone(),
            },
            &case.region,
        )
    });
    let bucket = BucketUrl::parse(&case.bucket_url).expect("bucket URL");
    let at = OffsetDateTime::parse(&case.at, &Rfc3339).expect("RFC 3339 time");
    let get = GetObject {
        key: &case.key,
        cache_control: None,
        content_disposition: case.content_disposition.as_deref(),
        expires_in: Duration::from_secs(case.expires_in),
    };
    presign_get(identity, &bucket, get, at)
}

#[test]
fn presigned_gets_match_botocore() {
    let cases: Vec<Case> = serde_json::from_str(include_str!("presign_vectors.json")).expect("vectors");
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let mut identities = Identities::new();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let url = ours(&mut identities, case);
        let (our_base, our_encoded, our_decoded) = split(&url);
        let (their_base, their_encoded, their_decoded) = split(&case.url);
        let mut differences = Vec::new();
        if our_base != their_base {
            differences.push(format!(
                "  scheme/host/path: ours {our_base}\n                  botocore {their_base}"
            ));
        }
        if our_decoded != their_decoded {
            let names: BTreeSet<&String> = our_decoded.keys().chain(their_decoded.keys()).collect();
            for name in names {
                let (a, b) = (our_decoded.get(name), their_decoded.get(name));
                if a != b {
                    differences.push(format!("  {name}: ours {a:?}\n    botocore {b:?}"));
                }
            }
        } else if our_encoded != their_encoded {
            differences.push(format!(
                "  same values, encoded differently: ours {our_encoded:?}\n    botocore {their_encoded:?}"
            ));
        }
        if !differences.is_empty() {
            failures.push(format!(
                "case {i} (key {:?}, disposition {:?}, bucket {}, region {}, at {}):\n{}\n  ours:     {url}\n  botocore: {}",
                case.key,
                case.content_disposition,
                case.bucket_url,
                case.region,
                case.at,
                differences.join("\n"),
                case.url,
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from botocore:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

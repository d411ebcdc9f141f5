//! S3 POST policies, signed with SigV4: the AWS Rust SDK presigns GET and PUT
//! but has no presigned POST (awslabs/aws-sdk-rust#863), so this is ours.
//!
//! Every form field the browser must send gets a matching condition, so the
//! store refuses a form in which anything was changed.

use std::collections::BTreeMap;

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;

use crate::credentials::SigningIdentity;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What signs a policy: the same credentials the S3 client uses. (Also how
/// settings carry credentials named in the environment.)
#[derive(Clone, PartialEq, Eq)]
pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Set for temporary credentials; then it is a form field and a condition.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A POST policy before it is signed. Its conditions are written as JSON as
/// they are added (building a `serde_json::Value` per condition was most of
/// a grant's cost).
#[derive(Clone, Debug)]
pub struct PostPolicy {
    expiration: OffsetDateTime,
    /// The conditions' JSON, comma-separated, without the brackets.
    conditions: String,
    fields: BTreeMap<String, String>,
}

/// The signed result: the form fields to send (policy and signature included).
#[derive(Clone, Debug)]
pub struct SignedPostPolicy {
    pub fields: BTreeMap<String, String>,
}

impl PostPolicy {
    /// A policy for `bucket` that expires at `expiration`.
    pub fn builder(bucket: &str, expiration: OffsetDateTime) -> Self {
        let mut policy = Self {
            expiration,
            conditions: String::with_capacity(1024),
            fields: BTreeMap::new(),
        };
        policy.equals("bucket", bucket);
        policy
    }

    /// A form field that must be sent with exactly this value.
    pub fn field(mut self, name: &str, value: &str) -> Self {
        self.equals(name, value);
        self.fields.insert(name.to_owned(), value.to_owned());
        self
    }

    /// A form field that must start with `prefix`; the form carries `value`.
    pub fn field_starting_with(mut self, name: &str, prefix: &str, value: &str) -> Self {
        let out = self.next_condition();
        out.push_str("[\"starts-with\",\"$");
        json_string_body(out, name);
        out.push_str("\",");
        json_string(out, prefix);
        out.push(']');
        self.fields.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The accepted file sizes, in bytes.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        let out = self.next_condition();
        let _ = write!(out, "[\"content-length-range\",{min},{max}]");
        self
    }

    /// `{"name":"value"}`
    fn equals(&mut self, name: &str, value: &str) {
        let out = self.next_condition();
        out.push('{');
        json_string(out, name);
        out.push(':');
        json_string(out, value);
        out.push('}');
    }

    fn next_condition(&mut self) -> &mut String {
        if !self.conditions.is_empty() {
            self.conditions.push(',');
        }
        &mut self.conditions
    }

    /// Adds the SigV4 fields and signs the base64 policy with the day's key.
    pub fn sign(self, identity: &SigningIdentity, now: OffsetDateTime) -> SignedPostPolicy {
        self.stamped(identity, now).seal(identity, now)
    }

    /// The policy with the SigV4 fields (and their conditions) added.
    fn stamped(mut self, identity: &SigningIdentity, now: OffsetDateTime) -> Self {
        let amz_date = amz_date(now);
        let day = &amz_date[..8];
        let region = identity.day_key.region();
        let credential = format!("{}/{day}/{region}/s3/aws4_request", identity.access_key_id);
        self = self
            .field("x-amz-credential", &credential)
            .field("x-amz-algorithm", ALGORITHM)
            .field("x-amz-date", &amz_date);
        if let Some(token) = &identity.session_token {
            self = self.field("x-amz-security-token", token);
        }
        self
    }

    /// The policy document, before base64.
    fn document(&self) -> String {
        let mut out = String::with_capacity(64 + self.conditions.len());
        out.push_str("{\"expiration\":\"");
        out.push_str(&expiration_text(self.expiration));
        out.push_str("\",\"conditions\":[");
        out.push_str(&self.conditions);
        out.push_str("]}");
        out
    }

    fn seal(self, identity: &SigningIdentity, now: OffsetDateTime) -> SignedPostPolicy {
        let policy = BASE64.encode(self.document());
        let signature = identity.day_key.sign(now, policy.as_bytes());
        let mut fields = self.fields;
        fields.insert("policy".to_owned(), policy);
        fields.insert("x-amz-signature".to_owned(), signature);
        SignedPostPolicy { fields }
    }
}

/// `s` as a JSON string, quotes included.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    json_string_body(out, s);
    out.push('"');
}

/// `s` escaped for the inside of a JSON string (RFC 8259: quote, backslash
/// and control characters; everything else, non-ASCII included, as is).
fn json_string_body(out: &mut String, s: &str) {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < b' ') {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// `20151229T000000Z`
pub fn amz_date(at: OffsetDateTime) -> String {
    let (year, month, day, hour, minute, second) = utc_parts(at);
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// `2015-12-30T12:00:00.000Z`
fn expiration_text(at: OffsetDateTime) -> String {
    let (year, month, day, hour, minute, second) = utc_parts(at);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.000Z")
}

/// `at` in UTC, field by field: formatting these by hand costs less than
/// `time`'s formatter, which was a visible part of a grant.
fn utc_parts(at: OffsetDateTime) -> (i32, u8, u8, u8, u8, u8) {
    let at = at.to_offset(time::UtcOffset::UTC);
    (
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4;
    use serde_json::Value;
    use time::macros::datetime;

    // AWS's published "sigv4-post-example" (S3 API reference).
    const EXAMPLE_POLICY_B64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const EXAMPLE_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";
    const EXAMPLE_REDIRECT: &str = "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html";

    fn example_credentials() -> SigningCredentials {
        SigningCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: None,
        }
    }

    fn example_policy() -> PostPolicy {
        PostPolicy::builder("sigv4examplebucket", datetime!(2015-12-30 12:00 UTC))
            .field_starting_with("key", "user/user1/", "user/user1/${filename}")
            .field("acl", "public-read")
            .field("success_action_redirect", EXAMPLE_REDIRECT)
            .field_starting_with("Content-Type", "image/", "image/jpeg")
            .field("x-amz-meta-uuid", "14365123651274")
            .field("x-amz-server-side-encryption", "AES256")
            .field_starting_with("x-amz-meta-tag", "", "")
    }

    #[test]
    fn signs_the_aws_example_policy_exactly() {
        let signature = sigv4::signature(
            &example_credentials().secret_access_key,
            datetime!(2015-12-29 00:00 UTC),
            "us-east-1",
            EXAMPLE_POLICY_B64,
        );
        assert_eq!(signature, EXAMPLE_SIGNATURE);
    }

    #[test]
    fn builds_the_same_policy_document_as_the_aws_example() {
        let at = datetime!(2015-12-29 00:00 UTC);
        let identity = SigningIdentity::new(&example_credentials(), "us-east-1");
        let stamped = example_policy().stamped(&identity, at);
        let ours: Value = serde_json::from_str(&stamped.document()).expect("our policy is JSON");
        let published = BASE64.decode(EXAMPLE_POLICY_B64).expect("the example is base64");
        let theirs: Value = serde_json::from_slice(&published).expect("the example is JSON");
        assert_eq!(ours, theirs);
        let signed = example_policy().sign(&identity, at);
        assert_eq!(
            signed.fields["x-amz-credential"],
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
        assert_eq!(signed.fields["x-amz-date"], "20151229T000000Z");
        assert_eq!(signed.fields["x-amz-algorithm"], ALGORITHM);
        // And the signature is the policy's, under the day's key.
        let expected = sigv4::signature(
            &example_credentials().secret_access_key,
            at,
            "us-east-1",
            &signed.fields["policy"],
        );
        assert_eq!(signed.fields["x-amz-signature"], expected);
    }

    #[test]
    fn every_field_sent_has_a_condition() {
        let mut credentials = example_credentials();
        credentials.session_token = Some("session-token".to_owned());
        let at = datetime!(2026-01-01 00:00 UTC);
        let identity = SigningIdentity::new(&credentials, "eu-west-1");
        let stamped = example_policy().content_length_range(1, 10).stamped(&identity, at);
        let document: Value = serde_json::from_str(&stamped.document()).expect("the document is JSON");
        // The field each condition is about, lower-cased, read from the document itself.
        let covered: Vec<String> = document["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .filter_map(|c| match c {
                Value::Object(map) => map.keys().next().cloned(),
                Value::Array(items) if items[0] == "starts-with" => {
                    items[1].as_str().map(|f| f.trim_start_matches('$').to_owned())
                }
                _ => None,
            })
            .map(|f| f.to_ascii_lowercase())
            .collect();
        let signed = stamped.seal(&identity, at);
        // policy and x-amz-signature are the only fields S3 exempts.
        for name in signed
            .fields
            .keys()
            .filter(|n| !matches!(n.as_str(), "policy" | "x-amz-signature"))
        {
            assert!(
                covered.contains(&name.to_ascii_lowercase()),
                "field {name} has no condition"
            );
        }
        assert_eq!(signed.fields["x-amz-security-token"], "session-token");
        assert!(
            document["conditions"]
                .as_array()
                .expect("conditions")
                .contains(&serde_json::json!(["content-length-range", 1, 10]))
        );
    }

    #[test]
    fn the_document_is_json_whatever_the_values() {
        let awkward = [
            "plain",
            "quote \" and \\ backslash",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}\u{7f}",
            "naïve 名前 🙂",
            "",
        ];
        for value in awkward {
            let policy = PostPolicy::builder(value, datetime!(2026-01-01 00:00 UTC))
                .field("key", value)
                .field_starting_with(value, value, value)
                .content_length_range(0, u64::MAX);
            let parsed: Value = serde_json::from_str(&policy.document()).expect("the document is JSON");
            let conditions = parsed["conditions"].as_array().expect("conditions");
            assert_eq!(conditions[0]["bucket"], value);
            assert_eq!(conditions[1]["key"], value);
            assert_eq!(conditions[2][1], format!("${value}"));
            assert_eq!(conditions[2][2], value);
            assert_eq!(conditions[3][2], u64::MAX);
        }
    }

    #[test]
    fn expiration_and_date_use_the_s3_formats() {
        let at = datetime!(2026-11-28 09:05:07.987 UTC);
        assert_eq!(amz_date(at), "20261128T090507Z");
        assert_eq!(expiration_text(at), "2026-11-28T09:05:07.000Z");
    }
}

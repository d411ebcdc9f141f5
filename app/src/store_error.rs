//! The store's XML error documents, turned into sentences a person can act on.
//!
//! AWS S3, Garage and the embedded store disagree on codes for the same
//! refusal (a file too large is `EntityTooLarge` on AWS and s3s, but
//! `InvalidRequest` "File size does not match policy" on Garage), so the
//! mapping reads both the `Code` and the `Message`. A full disk has no AWS
//! code at all: MinIO and the embedded store answer `507 XMinioStorageFull`,
//! other stores `InsufficientStorage` or `InsufficientCapacity` (507), Ceph's
//! quotas `QuotaExceeded`.

use crate::error::CourierError;
use crate::model::DownloadLink;
use crate::size::human_size;

/// Reads the answer to an upload POST, after the browser followed the store's
/// 303 to `/confirm-upload`: the link (JSON), Courier's refusal (JSON) or the
/// store's refusal (XML).
pub fn read_upload_answer(status: u16, body: &str, max_bytes: u64) -> Result<DownloadLink, CourierError> {
    if (200..300).contains(&status) {
        return crate::json::from_str::<DownloadLink>(body).map_err(|_| {
            CourierError::Internal("The confirmation could not be read. Reload the page and try again.".to_owned())
        });
    }
    if let Ok(error) = crate::json::from_str::<CourierError>(body) {
        return Err(error);
    }
    if let Some(error) = StoreError::parse(body) {
        let sentence = error.sentence(max_bytes);
        return Err(if error.is_expired_policy() {
            CourierError::PolicyExpired(sentence)
        } else {
            CourierError::StoreRefused(sentence)
        });
    }
    if status == 507 {
        return Err(CourierError::StoreRefused(storage_full()));
    }
    Err(CourierError::StoreRefused(format!(
        "The storage refused the upload (HTTP {status}). Try again."
    )))
}

/// An S3 error response body: `<Error><Code>…</Code><Message>…</Message></Error>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError {
    pub code: String,
    pub message: String,
}

impl StoreError {
    /// Reads the `Code` and `Message` of an S3 XML error document, if it is one.
    pub fn parse(xml: &str) -> Option<Self> {
        let code = element_text(xml, "Code")?;
        let message = element_text(xml, "Message").unwrap_or_default();
        Some(Self { code, message })
    }

    /// The policy expired before the store saw the request: signing again fixes it.
    pub fn is_expired_policy(&self) -> bool {
        matches!(self.code.as_str(), "ExpiredToken" | "TokenRefreshRequired")
            || (self.code == "AccessDenied" && self.message.to_ascii_lowercase().contains("expired"))
    }

    /// What the person is told, given the size limit the upload was signed for.
    pub fn sentence(&self, max_bytes: u64) -> String {
        let message = self.message.to_ascii_lowercase();
        match self.code.as_str() {
            "EntityTooLarge" => too_large(max_bytes),
            "EntityTooSmall" => "The file is empty. Choose a file with something in it.".to_owned(),
            "InvalidRequest" if message.contains("size") => too_large(max_bytes),
            "ExpiredToken" | "TokenRefreshRequired" => expired(),
            "AccessDenied" if message.contains("expired") => expired(),
            "AccessDenied" if message.contains("policy") => mismatch(),
            "AccessDenied" => {
                "The storage refused the upload (access denied). Ask the operator to check the bucket's permissions.".to_owned()
            }
            "SignatureDoesNotMatch" | "InvalidAccessKeyId" => {
                "The storage did not accept Courier's signature. Reload the page and try again; if it persists, the operator should check the storage credentials.".to_owned()
            }
            "InvalidPolicyDocument" | "InvalidRequest" | "InvalidArgument" => mismatch(),
            "NoSuchBucket" => "The storage bucket does not exist. Ask the operator to create it.".to_owned(),
            "XMinioStorageFull" | "InsufficientStorage" | "InsufficientCapacity" | "QuotaExceeded" => storage_full(),
            "SlowDown" | "ServiceUnavailable" | "InternalError" => {
                "The storage is busy or failing right now. Try again in a minute (retrying is safe).".to_owned()
            }
            "RequestTimeout" => {
                "The file stopped arriving at the storage, which kept nothing of it. Check your connection and upload it again (retrying is safe).".to_owned()
            }
            code => format!("The storage refused the upload ({code}: {}). Try again.", self.message),
        }
    }
}

fn too_large(max_bytes: u64) -> String {
    format!(
        "The file is larger than the {} this upload allows. Choose a smaller file.",
        human_size(max_bytes)
    )
}

/// What happened, and that the same file may simply be sent again: the
/// store kept nothing of it.
fn storage_full() -> String {
    "The storage is full: your file was not saved, and no part of it was kept. Try again later; sending it again is safe."
        .to_owned()
}

fn expired() -> String {
    "The upload permission expired before the file arrived. Press Upload again.".to_owned()
}

fn mismatch() -> String {
    "The file did not match what was signed for this upload. Press Upload again.".to_owned()
}

fn element_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(unescape_xml(xml[start..end].trim()))
}

fn unescape_xml(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use crate::error::CourierError;

    fn error(code: &str, message: &str) -> StoreError {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>1</RequestId></Error>"
        );
        StoreError::parse(&xml).expect("an S3 error document")
    }

    #[test]
    fn upload_answers_become_links_or_sentences() {
        let expired = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
        assert!(matches!(
            super::read_upload_answer(403, expired, 1),
            Err(CourierError::PolicyExpired(_))
        ));
        let refused = r#"{"code":"forbidden","error":"This token does not allow a link to that file."}"#;
        assert_eq!(
            super::read_upload_answer(403, refused, 1),
            Err(CourierError::Forbidden(
                "This token does not allow a link to that file.".to_owned()
            ))
        );
        assert!(
            matches!(super::read_upload_answer(500, "", 1), Err(CourierError::StoreRefused(s)) if s.contains("500"))
        );
        assert!(matches!(
            super::read_upload_answer(200, "not json", 1),
            Err(CourierError::Internal(_))
        ));
    }

    #[test]
    fn reads_code_and_message() {
        let e = error("AccessDenied", "Request has expired");
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(e.message, "Request has expired");
        assert_eq!(StoreError::parse("<html>nope</html>"), None);
    }

    #[test]
    fn too_large_names_the_limit_on_every_store() {
        let aws = error(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed object size.",
        );
        let garage = error("InvalidRequest", "Bad request: File size does not match policy");
        for e in [aws, garage] {
            let s = e.sentence(10 * 1024 * 1024);
            assert!(s.contains("10 MiB"), "{s}");
        }
    }

    #[test]
    fn every_refusal_is_a_sentence_not_a_code() {
        for (code, message) in [
            ("AccessDenied", "Request has expired"),
            ("AccessDenied", "Invalid according to Policy: Policy Condition failed"),
            (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match",
            ),
            (
                "InvalidPolicyDocument",
                "Policy condition failed: [\"eq\", \"$key\", \"a\"]",
            ),
            ("ExpiredToken", "The provided token has expired."),
            ("NoSuchBucket", "The specified bucket does not exist"),
            (
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period.",
            ),
            ("SlowDown", "Please reduce your request rate."),
        ] {
            let s = error(code, message).sentence(1);
            assert!(!s.contains(code), "{code} leaked into {s}");
            assert!(s.ends_with('.'), "{s}");
        }
    }

    #[test]
    fn a_store_that_failed_on_its_side_says_retrying_is_safe() {
        for code in ["RequestTimeout", "SlowDown", "ServiceUnavailable", "InternalError"] {
            let s = error(code, "").sentence(1);
            assert!(s.contains("retrying is safe"), "{code}: {s}");
        }
    }

    #[test]
    fn a_full_store_says_so_and_that_sending_again_is_safe() {
        let minio =
            "Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.";
        let embedded = "The store's disk is full: nothing of this request was stored. Free some space, then try again.";
        for (code, message) in [
            ("XMinioStorageFull", minio),
            ("XMinioStorageFull", embedded),
            ("InsufficientStorage", "Insufficient Storage"),
            ("InsufficientCapacity", "Insufficient capacity."),
            ("QuotaExceeded", ""),
        ] {
            let s = error(code, message).sentence(1);
            assert!(s.starts_with("The storage is full: "), "{code}: {s}");
            assert!(
                s.contains("was not saved") && s.contains("sending it again is safe"),
                "{s}"
            );
            assert!(!s.contains(code), "{code} leaked into {s}");
        }
        // As the page reads the store's answer to its POST.
        let xml = format!("<Error><Code>XMinioStorageFull</Code><Message>{embedded}</Message></Error>");
        for body in [xml.as_str(), "", "<html>507 Insufficient Storage</html>"] {
            match super::read_upload_answer(507, body, 1) {
                Err(CourierError::StoreRefused(s)) => assert!(s.starts_with("The storage is full: "), "{s}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn expired_policy_asks_to_upload_again() {
        assert!(
            error("AccessDenied", "Request has expired")
                .sentence(1)
                .contains("expired")
        );
    }
}

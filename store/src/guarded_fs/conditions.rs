//! Conditional reads (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, and `If-Range` with a range), which `s3s-fs`
//! ignores: evaluated as RFC 9110 §13.2.2 orders them, which is also how S3
//! answers when two disagree (an `If-Match` that holds overrides a failing
//! `If-Unmodified-Since`; an `If-None-Match` that fails answers 304 whatever
//! `If-Modified-Since` says). A download resumed with `If-Range` gets the
//! rest only of the same object, the whole object otherwise.
//!
//! Dates compare to the second, as an HTTP date carries them.

use std::time::{SystemTime, UNIX_EPOCH};

use s3s::dto::{ETag, ETagCondition, Timestamp, TimestampFormat};
use s3s::{S3Error, S3ErrorCode, S3Result};

/// The conditions a GetObject or HeadObject carries.
#[derive(Clone, Copy, Debug, Default)]
pub struct Preconditions<'a> {
    pub if_match: Option<&'a ETagCondition>,
    pub if_none_match: Option<&'a ETagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

/// The object as the conditions see it.
#[derive(Clone, Copy, Debug)]
pub struct Current<'a> {
    /// Its ETag, unquoted (`None`: unknown, which no `If-Match` names).
    pub e_tag: Option<&'a str>,
    pub last_modified: SystemTime,
}

impl Preconditions<'_> {
    pub fn any(&self) -> bool {
        self.if_match.is_some()
            || self.if_none_match.is_some()
            || self.if_modified_since.is_some()
            || self.if_unmodified_since.is_some()
    }

    /// `Ok` to answer, or S3's `412 PreconditionFailed` or `304 NotModified`.
    pub fn check(&self, current: Current<'_>) -> S3Result<()> {
        let modified = seconds(current.last_modified);
        if let Some(condition) = self.if_match {
            if !matches(condition, current.e_tag, Comparison::Strong) {
                return Err(precondition_failed("If-Match"));
            }
        } else if let Some(since) = self.if_unmodified_since
            && modified > date_seconds(since)
        {
            return Err(precondition_failed("If-Unmodified-Since"));
        }
        if let Some(condition) = self.if_none_match {
            if matches(condition, current.e_tag, Comparison::Weak) {
                return Err(not_modified(current));
            }
        } else if let Some(since) = self.if_modified_since
            && modified <= date_seconds(since)
        {
            return Err(not_modified(current));
        }
        Ok(())
    }
}

/// Whether a range sent with `If-Range: <if_range>` is still served: its
/// ETag (compared strongly) or date (exactly) is the object's.
pub fn range_holds(if_range: &str, current: Current<'_>) -> bool {
    let if_range = if_range.trim();
    if if_range.starts_with('"') || if_range.starts_with("W/") {
        // A weak validator never holds for a range.
        return !if_range.starts_with("W/")
            && current
                .e_tag
                .is_some_and(|e_tag| e_tag.trim_matches('"') == if_range.trim_matches('"'));
    }
    Timestamp::parse(TimestampFormat::HttpDate, if_range)
        .is_ok_and(|date| date_seconds(&date) == seconds(current.last_modified))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

fn matches(condition: &ETagCondition, e_tag: Option<&str>, comparison: Comparison) -> bool {
    let Some(e_tag) = e_tag else {
        // `*` names any object there is; a tag names none whose is unknown.
        return matches!(condition, ETagCondition::Any);
    };
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(ETag::Strong(value)) => value.trim_matches('"') == e_tag,
        ETagCondition::ETag(ETag::Weak(value)) => comparison == Comparison::Weak && value.trim_matches('"') == e_tag,
    }
}

fn seconds(time: SystemTime) -> i64 {
    // (Nothing the store wrote predates 1970.)
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
}

fn date_seconds(date: &Timestamp) -> i64 {
    time::OffsetDateTime::from(date.clone()).unix_timestamp()
}

fn precondition_failed(condition: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::PreconditionFailed,
        format!("At least one of the pre-conditions you specified did not hold ({condition})."),
    )
}

/// `304 Not Modified` (the server sends no body with it), with the
/// object's `ETag` and `Last-Modified`, as S3 and RFC 9110 send them: a
/// cache refreshes what it keeps from them.
fn not_modified(current: Current<'_>) -> S3Error {
    let mut error = S3Error::with_message(S3ErrorCode::NotModified, "Not Modified");
    let mut headers = http::HeaderMap::new();
    if let Some(e_tag) = current.e_tag
        && let Ok(value) = http::HeaderValue::from_str(&format!("\"{e_tag}\""))
    {
        headers.insert(http::header::ETAG, value);
    }
    if let Ok(value) = http::HeaderValue::from_str(&httpdate::fmt_http_date(current.last_modified)) {
        headers.insert(http::header::LAST_MODIFIED, value);
    }
    error.set_headers(headers);
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const E_TAG: &str = "0123456789abcdef0123456789abcdef";

    fn tag(value: &str) -> ETagCondition {
        ETagCondition::ETag(ETag::Strong(value.to_owned()))
    }

    fn at(secs: u64) -> Timestamp {
        Timestamp::from(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Modified at 1000.4 s: 1000 to an HTTP date.
    fn current() -> Current<'static> {
        Current {
            e_tag: Some(E_TAG),
            last_modified: UNIX_EPOCH + Duration::from_millis(1_000_400),
        }
    }

    fn outcome(preconditions: Preconditions<'_>) -> Option<u16> {
        preconditions
            .check(current())
            .err()
            .map(|error| error.status_code().expect("a status").as_u16())
    }

    #[test]
    fn conditions_answer_as_rfc_9110_and_s3_order_them() {
        let (same, other, any) = (tag(E_TAG), tag("ffff"), ETagCondition::Any);
        let weak = ETagCondition::ETag(ETag::Weak(E_TAG.to_owned()));
        let (before, then, after) = (at(999), at(1000), at(1001));
        let none = Preconditions::default();
        for (preconditions, expected) in [
            (none, None),
            (
                Preconditions {
                    if_match: Some(&same),
                    ..none
                },
                None,
            ),
            (
                Preconditions {
                    if_match: Some(&any),
                    ..none
                },
                None,
            ),
            (
                Preconditions {
                    if_match: Some(&other),
                    ..none
                },
                Some(412),
            ),
            // If-Match compares strongly.
            (
                Preconditions {
                    if_match: Some(&weak),
                    ..none
                },
                Some(412),
            ),
            (
                Preconditions {
                    if_unmodified_since: Some(&then),
                    ..none
                },
                None,
            ),
            (
                Preconditions {
                    if_unmodified_since: Some(&before),
                    ..none
                },
                Some(412),
            ),
            // A matching If-Match overrides a failing If-Unmodified-Since.
            (
                Preconditions {
                    if_match: Some(&same),
                    if_unmodified_since: Some(&before),
                    ..none
                },
                None,
            ),
            (
                Preconditions {
                    if_none_match: Some(&same),
                    ..none
                },
                Some(304),
            ),
            (
                Preconditions {
                    if_none_match: Some(&weak),
                    ..none
                },
                Some(304),
            ),
            (
                Preconditions {
                    if_none_match: Some(&any),
                    ..none
                },
                Some(304),
            ),
            (
                Preconditions {
                    if_none_match: Some(&other),
                    ..none
                },
                None,
            ),
            (
                Preconditions {
                    if_modified_since: Some(&then),
                    ..none
                },
                Some(304),
            ),
            (
                Preconditions {
                    if_modified_since: Some(&after),
                    ..none
                },
                Some(304),
            ),
            (
                Preconditions {
                    if_modified_since: Some(&before),
                    ..none
                },
                None,
            ),
            // If-None-Match decides; If-Modified-Since is then ignored.
            (
                Preconditions {
                    if_none_match: Some(&same),
                    if_modified_since: Some(&before),
                    ..none
                },
                Some(304),
            ),
            (
                Preconditions {
                    if_none_match: Some(&other),
                    if_modified_since: Some(&after),
                    ..none
                },
                None,
            ),
            // A failed If-Match answers 412 before anything answers 304.
            (
                Preconditions {
                    if_match: Some(&other),
                    if_none_match: Some(&same),
                    ..none
                },
                Some(412),
            ),
        ] {
            assert_eq!(outcome(preconditions), expected, "{preconditions:?}");
        }
        // An unknown ETag: only `*` matches.
        let unknown = Current {
            e_tag: None,
            ..current()
        };
        assert!(
            Preconditions {
                if_match: Some(&any),
                ..none
            }
            .check(unknown)
            .is_ok()
        );
        assert!(
            Preconditions {
                if_match: Some(&same),
                ..none
            }
            .check(unknown)
            .is_err()
        );
    }

    #[test]
    fn a_range_holds_only_for_the_same_object() {
        assert!(range_holds(&format!("\"{E_TAG}\""), current()));
        assert!(!range_holds("\"ffff\"", current()));
        assert!(!range_holds(&format!("W/\"{E_TAG}\""), current()));
        assert!(range_holds("Thu, 01 Jan 1970 00:16:40 GMT", current()));
        assert!(!range_holds("Thu, 01 Jan 1970 00:16:41 GMT", current()));
        assert!(!range_holds("yesterday", current()));
    }
}

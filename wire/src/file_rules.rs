//! What a file must be before anything is signed: not empty, not larger than
//! the limit, of an accepted type. Shared: the browser checks before it asks
//! for a signature (so a refusal is instant), the server again before it signs.

use serde::{Deserialize, Serialize};

use crate::size::human_size;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRules {
    pub max_bytes: u64,
    /// Media type patterns such as `image/*` or `application/pdf`; empty means any type.
    pub allowed_types: Vec<String>,
}

/// Why a file may not be uploaded, as a sentence the person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("The file is empty. Choose a file with something in it.")]
    Empty,
    #[error(
        "The file is {} but at most {} can be uploaded. Choose a smaller file.",
        human_size(*.size),
        human_size(*.max)
    )]
    TooLarge { size: u64, max: u64 },
    #[error("Files of type {essence} are not accepted here. Accepted types: {accepted}.")]
    TypeNotAccepted { essence: String, accepted: String },
    /// The type as given, without control characters and cut short.
    #[error("\"{0}\" is not a valid file type.")]
    InvalidType(String),
}

/// Files whose type the browser does not know are sent as this.
pub const UNKNOWN_TYPE: &str = "application/octet-stream";

impl FileRules {
    /// Parses a comma-separated list of patterns (`COURIER_ALLOWED_TYPES`).
    pub fn parse_types(raw: &str) -> Result<Vec<String>, String> {
        let mut patterns = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let pattern = item.to_ascii_lowercase();
            let valid = match pattern.split_once('/') {
                Some(("*", "*")) => true,
                Some((kind, "*")) => is_token(kind),
                Some((kind, subtype)) => is_token(kind) && is_token(subtype),
                None => false,
            };
            if !valid {
                return Err(format!(
                    "\"{item}\" is not a media type pattern such as image/* or application/pdf"
                ));
            }
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        Ok(patterns)
    }

    pub fn allows_type(&self, essence: &str) -> bool {
        self.allowed_types.is_empty()
            || self.allowed_types.iter().any(|pattern| match pattern.split_once('/') {
                Some(("*", "*")) => true,
                Some((kind, "*")) => essence.split_once('/').is_some_and(|(k, _)| k == kind),
                _ => pattern == essence,
            })
    }

    /// Checks a file as the browser describes it; returns its media type essence.
    pub fn check(&self, size: u64, content_type: &str) -> Result<String, FileRefusal> {
        if size == 0 {
            return Err(FileRefusal::Empty);
        }
        if size > self.max_bytes {
            return Err(FileRefusal::TooLarge {
                size,
                max: self.max_bytes,
            });
        }
        let essence = media_type_essence(content_type)?;
        if !self.allows_type(&essence) {
            return Err(FileRefusal::TypeNotAccepted {
                essence,
                accepted: self.allowed_types.join(", "),
            });
        }
        Ok(essence)
    }

    /// The file input's `accept` attribute, if types are limited.
    pub fn accept(&self) -> Option<String> {
        (!self.allowed_types.is_empty()).then(|| self.allowed_types.join(","))
    }

    /// "Up to 100 MiB" or "Up to 100 MiB · image/*, application/pdf".
    pub fn summary(&self) -> String {
        let size = format!("Up to {}", human_size(self.max_bytes));
        if self.allowed_types.is_empty() {
            size
        } else {
            format!("{size} · {}", self.allowed_types.join(", "))
        }
    }
}

/// A media type's essence (`type/subtype`), lower-cased; empty means unknown.
pub fn media_type_essence(raw: &str) -> Result<String, FileRefusal> {
    let essence = raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if essence.is_empty() {
        return Ok(UNKNOWN_TYPE.to_owned());
    }
    match essence.split_once('/') {
        Some((kind, subtype)) if essence.len() <= 127 && is_token(kind) && is_token(subtype) => Ok(essence),
        _ => Err(FileRefusal::InvalidType(
            raw.chars().filter(|c| !c.is_control()).take(64).collect(),
        )),
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(types: &str) -> FileRules {
        FileRules {
            max_bytes: 1000,
            allowed_types: FileRules::parse_types(types).expect("valid patterns"),
        }
    }

    #[test]
    fn patterns_parse_and_match() {
        let r = rules(" image/* , Application/PDF,image/*");
        assert_eq!(r.allowed_types, vec!["image/*", "application/pdf"]);
        assert!(r.allows_type("image/png") && r.allows_type("application/pdf"));
        assert!(!r.allows_type("application/pdfx") && !r.allows_type("text/plain") && !r.allows_type("imagex/png"));
        assert!(rules("").allows_type("anything/else"));
        assert!(rules("*/*").allows_type("text/plain"));
        for bad in ["image", "*/png", "image/", "ima ge/*", "a/b/c"] {
            assert!(FileRules::parse_types(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checks_size_and_type_with_sentences() {
        let r = rules("image/*");
        assert_eq!(r.check(10, "image/PNG"), Ok("image/png".to_owned()));
        assert!(matches!(r.check(0, "image/png"), Err(e) if e.to_string().contains("empty")));
        assert!(
            matches!(r.check(1001, "image/png"), Err(e @ FileRefusal::TooLarge { .. }) if e.to_string().contains("1000 bytes"))
        );
        assert!(
            matches!(r.check(10, "text/html"), Err(e @ FileRefusal::TypeNotAccepted { .. }) if e.to_string().contains("text/html") && e.to_string().contains("image/*"))
        );
        // Unknown types count as application/octet-stream, which image/* does not allow.
        assert!(r.check(10, "").is_err());
        assert_eq!(rules("").check(10, ""), Ok(UNKNOWN_TYPE.to_owned()));
        assert_eq!(r.accept().as_deref(), Some("image/*"));
        assert_eq!(r.summary(), "Up to 1000 bytes · image/*");
    }

    #[test]
    fn essences_are_validated() {
        assert_eq!(
            media_type_essence("text/plain; charset=utf-8").as_deref(),
            Ok("text/plain")
        );
        for bad in ["text", "text/", "/plain", "text/plain\r\nX: y", "a/b/c", "téxt/plain"] {
            assert!(media_type_essence(bad).is_err(), "{bad}");
        }
    }
}

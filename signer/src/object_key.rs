//! Object keys. The server picks every key. Grants write under
//! `uploads/<uuid v4>/<name>`; a confirmed upload is copied to
//! `files/<id>/<name>`, where no grant ever reaches, so its links keep
//! serving the bytes that were confirmed. Public uploads have the same two
//! areas under `public/`: `public/uploads/<uuid>/` while being uploaded,
//! `public/files/<id>/` once confirmed, which is all anonymous readers reach.

use uuid::Uuid;
use wire::LinkKind;

use crate::file_name::FileName;

const UPLOADS: &str = "uploads/";
const FILES: &str = "files/";
/// Where public files live; anonymous readers reach its `files/` only.
pub const PUBLIC: &str = "public/";
/// The prefix anonymous readers may GET: confirmed public files.
pub const PUBLIC_FILES: &str = "public/files/";
/// Unconfirmed public uploads (expired after a day, like `uploads/`).
pub const PUBLIC_UPLOADS: &str = "public/uploads/";
/// A key in a URL path or `x-amz-copy-source`: SigV4's URI encoding
/// (everything but unreserved characters), slashes kept.
pub const KEY_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Hex digits in a confirmed file's id (128 bits).
pub const FILE_ID_LEN: usize = 32;

const fn root(link: LinkKind) -> &'static str {
    match link {
        LinkKind::Expiring => "",
        LinkKind::Public => PUBLIC,
    }
}

/// A per-page prefix, `[public/]uploads/<uuid>/`, for the plain HTML form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadPrefix(String);

impl UploadPrefix {
    pub fn generate(link: LinkKind) -> Self {
        Self::with_room(link, 0)
    }

    /// A fresh prefix in a string with room for `extra` more bytes (the name).
    fn with_room(link: LinkKind, extra: usize) -> Self {
        let mut uuid = Uuid::encode_buffer();
        let id = Uuid::new_v4().hyphenated().encode_lower(&mut uuid);
        let mut prefix = String::with_capacity(PUBLIC.len() + UPLOADS.len() + id.len() + 1 + extra);
        for part in [root(link), UPLOADS, id, "/"] {
            prefix.push_str(part);
        }
        Self(prefix)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key the form sends: S3 replaces `${filename}` with the file's name.
    pub fn form_key(&self) -> String {
        format!("{}${{filename}}", self.0)
    }
}

/// Where a key lives: written by a grant, or confirmed and read-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyArea {
    /// `[public/]uploads/<uuid>/<name>`: what an upload grant may write.
    Upload,
    /// `[public/]files/<id>/<name>`: a confirmed file; no grant covers it.
    Confirmed,
}

/// A key Courier issued (or one that has the shape of one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey {
    key: String,
    prefix_len: usize,
    area: KeyArea,
    link: LinkKind,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not under [public/]uploads/<id>/ or [public/]files/<id>/")]
    OutsideUploads,
    #[error("the key has no file name")]
    NoName,
    #[error("the key has a forbidden character or segment")]
    Forbidden,
}

impl ObjectKey {
    /// Longest key S3 allows, in bytes.
    pub const MAX_LEN: usize = 1024;

    /// A fresh key for one upload of `name`, with the link it will get.
    pub fn for_upload(name: &FileName, link: LinkKind) -> Self {
        let segment = name.key_segment();
        let UploadPrefix(mut key) = UploadPrefix::with_room(link, segment.len());
        let prefix_len = key.len();
        key.push_str(&segment);
        Self {
            key,
            prefix_len,
            area: KeyArea::Upload,
            link,
        }
    }

    /// A fresh final key for a multipart upload of `name`:
    /// `[public/]files/<random id>/<name>` (see `multipart`).
    pub fn for_multipart(name: &FileName, link: LinkKind) -> Result<Self, KeyError> {
        let id = Uuid::new_v4().simple().to_string();
        Self::parse(&format!("{}{FILES}{id}/{}", root(link), name.key_segment()))
    }

    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let (link, rooted) = match raw.strip_prefix(PUBLIC) {
            Some(rest) => (LinkKind::Public, rest),
            None => (LinkKind::Expiring, raw),
        };
        let (area, rest) = if let Some(rest) = rooted.strip_prefix(UPLOADS) {
            (KeyArea::Upload, rest)
        } else if let Some(rest) = rooted.strip_prefix(FILES) {
            (KeyArea::Confirmed, rest)
        } else {
            return Err(KeyError::OutsideUploads);
        };
        let (id, name) = rest.split_once('/').ok_or(KeyError::OutsideUploads)?;
        // One key, one spelling: the hyphenated lower-case uuid, or lower-case hex.
        let canonical = match area {
            KeyArea::Upload => Uuid::try_parse(id)
                .map(|u| u.hyphenated().to_string() == id)
                .unwrap_or(false),
            KeyArea::Confirmed => {
                id.len() == FILE_ID_LEN && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            }
        };
        if !canonical {
            return Err(KeyError::OutsideUploads);
        }
        if name.is_empty() {
            return Err(KeyError::NoName);
        }
        check_store_key(raw)?;
        Ok(Self {
            key: raw.to_owned(),
            prefix_len: raw.len() - name.len(),
            area,
            link,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    pub fn area(&self) -> KeyArea {
        self.area
    }

    /// The link this key's file gets: public under `public/`, else expiring.
    pub fn link(&self) -> LinkKind {
        self.link
    }

    /// `[public/]uploads/<uuid>/` (or `[public/]files/<id>/`)
    pub fn prefix(&self) -> &str {
        &self.key[..self.prefix_len]
    }

    /// What follows the prefix.
    pub fn name(&self) -> &str {
        &self.key[self.prefix_len..]
    }

    /// Where this upload goes once confirmed: `[public/]files/<id>/<name>`,
    /// public if the upload was. `id` is derived by the signer from the key
    /// and the confirmed ETag, so other bytes can never land on the same key.
    pub fn confirmed(&self, id: &str) -> Result<Self, KeyError> {
        Self::parse(&format!("{}{FILES}{id}/{}", root(self.link), self.name()))
    }
}

/// What every key must be on any store, checked wherever a key arrives: at
/// most 1024 bytes, no control characters or backslashes, and no empty, `.`
/// or `..` segments (a file-system store would resolve them to another key).
pub fn check_store_key(raw: &str) -> Result<(), KeyError> {
    if raw.is_empty()
        || raw.len() > ObjectKey::MAX_LEN
        || raw.chars().any(|c| c.is_control() || c == '\\')
        || raw.split('/').any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(KeyError::Forbidden);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_parse_back() {
        let name = FileName::parse("Quarterly report.pdf").expect("name");
        let key = ObjectKey::for_upload(&name, LinkKind::Expiring);
        assert!(key.as_str().starts_with("uploads/"));
        assert!(key.as_str().ends_with("/Quarterly-report.pdf"));
        let parsed = ObjectKey::parse(key.as_str()).expect("parses");
        assert_eq!(parsed, key);
        assert_eq!(parsed.name(), "Quarterly-report.pdf");
        assert_eq!(parsed.prefix().len(), "uploads/".len() + 37);
    }

    #[test]
    fn form_keys_carry_the_filename_variable() {
        let prefix = UploadPrefix::generate(LinkKind::Expiring);
        assert_ne!(
            prefix,
            UploadPrefix::generate(LinkKind::Expiring),
            "each page gets its own prefix"
        );
        // What the store writes once it substitutes a name is a key of that prefix.
        let stored = prefix.form_key().replace("${filename}", "photo.jpg");
        let key = ObjectKey::parse(&stored).expect("a key");
        assert_eq!(
            (key.prefix(), key.name(), key.area()),
            (prefix.as_str(), "photo.jpg", KeyArea::Upload)
        );
    }

    #[test]
    fn refuses_keys_outside_uploads() {
        let id = "6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa";
        for (raw, error) in [
            ("secrets/x", KeyError::OutsideUploads),
            ("uploads/x", KeyError::OutsideUploads),
            ("uploads/not-a-uuid/x", KeyError::OutsideUploads),
            (
                "uploads/6F1D1C52-3A55-4F4C-9A4E-1D7F25D1C0AA/x",
                KeyError::OutsideUploads,
            ),
            (
                "/uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x",
                KeyError::OutsideUploads,
            ),
            (&format!("uploads/{id}/"), KeyError::NoName),
            (&format!("uploads/{id}/../../x"), KeyError::Forbidden),
            (&format!("uploads/{id}/a//b"), KeyError::Forbidden),
            (&format!("uploads/{id}/a\nb"), KeyError::Forbidden),
            (&format!("uploads/{id}/a\\..\\b"), KeyError::Forbidden),
            (&format!("uploads/{id}/./b"), KeyError::Forbidden),
            (&format!("uploads/{id}/b/"), KeyError::Forbidden),
            ("files/0123456789abcdef/x", KeyError::OutsideUploads),
            ("files/0123456789ABCDEF0123456789ABCDEF/x", KeyError::OutsideUploads),
            ("files/0123456789abcdef0123456789abcdef/", KeyError::NoName),
        ] {
            assert_eq!(ObjectKey::parse(raw), Err(error), "{raw}");
        }
        assert!(ObjectKey::parse(&format!("uploads/{id}/résumé 2026.pdf")).is_ok());
    }

    #[test]
    fn a_confirmed_key_keeps_the_name_under_files() {
        let upload = ObjectKey::parse("uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/report.pdf").expect("key");
        let confirmed = upload.confirmed("0123456789abcdef0123456789abcdef").expect("key");
        assert_eq!(confirmed.as_str(), "files/0123456789abcdef0123456789abcdef/report.pdf");
        assert_eq!(confirmed.area(), KeyArea::Confirmed);
        assert_eq!(confirmed.name(), "report.pdf");
        assert_eq!(ObjectKey::parse(confirmed.as_str()), Ok(confirmed));
        assert!(upload.confirmed("../../x").is_err());
    }

    #[test]
    fn public_keys_stay_public_and_private_ones_private() {
        let name = FileName::parse("photo.jpg").expect("name");
        let upload = ObjectKey::for_upload(&name, LinkKind::Public);
        assert!(upload.as_str().starts_with(PUBLIC_UPLOADS), "{}", upload.as_str());
        assert_eq!((upload.area(), upload.link()), (KeyArea::Upload, LinkKind::Public));
        assert_eq!(ObjectKey::parse(upload.as_str()), Ok(upload.clone()));
        let confirmed = upload.confirmed("0123456789abcdef0123456789abcdef").expect("key");
        assert_eq!(
            confirmed.as_str(),
            "public/files/0123456789abcdef0123456789abcdef/photo.jpg"
        );
        assert!(confirmed.as_str().starts_with(PUBLIC_FILES));
        assert_eq!(confirmed.link(), LinkKind::Public);
        let private = ObjectKey::for_upload(&name, LinkKind::Expiring);
        assert_eq!(private.link(), LinkKind::Expiring);
        assert!(
            !private
                .confirmed("0123456789abcdef0123456789abcdef")
                .expect("key")
                .as_str()
                .starts_with(PUBLIC)
        );
        let prefix = UploadPrefix::generate(LinkKind::Public);
        assert!(prefix.as_str().starts_with(PUBLIC_UPLOADS));
        for bad in [
            "public/x",
            "public/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x",
            "public/public/uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x",
            "public/uploads/../uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn store_keys_never_escape() {
        for bad in [
            "", "a/../b", "..", "a/./b", "a//b", "/a", "a/", "a\\b", "a\u{7f}b", "a\nb",
        ] {
            assert_eq!(check_store_key(bad), Err(KeyError::Forbidden), "{bad:?}");
        }
        for good in ["a", "a/b.c", "uploads/x/résumé 2026.pdf", "a/..b/c.."] {
            assert_eq!(check_store_key(good), Ok(()), "{good:?}");
        }
        assert!(check_store_key(&"k".repeat(1025)).is_err());
    }
}

//! Object keys. The server picks every key: `uploads/<uuid v4>/<name>`.

use uuid::Uuid;

use super::file_name::FileName;

const ROOT: &str = "uploads/";

/// A per-page prefix, `uploads/<uuid>/`, for the plain HTML form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadPrefix(String);

impl UploadPrefix {
    pub fn generate() -> Self {
        Self(format!("{ROOT}{}/", Uuid::new_v4()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key the form sends: S3 replaces `${filename}` with the file's name.
    pub fn form_key(&self) -> String {
        format!("{}${{filename}}", self.0)
    }
}

/// A key Courier issued (or one that has the shape of one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey {
    key: String,
    prefix_len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not under uploads/<id>/")]
    OutsideUploads,
    #[error("the key has no file name")]
    NoName,
    #[error("the key has a forbidden character or segment")]
    Forbidden,
}

impl ObjectKey {
    /// Longest key S3 allows, in bytes.
    pub const MAX_LEN: usize = 1024;

    /// A fresh key for one upload of `name`.
    pub fn for_upload(name: &FileName) -> Self {
        let prefix = UploadPrefix::generate();
        let prefix_len = prefix.0.len();
        Self {
            key: format!("{}{}", prefix.0, name.key_segment()),
            prefix_len,
        }
    }

    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let rest = raw.strip_prefix(ROOT).ok_or(KeyError::OutsideUploads)?;
        let (id, name) = rest.split_once('/').ok_or(KeyError::OutsideUploads)?;
        // Only the hyphenated form: one key, one spelling.
        let canonical = Uuid::try_parse(id)
            .map(|u| u.hyphenated().to_string() == id)
            .unwrap_or(false);
        if !canonical {
            return Err(KeyError::OutsideUploads);
        }
        if name.is_empty() {
            return Err(KeyError::NoName);
        }
        if raw.len() > Self::MAX_LEN
            || raw.chars().any(char::is_control)
            || name.split(['/', '\\']).any(|s| s == "." || s == ".." || s.is_empty())
        {
            return Err(KeyError::Forbidden);
        }
        Ok(Self {
            key: raw.to_owned(),
            prefix_len: ROOT.len() + id.len() + 1,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// `uploads/<uuid>/`
    pub fn prefix(&self) -> &str {
        &self.key[..self.prefix_len]
    }

    /// What follows the prefix.
    pub fn name(&self) -> &str {
        &self.key[self.prefix_len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_parse_back() {
        let name = FileName::parse("Quarterly report.pdf").expect("name");
        let key = ObjectKey::for_upload(&name);
        assert!(key.as_str().starts_with("uploads/"));
        assert!(key.as_str().ends_with("/Quarterly-report.pdf"));
        let parsed = ObjectKey::parse(key.as_str()).expect("parses");
        assert_eq!(parsed, key);
        assert_eq!(parsed.name(), "Quarterly-report.pdf");
        assert_eq!(parsed.prefix().len(), "uploads/".len() + 37);
    }

    #[test]
    fn form_keys_carry_the_filename_variable() {
        let prefix = UploadPrefix::generate();
        assert_eq!(prefix.form_key(), format!("{}${{filename}}", prefix.as_str()));
        assert!(prefix.as_str().ends_with('/'));
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
        ] {
            assert_eq!(ObjectKey::parse(raw), Err(error), "{raw}");
        }
        assert!(ObjectKey::parse(&format!("uploads/{id}/résumé 2026.pdf")).is_ok());
    }
}

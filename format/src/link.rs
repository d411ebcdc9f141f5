//! A share's link: Courier's `/s/<id>`, and after `#` the secrets of its
//! files, which browsers never send to a server (FORMAT.md, "The secret and
//! the link").

use url::Url;

use crate::b64;
use crate::keys::{SECRET_LEN, Secret};

/// A share link, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareLink {
    /// Courier's URL the share is under, without a trailing slash
    /// (`https://courier.example`).
    pub base: String,
    pub id: String,
    /// File number `n`'s secret is the `n`-th.
    pub secrets: Vec<Secret>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("\"{0}\" is not a Courier share link (https://<courier>/s/<id>#<key>).")]
    NotALink(String),
    #[error("The link has no key: the part after # is missing. Ask the sender for the whole link.")]
    NoKey,
    #[error("The link's key is cut short: the part after # is not whole. Ask the sender for the whole link.")]
    CutShort,
    #[error(
        "The link's key is damaged: the part after # is not what Courier writes. Ask the sender for the whole link."
    )]
    BadKey,
}

impl ShareLink {
    pub fn parse(link: &str) -> Result<Self, LinkError> {
        let not_a_link = || LinkError::NotALink(link.to_owned());
        let url = Url::parse(link.trim()).map_err(|_| not_a_link())?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(not_a_link());
        }
        let path = url.path().trim_end_matches('/');
        let (prefix, id) = path.rsplit_once("/s/").ok_or_else(not_a_link)?;
        let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(not_a_link());
        }
        let fragment = url.fragment().unwrap_or_default();
        if fragment.is_empty() {
            return Err(LinkError::NoKey);
        }
        let bytes = b64::decode(fragment).ok_or(if fragment.len() % 4 == 1 {
            // No base64 text is 1 character past a whole group of 4.
            LinkError::CutShort
        } else {
            LinkError::BadKey
        })?;
        if bytes.len() % SECRET_LEN != 0 {
            return Err(LinkError::CutShort);
        }
        let secrets = bytes
            .chunks_exact(SECRET_LEN)
            .filter_map(|chunk| chunk.try_into().ok().map(Secret::from_bytes))
            .collect();
        Ok(Self {
            base: format!("{}{prefix}", url.origin().ascii_serialization()),
            id: id.to_owned(),
            secrets,
        })
    }

    /// File `number`'s secret (numbers start at 1).
    pub fn secret(&self, number: u32) -> Option<&Secret> {
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        self.secrets.get(index)
    }

    /// `GET` here for the share's sealed files.
    pub fn sealed_share_url(&self) -> String {
        format!("{}/s/{}/e2e", self.base, self.id)
    }

    /// `POST` a proof here for file `number`'s download.
    pub fn proof_url(&self, number: u32) -> String {
        format!("{}/s/{}/{number}/e2e", self.base, self.id)
    }
}

/// The link to hand out: the share's URL and its files' secrets.
pub fn with_secrets(share_url: &str, secrets: &[Secret]) -> String {
    let mut bytes = Vec::with_capacity(secrets.len() * SECRET_LEN);
    for secret in secrets {
        bytes.extend_from_slice(secret.as_bytes());
    }
    format!("{share_url}#{}", b64::encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AbCdEfGhIjKlMnOpQrStUv";

    #[test]
    fn a_link_gives_its_base_id_and_secrets() {
        let secrets = [Secret::from_bytes([1; 16]), Secret::from_bytes([2; 16])];
        let link = with_secrets(&format!("https://courier.example/s/{ID}"), &secrets[..1]);
        assert_eq!(link.split_once('#').map(|(_, f)| f.len()), Some(22));
        let parsed = ShareLink::parse(&link).expect("parses");
        assert_eq!(parsed.base, "https://courier.example");
        assert_eq!(parsed.id, ID);
        assert_eq!(parsed.secrets, secrets[..1]);

        let two = ShareLink::parse(&with_secrets(&format!("http://127.0.0.1:3000/s/{ID}"), &secrets)).expect("parses");
        assert_eq!(two.base, "http://127.0.0.1:3000");
        assert_eq!(two.secret(2), Some(&secrets[1]));
        assert_eq!(two.secret(0), None);
        assert_eq!(two.secret(3), None);
        assert_eq!(two.sealed_share_url(), format!("http://127.0.0.1:3000/s/{ID}/e2e"));
        assert_eq!(two.proof_url(2), format!("http://127.0.0.1:3000/s/{ID}/2/e2e"));
    }

    #[test]
    fn a_link_without_its_whole_key_is_refused_with_a_sentence() {
        let base = format!("https://courier.example/s/{ID}");
        assert_eq!(ShareLink::parse(&base), Err(LinkError::NoKey));
        assert_eq!(ShareLink::parse(&format!("{base}#")), Err(LinkError::NoKey));
        assert_eq!(
            LinkError::NoKey.to_string(),
            "The link has no key: the part after # is missing. Ask the sender for the whole link."
        );
        let whole = with_secrets(&base, &[Secret::from_bytes([1; 16]), Secret::from_bytes([2; 16])]);
        for cut in [1, 2, 10, 20] {
            let short = &whole[..whole.len() - cut];
            assert_eq!(ShareLink::parse(short), Err(LinkError::CutShort), "{cut} cut");
        }
        // Cut to one whole secret: only the share's files tell (the reader checks).
        assert_eq!(
            ShareLink::parse(&whole[..whole.len() - 21]).map(|l| l.secrets.len()),
            Ok(1)
        );
        assert_eq!(
            ShareLink::parse(&format!("{base}#{}", "*".repeat(22))),
            Err(LinkError::BadKey)
        );
        for not_a_link in [
            "courier.example/s/x#AAAA",
            "ftp://h/s/x#AA",
            "https://h/files/x#AA",
            "https://h/s/#AA",
            "https://h/s/a.b#AA",
        ] {
            assert!(
                matches!(ShareLink::parse(not_a_link), Err(LinkError::NotALink(_))),
                "{not_a_link}"
            );
        }
    }
}

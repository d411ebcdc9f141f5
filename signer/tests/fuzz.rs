//! Property tests (a bounded fuzz run in `make test`) over what reads
//! untrusted input: the upload-token parser, the file-name sanitiser and the
//! key parser. Each property runs `CASES` random cases.

use proptest::prelude::*;
use signer::file_name::FileName;
use signer::object_key::ObjectKey;
use signer::token::{TokenScope, TokenSecret, UploadToken};
use time::{Duration, OffsetDateTime};

const CASES: u32 = 5_000;
const PREFIX: &str = "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/";

fn secret() -> TokenSecret {
    TokenSecret::new(*b"fuzzing-secret-fuzzing-secret-32").expect("32 bytes")
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a time")
}

/// Names as hostile clients send them: any Unicode, path parts, controls, bidi.
fn hostile_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ._/\\\\<>\"'%-]{0,300}",
        prop::collection::vec(
            prop_oneof![
                Just("..".to_owned()),
                Just("/".to_owned()),
                Just("\\".to_owned()),
                Just("\u{202E}".to_owned()),
                Just("\u{0}".to_owned()),
                Just("\n".to_owned()),
                Just("é".to_owned()),
                Just("<script>".to_owned()),
                "[a-z]{1,8}".prop_map(|s| s),
            ],
            0..40
        )
        .prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_tokens_never_verify(token in any::<String>(), name in "[a-z]{1,12}") {
        let key = ObjectKey::parse(&format!("{PREFIX}{name}")).expect("a key");
        prop_assert!(UploadToken::verify(&secret(), &token, &key, now()).is_err());
    }

    #[test]
    fn token_shaped_garbage_never_verifies(
        scope in "[kpr]",
        expiry in any::<u64>(),
        signature in "[A-Za-z0-9_-]{0,64}",
    ) {
        let key = ObjectKey::parse(&format!("{PREFIX}a.txt")).expect("a key");
        let token = format!("{scope}.{expiry}.{signature}");
        prop_assert!(UploadToken::verify(&secret(), &token, &key, now()).is_err());
    }

    #[test]
    fn issued_tokens_verify_and_any_change_breaks_them(
        name in "[a-zA-Z0-9][a-zA-Z0-9._-]{0,39}",
        other in "[a-zA-Z0-9][a-zA-Z0-9._-]{0,39}",
        ttl in 1i64..10_000_000,
        position in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let key = ObjectKey::parse(&format!("{PREFIX}{name}")).expect("a key");
        let token = UploadToken::issue(&secret(), TokenScope::Key, key.as_str(), now() + Duration::seconds(ttl));
        prop_assert!(UploadToken::verify(&secret(), &token, &key, now()).is_ok());
        prop_assert!(UploadToken::verify(&secret(), &token, &key, now() + Duration::seconds(ttl)).is_err());
        if other != name {
            let other_key = ObjectKey::parse(&format!("{PREFIX}{other}")).expect("a key");
            prop_assert!(UploadToken::verify(&secret(), &token, &other_key, now()).is_err());
        }
        let mut chars: Vec<char> = token.chars().collect();
        let at = position.index(chars.len());
        if chars[at] != replacement {
            chars[at] = replacement;
            let tampered: String = chars.into_iter().collect();
            prop_assert!(UploadToken::verify(&secret(), &tampered, &key, now()).is_err(), "{tampered}");
        }
    }

    #[test]
    fn sanitised_names_are_safe_to_show_and_to_store(raw in hostile_name()) {
        let Ok(name) = FileName::parse(&raw) else { return Ok(()) };
        let shown = name.as_str();
        prop_assert!(!shown.is_empty() && shown.chars().count() <= FileName::MAX_CHARS);
        prop_assert_eq!(shown, shown.trim());
        prop_assert!(!shown.contains(['/', '\\']));
        let hidden = |c: char| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c);
        prop_assert!(!shown.chars().any(hidden), "{:?}", shown);
        prop_assert!(shown != "." && shown != "..");

        let segment = name.key_segment();
        prop_assert!(!segment.is_empty() && segment.len() <= FileName::MAX_SEGMENT);
        prop_assert!(segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{}", segment);
        prop_assert!(!segment.starts_with('.'));
        let key = ObjectKey::parse(&format!("{PREFIX}{segment}"));
        prop_assert!(key.is_ok(), "{:?}", key);
    }

    #[test]
    fn the_key_parser_accepts_only_keys_under_uploads(raw in prop_oneof![any::<String>(), hostile_name().prop_map(|n| format!("{PREFIX}{n}"))]) {
        if let Ok(key) = ObjectKey::parse(&raw) {
            prop_assert!(key.as_str().starts_with("uploads/"));
            prop_assert_eq!(key.prefix().len(), PREFIX.len());
            prop_assert!(!key.name().is_empty());
            prop_assert!(!key.name().split(['/', '\\']).any(|s| s == ".." || s == "."));
            prop_assert!(!key.as_str().chars().any(char::is_control));
        }
    }
}

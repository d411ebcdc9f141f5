//! `vectors/v1.json`: made by this implementation from fixed inputs, and
//! checked against it both ways. The browser's implementation is tested
//! against the same file. `COURIER_WRITE_VECTORS=1` writes it anew.

use std::path::PathBuf;
use std::sync::OnceLock;

use courier_format::keys::KDF_NAME;
use courier_format::{Kdf, Keys, Layout, Metadata, Seal, Secret, open_object, proof, seal_records};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const RECORD: u64 = 65_536;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct VectorsFile {
    format: String,
    vectors: Vec<Vector>,
}

/// One vector, its fields in FORMAT.md's order.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Vector {
    name: String,
    secret: String,
    password: Option<String>,
    kdf: Option<wire::seal::Kdf>,
    keys: KeysHex,
    plaintext_size: u64,
    object_size: u64,
    object_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_hex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    part_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    part_sha256: Option<Vec<String>>,
    metadata: Metadata,
    metadata_iv: String,
    sealed_metadata: String,
    seal: String,
    auth_nonce: String,
    auth_proof: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct KeysHex {
    content: String,
    nonce: String,
    metadata: String,
    auth: String,
}

/// The fixed inputs of one vector.
struct Case {
    name: &'static str,
    file_name: &'static str,
    content_type: &'static str,
    size: u64,
    password: Option<&'static str>,
}

const CASES: [Case; 7] = [
    Case {
        name: "empty file",
        file_name: "empty.txt",
        content_type: "text/plain",
        size: 0,
        password: None,
    },
    Case {
        name: "one byte",
        file_name: "one.bin",
        content_type: "",
        size: 1,
        password: None,
    },
    Case {
        name: "one byte short of a record",
        file_name: "résumé \"final\".pdf",
        content_type: "application/pdf",
        size: RECORD - 1,
        password: None,
    },
    Case {
        name: "one whole record",
        file_name: "record.bin",
        content_type: "application/octet-stream",
        size: RECORD,
        password: None,
    },
    Case {
        name: "one byte past a record",
        file_name: "two records.bin",
        content_type: "application/octet-stream",
        size: RECORD + 1,
        password: None,
    },
    Case {
        name: "three records and 5 bytes, with a password",
        file_name: "secret plans.tar.gz",
        content_type: "application/gzip",
        size: 3 * RECORD + 5,
        password: Some("correct horse battery staple ☃"),
    },
    Case {
        name: "130 records in two parts",
        file_name: "video.mp4",
        content_type: "video/mp4",
        size: 129 * RECORD + 1000,
        password: None,
    },
];

const NONCE: &str = "1767225600.q7Jm3xVb-9Z_A0";

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/v1.json")
}

/// Byte `i` of every vector's file is `i mod 251`.
fn plaintext(size: u64) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn fill(start: u8) -> [u8; 16] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

fn generate(index: u8, case: &Case) -> Vector {
    let secret = Secret::from_bytes(fill(0x10 * (index + 1)));
    let kdf = case
        .password
        .map(|_| Kdf::new(fill(0xa0), 600_000).expect("Courier's count"));
    let keys = Keys::derive(&secret, case.password.zip(kdf.as_ref()));
    let file = plaintext(case.size);
    let layout = Layout::new(case.size);
    let object = seal_records(&keys, 0, layout.records(), &file).expect("seals");
    let multi_part = layout.part_count() > 1;
    let part_sha256 = multi_part.then(|| {
        layout
            .parts()
            .map(|part| sha256_hex(&object[part.object.start as usize..part.object.end as usize]))
            .collect()
    });
    let metadata = Metadata {
        name: case.file_name.to_owned(),
        content_type: case.content_type.to_owned(),
        size: case.size,
    };
    let iv: [u8; 12] = std::array::from_fn(|i| 0x30 + index + i as u8);
    let sealed_metadata = metadata.seal_with_iv(&keys, iv).expect("seals");
    let seal = Seal::new(&keys, sealed_metadata.clone(), kdf.as_ref())
        .encode()
        .expect("encodes");
    Vector {
        name: case.name.to_owned(),
        secret: secret.to_b64u(),
        password: case.password.map(str::to_owned),
        kdf: kdf.as_ref().map(Kdf::to_wire),
        keys: KeysHex {
            content: hex::encode(keys.content_key()),
            nonce: hex::encode(keys.content_nonce()),
            metadata: hex::encode(keys.metadata_key()),
            auth: hex::encode(keys.auth_key()),
        },
        plaintext_size: case.size,
        object_size: object.len() as u64,
        object_sha256: sha256_hex(&object),
        object_hex: (object.len() < 256).then(|| hex::encode(&object)),
        part_size: multi_part.then(|| layout.part_size()),
        part_sha256,
        metadata,
        metadata_iv: hex::encode(iv),
        sealed_metadata,
        seal,
        auth_nonce: NONCE.to_owned(),
        auth_proof: proof::proof(&keys, NONCE),
    }
}

fn generate_all() -> String {
    let file = VectorsFile {
        format: "courier-e2e-v1".to_owned(),
        vectors: CASES
            .iter()
            .enumerate()
            .map(|(index, case)| generate(index as u8, case))
            .collect(),
    };
    let mut json = serde_json::to_string_pretty(&file).expect("serialises");
    json.push('\n');
    json
}

/// The file as stored, written first when `COURIER_WRITE_VECTORS=1`
/// (once, before either test reads it).
fn stored() -> String {
    static WRITTEN: OnceLock<()> = OnceLock::new();
    WRITTEN.get_or_init(|| {
        if std::env::var_os("COURIER_WRITE_VECTORS").is_some_and(|v| v == "1") {
            std::fs::write(path(), generate_all()).expect("writes the vectors");
        }
    });
    std::fs::read_to_string(path()).expect("format/vectors/v1.json (COURIER_WRITE_VECTORS=1 writes it)")
}

#[test]
fn the_vectors_file_is_what_this_implementation_makes() {
    let generated = generate_all();
    let stored = stored();
    assert!(
        stored == generated,
        "format/vectors/v1.json differs from what the implementation makes: \
         run with COURIER_WRITE_VECTORS=1 if the change is meant (the browser's tests read it too)"
    );
}

/// Reads the file as another implementation would: every value is taken
/// from it and checked, none from the generator.
#[test]
fn every_vector_opens_back() {
    let stored = stored();
    let file: VectorsFile = serde_json::from_str(&stored).expect("the vectors' schema");
    assert_eq!(file.format, "courier-e2e-v1");
    assert!(file.vectors.len() >= 7);
    for vector in &file.vectors {
        let name = &vector.name;
        let secret = courier_format::ShareLink::parse(&format!("https://c.example/s/id#{}", vector.secret))
            .expect("a secret as a link carries it")
            .secrets;
        let [secret] = secret.as_slice() else {
            panic!("{name}: one secret")
        };
        let kdf = vector
            .kdf
            .as_ref()
            .map(|kdf| Kdf::from_wire(kdf).expect("a kdf Courier opens"));
        if let Some(kdf) = &vector.kdf {
            assert_eq!(kdf.name, KDF_NAME);
        }
        let password = vector.password.as_deref();
        assert_eq!(password.is_some(), kdf.is_some(), "{name}");
        let keys = Keys::derive(secret, password.zip(kdf.as_ref()));
        assert_eq!(hex::encode(keys.content_key()), vector.keys.content, "{name}");
        assert_eq!(hex::encode(keys.content_nonce()), vector.keys.nonce, "{name}");
        assert_eq!(hex::encode(keys.metadata_key()), vector.keys.metadata, "{name}");
        assert_eq!(hex::encode(keys.auth_key()), vector.keys.auth, "{name}");

        let file = plaintext(vector.plaintext_size);
        let layout = Layout::new(vector.plaintext_size);
        let object = match &vector.object_hex {
            Some(object_hex) => hex::decode(object_hex).expect("hex"),
            None => seal_records(&keys, 0, layout.records(), &file).expect("seals"),
        };
        assert_eq!(object.len() as u64, vector.object_size, "{name}");
        assert_eq!(
            wire::seal::sealed_size(vector.plaintext_size),
            vector.object_size,
            "{name}"
        );
        assert_eq!(sha256_hex(&object), vector.object_sha256, "{name}");
        assert!(
            open_object(&keys, vector.plaintext_size, &object).expect("opens") == file,
            "{name}"
        );
        if let (Some(part_size), Some(hashes)) = (vector.part_size, &vector.part_sha256) {
            assert_eq!(part_size, wire::seal::sealed_part_size(vector.object_size), "{name}");
            let parts: Vec<String> = object.chunks(part_size as usize).map(sha256_hex).collect();
            assert_eq!(&parts, hashes, "{name}");
            assert!(parts.len() > 1, "{name}");
        }

        let opened = Metadata::open(&vector.sealed_metadata, &keys).expect("the metadata opens");
        assert_eq!(opened, vector.metadata, "{name}");
        let iv: [u8; 12] = hex::decode(&vector.metadata_iv)
            .expect("hex")
            .try_into()
            .expect("12 bytes");
        assert_eq!(
            opened.seal_with_iv(&keys, iv).expect("seals"),
            vector.sealed_metadata,
            "{name}"
        );

        let seal = Seal::decode(&vector.seal).expect("the seal decodes");
        assert_eq!(&seal.auth, keys.auth_key(), "{name}");
        assert_eq!(seal.meta, vector.sealed_metadata, "{name}");
        assert_eq!(seal.kdf, kdf, "{name}");
        assert_eq!(proof::proof(&keys, &vector.auth_nonce), vector.auth_proof, "{name}");
        assert!(seal.verify_proof(&vector.auth_nonce, &vector.auth_proof), "{name}");
    }
    let names: Vec<&str> = file.vectors.iter().map(|v| v.name.as_str()).collect();
    assert!(file.vectors.iter().any(|v| v.part_sha256.is_some()), "{names:?}");
    assert!(
        file.vectors
            .iter()
            .any(|v| v.kdf.as_ref().is_some_and(|kdf| kdf.iterations == 600_000)),
        "{names:?}"
    );
}

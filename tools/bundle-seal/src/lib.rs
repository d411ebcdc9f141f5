//! Names the split bundle's files that refer to one another by one hash of
//! their final content, so that every asset under `/pkg/` can be kept by
//! browsers for good.
//!
//! cargo-leptos names each asset by a hash of its content, but in a split
//! bundle three files name one another, and 0.3.6 hashes them before it
//! writes those names in (cargo-leptos #658):
//! - the page's script (`courier.<h>.js`) imports the loader
//!   (`__wasm_split.<h>.js`), and the page's module (`courier.<h>.wasm`)
//!   names it too;
//! - the loader imports the page's script and names the uploader's module
//!   (`split_uploader.<h>.wasm`), which the split manifest lists as well.
//!
//! So a build that changes only the uploader keeps the loader's name, and one
//! that changes only the loader keeps the script's: a returning browser then
//! runs its kept script, which imports a loader the new build no longer has.
//! As the script and the loader name each other, neither can be named by its
//! own content alone. All four are named by one hash of their contents
//! instead, taken with the names they give one another blanked out: any
//! change to any of them, or to the uploader's module (whose name is in the
//! loader), renames them all.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use md5::{Digest as _, Md5};

/// The length of every name hash cargo-leptos writes (MD5, base64url, no
/// padding), and so of ours: the page's module has the loader's name in its
/// data, whose length must not change.
const HASH_LEN: usize = 22;
const BLANK: &str = "______________________";

/// Where a hashed build put its files.
#[derive(Debug)]
pub struct Bundle<'a> {
    /// The site's package directory (`target/site/pkg`).
    pub pkg_dir: &'a Path,
    /// cargo-leptos' hash file (`hash.txt`), which the server reads the
    /// names from.
    pub hash_file: &'a Path,
    /// The library's output name (`courier`).
    pub output_name: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the hash file has no `{0}` line (is this a split, hashed build?)")]
    MissingHash(&'static str),
    #[error("the hash file's `{key}` hash `{hash}` is not {HASH_LEN} characters long")]
    HashLength { key: &'static str, hash: String },
    #[error("{file} does not name {name}: the bundle is not laid out as this tool expects")]
    MissingReference { file: String, name: String },
}

/// One of the files that name one another.
struct Part {
    /// The hash file's key for it.
    key: &'static str,
    /// Its name, with `{}` where the hash goes.
    pattern: String,
    old_hash: String,
    /// Its content with the names of the others it holds blanked out.
    blanked: Vec<u8>,
}

impl Part {
    fn name(&self, hash: &str) -> String {
        self.pattern.replacen("{}", hash, 1)
    }
}

/// Renames the script, the page's module, the loader and the split manifest
/// to one hash of what they hold, rewrites the names they give one another
/// and the hash file, and removes the old files with their compressed
/// copies. Returns the hash. Running it again on a sealed bundle changes
/// nothing. The new files are not compressed: that is the caller's.
pub fn seal(bundle: &Bundle) -> Result<String, SealError> {
    let hashes = read(bundle.hash_file)?;
    let hashes = String::from_utf8_lossy(&hashes).into_owned();
    let hash_of = |key: &'static str| -> Result<Option<String>, SealError> {
        let Some(hash) = hash_line(&hashes, key) else {
            return Ok(None);
        };
        if hash.len() != HASH_LEN {
            return Err(SealError::HashLength {
                key,
                hash: hash.to_owned(),
            });
        }
        Ok(Some(hash.to_owned()))
    };
    let required = |key| hash_of(key)?.ok_or(SealError::MissingHash(key));
    let out = bundle.output_name;
    let mut parts = vec![
        (required("js")?, "js", format!("{out}.{{}}.js")),
        (required("wasm")?, "wasm", format!("{out}.{{}}.wasm")),
        (required("split")?, "split", "__wasm_split.{}.js".to_owned()),
    ];
    if let Some(hash) = hash_of("manifest")? {
        parts.push((hash, "manifest", "__wasm_split_manifest.{}.json".to_owned()));
    }
    let mut parts = parts
        .into_iter()
        .map(|(old_hash, key, pattern)| Part {
            key,
            pattern,
            old_hash,
            blanked: Vec::new(),
        })
        .collect::<Vec<_>>();

    // The names each file must hold: the script and the module name the
    // loader; the loader names the script.
    let references: [(&str, &[&str]); 4] = [
        ("js", &["split"]),
        ("wasm", &["split"]),
        ("split", &["js"]),
        ("manifest", &[]),
    ];
    for at in 0..parts.len() {
        let part = &parts[at];
        let file = part.name(&part.old_hash);
        let mut content = read(&bundle.pkg_dir.join(&file))?;
        if part.key == "split" {
            content = sort_shared_names(&String::from_utf8_lossy(&content)).into_bytes();
        }
        let named = references
            .iter()
            .find(|(key, _)| *key == part.key)
            .map_or(&[][..], |(_, named)| *named);
        for named in named {
            let Some(other) = parts.iter().find(|p| p.key == *named) else {
                continue;
            };
            let name = other.name(&other.old_hash);
            if !replace(&mut content, name.as_bytes(), other.name(BLANK).as_bytes()) {
                return Err(SealError::MissingReference { file, name });
            }
        }
        parts[at].blanked = content;
    }

    let mut digest = Md5::new();
    for part in &parts {
        digest.update(part.key.as_bytes());
        digest.update((part.blanked.len() as u64).to_le_bytes());
        digest.update(&part.blanked);
    }
    let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize());

    for part in &parts {
        let mut content = part.blanked.clone();
        for other in &parts {
            replace(&mut content, other.name(BLANK).as_bytes(), other.name(&hash).as_bytes());
        }
        let new = bundle.pkg_dir.join(part.name(&hash));
        write(&new, &content)?;
        if part.old_hash != hash {
            let old = bundle.pkg_dir.join(part.name(&part.old_hash));
            for suffix in ["", ".br", ".gz"] {
                remove(&PathBuf::from(format!("{}{suffix}", old.display())))?;
            }
        }
    }
    let rewritten = hashes
        .lines()
        .map(|line| match line.split_once(':') {
            Some((key, _)) if parts.iter().any(|p| p.key == key.trim()) => format!("{key}: {hash}"),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    write(bundle.hash_file, format!("{rewritten}\n").as_bytes())?;
    Ok(hash)
}

/// The loader with the names the uploader's module shares with the page's
/// (`const { memory, … } = initSync(…)`, and again in `Object.assign`) in
/// sorted order. The splitter lists them in hash-set order, which changes
/// from one run to the next: unsorted, the same source would give a new
/// name, and returning browsers would download the bundle again.
fn sort_shared_names(loader: &str) -> String {
    let mut sorted: String = loader
        .lines()
        .map(|line| {
            let listed = line.contains("= initSync(") || line.contains("Object.assign(sharedImports.");
            let (Some(open), Some(close)) = (line.find("{ "), line.find(" }")) else {
                return line.to_owned();
            };
            if !listed || close < open + 2 {
                return line.to_owned();
            }
            let mut names: Vec<&str> = line[open + 2..close]
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .collect();
            names.sort_unstable();
            let names = names.iter().map(|name| format!("{name}, ")).collect::<String>();
            format!("{}{names}{}", &line[..open + 2], &line[close..])
        })
        .collect::<Vec<_>>()
        .join("\n");
    if loader.ends_with('\n') {
        sorted.push('\n');
    }
    sorted
}

/// The value of the hash file's `key: value` line.
fn hash_line<'h>(hashes: &'h str, key: &str) -> Option<&'h str> {
    hashes.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// Replaces every `from` in `content` with `to` (of the same length, so that
/// a binary stays valid); whether there was one.
fn replace(content: &mut [u8], from: &[u8], to: &[u8]) -> bool {
    debug_assert_eq!(from.len(), to.len());
    let mut found = false;
    let mut at = 0;
    while let Some(offset) = content[at..].windows(from.len()).position(|w| w == from) {
        let start = at + offset;
        content[start..start + to.len()].copy_from_slice(to);
        found = true;
        at = start + to.len();
    }
    found
}

fn read(path: &Path) -> Result<Vec<u8>, SealError> {
    fs::read(path).map_err(|source| SealError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, content: &[u8]) -> Result<(), SealError> {
    fs::write(path, content).map_err(|source| SealError::Io {
        path: path.to_owned(),
        source,
    })
}

fn remove(path: &Path) -> Result<(), SealError> {
    match fs::remove_file(path) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => Err(SealError::Io {
            path: path.to_owned(),
            source,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JS: &str = "jsjsjsjsjsjsjsjsjsjsjs";
    const WASM: &str = "wasmwasmwasmwasmwasmwa";
    const SPLIT: &str = "splitsplitsplitsplitsp";
    const MANIFEST: &str = "manifestmanifestmanife";
    const CSS: &str = "csscsscsscsscsscsscssc";

    /// A build as cargo-leptos 0.3.6 leaves it, whose uploader module is
    /// `split_uploader.<uploader>.wasm`.
    fn build(uploader: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a directory");
        let pkg = dir.path().join("pkg");
        fs::create_dir(&pkg).expect("pkg");
        let files = [
            (
                format!("courier.{JS}.js"),
                format!("import*as t from\"./__wasm_split.{SPLIT}.js\";export function initSync(){{}}"),
            ),
            (
                format!("courier.{WASM}.wasm"),
                format!("\0asm\u{1}\0\0\0data__wasm_split.{SPLIT}.js__wasm_split_shared0"),
            ),
            (
                format!("__wasm_split.{SPLIT}.js"),
                format!(
                    "import {{ initSync }} from \"/pkg/courier.{JS}.js\";const u=\"/pkg/split_uploader.{uploader}.wasm\";"
                ),
            ),
            (
                format!("__wasm_split_manifest.{MANIFEST}.json"),
                format!("{{\"uploader\":[\"split_uploader.{uploader}\"]}}"),
            ),
            (format!("courier.{CSS}.css"), "body{}".to_owned()),
        ];
        for (name, content) in files {
            fs::write(pkg.join(&name), &content).expect("a file");
            fs::write(pkg.join(format!("{name}.br")), "old brotli").expect("a brotli copy");
            fs::write(pkg.join(format!("{name}.gz")), "old gzip").expect("a gzip copy");
        }
        fs::write(
            dir.path().join("hash.txt"),
            format!("js: {JS}\nwasm: {WASM}\ncss: {CSS}\nmanifest: {MANIFEST}\nsplit: {SPLIT}\n"),
        )
        .expect("hash.txt");
        dir
    }

    fn seal_in(dir: &Path) -> Result<String, SealError> {
        seal(&Bundle {
            pkg_dir: &dir.join("pkg"),
            hash_file: &dir.join("hash.txt"),
            output_name: "courier",
        })
    }

    fn text(dir: &Path, name: &str) -> String {
        fs::read_to_string(dir.join("pkg").join(name)).expect(name)
    }

    #[test]
    fn the_files_that_name_one_another_get_one_new_name_and_name_it() {
        let dir = build("uploader111111111111111");
        let hash = seal_in(dir.path()).expect("sealed");
        assert_eq!(hash.len(), HASH_LEN);
        assert_eq!(
            fs::read_to_string(dir.path().join("hash.txt")).expect("hash.txt"),
            format!("js: {hash}\nwasm: {hash}\ncss: {CSS}\nmanifest: {hash}\nsplit: {hash}\n")
        );
        let script = text(dir.path(), &format!("courier.{hash}.js"));
        assert!(script.contains(&format!("\"./__wasm_split.{hash}.js\"")), "{script}");
        let loader = text(dir.path(), &format!("__wasm_split.{hash}.js"));
        assert!(loader.contains(&format!("\"/pkg/courier.{hash}.js\"")), "{loader}");
        assert!(
            loader.contains("split_uploader.uploader111111111111111.wasm"),
            "{loader}"
        );
        let module = fs::read(dir.path().join("pkg").join(format!("courier.{hash}.wasm"))).expect("module");
        let before = format!("\0asm\u{1}\0\0\0data__wasm_split.{SPLIT}.js__wasm_split_shared0");
        assert_eq!(module.len(), before.len(), "the module's data keeps its length");
        assert!(String::from_utf8_lossy(&module).contains(&format!("__wasm_split.{hash}.js")));
        text(dir.path(), &format!("__wasm_split_manifest.{hash}.json"));
        // The old names are gone with their compressed copies; the rest stays.
        let left: Vec<String> = fs::read_dir(dir.path().join("pkg"))
            .expect("pkg")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        for old in [JS, WASM, SPLIT, MANIFEST] {
            assert!(left.iter().all(|name| !name.contains(old)), "{old}: {left:?}");
        }
        assert_eq!(left.iter().filter(|name| name.contains(CSS)).count(), 3, "{left:?}");
    }

    /// cargo-leptos #658: a change to the uploader alone kept the loader's
    /// name, and the script that imports it kept its own.
    #[test]
    fn a_new_uploader_renames_the_script_and_the_loader() {
        let first = seal_in(build("uploader111111111111111").path()).expect("sealed");
        let second = seal_in(build("uploader222222222222222").path()).expect("sealed");
        assert_ne!(first, second);
    }

    /// The splitter lists the shared names in another order from run to run.
    #[test]
    fn the_order_the_splitter_lists_shared_names_in_does_not_rename_anything() {
        let loader = |names: &str| {
            format!(
                "import {{ initSync }} from \"/pkg/courier.{JS}.js\";\n        sharedImports = {{ __wasm_split: {{  }} }};\n        const {{ {names},  }} = initSync(undefined, undefined);\n        Object.assign(sharedImports.__wasm_split, {{ {names},  }});\nconst u=\"/pkg/split_uploader.uploader111111111111111.wasm\";\n"
            )
        };
        let sealed = [
            "memory, __indirect_function_table, __wasm_split_shared0",
            "__wasm_split_shared0, memory, __indirect_function_table",
        ]
        .map(|names| {
            let dir = build("uploader111111111111111");
            fs::write(
                dir.path().join("pkg").join(format!("__wasm_split.{SPLIT}.js")),
                loader(names),
            )
            .expect("loader");
            let hash = seal_in(dir.path()).expect("sealed");
            (hash.clone(), text(dir.path(), &format!("__wasm_split.{hash}.js")))
        });
        assert_eq!(sealed[0], sealed[1]);
        let (hash, content) = &sealed[0];
        assert!(
            content.contains("const { __indirect_function_table, __wasm_split_shared0, memory,  } = initSync(")
                && content.contains("Object.assign(sharedImports.__wasm_split, { __indirect_function_table, __wasm_split_shared0, memory,  });")
                && content.contains("sharedImports = { __wasm_split: {  } };")
                && content.contains(&format!("/pkg/courier.{hash}.js")),
            "{content}"
        );
    }

    #[test]
    fn sealing_a_sealed_bundle_changes_nothing() {
        let dir = build("uploader111111111111111");
        let hash = seal_in(dir.path()).expect("sealed");
        let script = text(dir.path(), &format!("courier.{hash}.js"));
        assert_eq!(seal_in(dir.path()).expect("sealed again"), hash);
        assert_eq!(text(dir.path(), &format!("courier.{hash}.js")), script);
    }

    #[test]
    fn a_bundle_laid_out_otherwise_is_refused_untouched() {
        let dir = build("uploader111111111111111");
        fs::write(
            dir.path().join("pkg").join(format!("courier.{JS}.js")),
            "no loader here",
        )
        .expect("script");
        let refused = seal_in(dir.path()).expect_err("refused");
        assert!(matches!(refused, SealError::MissingReference { .. }), "{refused}");
        assert!(
            fs::read_to_string(dir.path().join("hash.txt"))
                .expect("hash.txt")
                .contains(&format!("js: {JS}"))
        );
        fs::write(dir.path().join("hash.txt"), format!("js: {JS}\nwasm: {WASM}\n")).expect("hash.txt");
        assert!(matches!(seal_in(dir.path()), Err(SealError::MissingHash("split"))));
    }
}

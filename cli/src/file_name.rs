//! A file's name from its metadata is the sender's word: it becomes a
//! file name in one directory, never a path.

/// The longest name most file systems take, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// `name` as one safe file name: no separators, no NUL or control
/// characters, no `.`/`..`, not hidden, not too long; `fallback` when
/// nothing is left.
pub(crate) fn sanitise(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    // Leading dots would hide the file (or make `..`); trailing dots and
    // spaces are dropped by some file systems.
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let mut name = String::with_capacity(trimmed.len().min(MAX_NAME_BYTES));
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > MAX_NAME_BYTES {
            break;
        }
        name.push(c);
    }
    if name.is_empty() { fallback.to_owned() } else { name }
}

/// The `n`-th name to try when `name` is taken: `report (2).pdf`.
pub(crate) fn numbered(name: &str, n: u32) -> String {
    match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => format!("{stem} ({n}).{extension}"),
        _ => format!("{name} ({n})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_never_leaves_its_directory() {
        for (name, safe) in [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "_.._etc_passwd"),
            ("/etc/passwd", "_etc_passwd"),
            ("..", "download"),
            (".", "download"),
            ("", "download"),
            ("   ", "download"),
            (".bashrc", "bashrc"),
            ("a\0b\nc\u{7f}d\u{9b}e", "a_b_c_d_e"),
            ("dir\\file.txt", "dir_file.txt"),
            ("résumé.pdf", "résumé.pdf"),
            ("name. ", "name"),
        ] {
            assert_eq!(sanitise(name, "download"), safe, "{name:?}");
        }
        let long = sanitise(&"é".repeat(300), "download");
        assert!(long.len() <= MAX_NAME_BYTES && long.chars().all(|c| c == 'é'));
    }

    #[test]
    fn a_taken_name_gets_a_number_before_its_extension() {
        assert_eq!(numbered("report.pdf", 2), "report (2).pdf");
        assert_eq!(numbered("archive.tar.gz", 3), "archive.tar (3).gz");
        assert_eq!(numbered("README", 2), "README (2)");
    }
}

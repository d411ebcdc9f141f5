//! File names: the one the person chose (kept for the page and the
//! download's `Content-Disposition`) and the safe one that goes in the key.

/// A file name as the person chose it: the last path component, trimmed,
/// without control, bidi-override or zero-width characters, runs of spaces
/// as one, at most two combining marks on a letter, at most 255 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    #[error("the file has no name")]
    Empty,
}

impl FileName {
    pub const MAX_CHARS: usize = 255;
    /// Longest safe key segment, in bytes: `uploads/<uuid>/` plus this stays
    /// under the 160 bytes a file-system store can name (its metadata file
    /// is named after the key in base64).
    pub const MAX_SEGMENT: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FileNameError> {
        // A name, not a path: browsers send base names, other clients may not.
        let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned = visible(base);
        let cleaned = cut_keeping_extension(cleaned.trim(), Self::MAX_CHARS);
        let cleaned = cleaned.trim();
        if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
            return Err(FileNameError::Empty);
        }
        Ok(Self(cleaned.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as one safe key segment: ASCII letters, digits, `.`, `-` and
    /// `_`; no leading dot; the extension kept when the name is cut.
    pub fn key_segment(&self) -> String {
        let mut segment = String::with_capacity(self.0.len());
        for c in self.0.chars() {
            let mapped = match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
                c if c.is_whitespace() => '-',
                _ => '_',
            };
            // Collapse runs of replacements so "résumé ✓.pdf" stays readable.
            if matches!(mapped, '_' | '-') && segment.ends_with(mapped) {
                continue;
            }
            segment.push(mapped);
        }
        let segment = segment.trim_start_matches(['.', '-', '_']);
        let segment = if segment.len() > Self::MAX_SEGMENT {
            match segment.rfind('.') {
                Some(dot) if segment.len() - dot <= 16 => {
                    let extension = &segment[dot..];
                    format!("{}{extension}", &segment[..Self::MAX_SEGMENT - extension.len()])
                }
                _ => segment[..Self::MAX_SEGMENT].to_owned(),
            }
        } else {
            segment.to_owned()
        };
        if segment.trim_matches(['.', '-', '_']).is_empty() {
            "file".to_owned()
        } else {
            segment
        }
    }
}

/// At most `max` characters, keeping a short extension (`.pdf`, `.tar.gz`'s `.gz`).
fn cut_keeping_extension(name: &str, max: usize) -> String {
    let count = name.chars().count();
    if count <= max {
        return name.to_owned();
    }
    let extension = name
        .rfind('.')
        .map(|dot| &name[dot..])
        .filter(|e| e.chars().count() <= 16)
        .unwrap_or("");
    let stem: String = name.chars().take(max - extension.chars().count()).collect();
    format!("{stem}{extension}")
}

/// What a person sees is what the name holds: nothing invisible, no run of
/// spaces that pushes the real extension out of sight
/// (`report.pdf      .exe`), no stack of combining marks drawn over the
/// neighbouring characters. One or two marks stay: decomposed accents (macOS
/// names are NFD) and scripts such as Vietnamese need them.
fn visible(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut marks = 0;
    for c in name.chars() {
        if is_hidden_or_control(c) {
            continue;
        }
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            marks = 0;
            continue;
        }
        if is_combining_mark(c) {
            marks += 1;
            if marks > 2 {
                continue;
            }
        } else {
            marks = 0;
        }
        out.push(c);
    }
    out
}

/// The combining diacritical mark blocks.
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn is_hidden_or_control(c: char) -> bool {
    c.is_control()
        // Bidi embeddings, overrides and isolates can disguise an extension.
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        // Zero-width and invisible formatting characters.
        || matches!(c, '\u{FEFF}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{180E}' | '\u{00AD}' | '\u{034F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(raw: &str) -> String {
        FileName::parse(raw).expect("a name").key_segment()
    }

    #[test]
    fn keeps_the_original_name_for_people() {
        assert_eq!(
            FileName::parse("  résumé 2026.pdf ").expect("name").as_str(),
            "résumé 2026.pdf"
        );
        assert_eq!(
            FileName::parse("C:\\Users\\me\\photo.jpg").expect("name").as_str(),
            "photo.jpg"
        );
        assert_eq!(FileName::parse("../../etc/passwd").expect("name").as_str(), "passwd");
    }

    #[test]
    fn strips_controls_and_bidi_overrides() {
        let name = FileName::parse("invoice\u{202E}fdp.exe\u{0}\n").expect("name");
        assert_eq!(name.as_str(), "invoicefdp.exe");
    }

    #[test]
    fn nothing_hides_in_a_name() {
        let padded = FileName::parse("quarterly report.pdf \u{3000}\u{A0}   \t .exe").expect("name");
        assert_eq!(padded.as_str(), "quarterly report.pdf .exe");
        let zero_width = FileName::parse("in\u{200B}voice\u{200D}.pdf\u{2060}\u{FEFF}\u{00AD}.exe").expect("name");
        assert_eq!(zero_width.as_str(), "invoice.pdf.exe");
        // Decomposed "é" keeps its mark; a stack of ten keeps two.
        assert_eq!(
            FileName::parse("re\u{301}sume\u{301}.pdf").expect("name").as_str(),
            "re\u{301}sume\u{301}.pdf"
        );
        let stacked = format!("a{}.txt", "\u{301}".repeat(10));
        assert_eq!(FileName::parse(&stacked).expect("name").as_str(), "a\u{301}\u{301}.txt");
        assert_eq!(FileName::parse("\u{200B}\u{FEFF}"), Err(FileNameError::Empty));
    }

    #[test]
    fn refuses_empty_names() {
        for raw in ["", "   ", "/", "dir/", "..", ".", "\u{202E}"] {
            assert_eq!(FileName::parse(raw), Err(FileNameError::Empty), "{raw:?}");
        }
    }

    #[test]
    fn key_segments_are_safe() {
        assert_eq!(segment("report.pdf"), "report.pdf");
        assert_eq!(segment("résumé 2026.pdf"), "r_sum_-2026.pdf");
        assert_eq!(segment(".htaccess"), "htaccess");
        assert_eq!(segment("..."), "file");
        assert_eq!(segment("✓✓✓"), "file");
        assert_eq!(segment("a\\b"), "b");
        for raw in ["<script>alert(1)</script>.html", "a b\tc", "%2e%2e%2f", "日本語.txt"] {
            let s = segment(raw);
            assert!(
                s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)),
                "{s}"
            );
            assert!(!s.starts_with('.'), "{s}");
        }
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.tar.gz", "x".repeat(300));
        let s = segment(&long);
        assert_eq!(s.len(), FileName::MAX_SEGMENT);
        assert!(s.ends_with(".gz"), "{s}");
        assert_eq!(
            FileName::parse(&"é".repeat(400))
                .expect("name")
                .as_str()
                .chars()
                .count(),
            255
        );
        let kept = FileName::parse(&long).expect("name");
        assert_eq!(kept.as_str().chars().count(), 255);
        assert!(kept.as_str().ends_with("x.gz"));
    }
}

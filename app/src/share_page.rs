//! The share page `/s/<id>`: what someone given a share's link sees (its
//! files, each with a Download button), the password form of a locked share,
//! and the pages for a link that is over or unknown. Plain server-rendered
//! documents in the confirm page's shell: no WebAssembly, no inline script,
//! and they work with JavaScript off. The only script, `/share-all.js`, adds
//! "Download all" (see [`render`]).
//!
//! Plain data in, HTML out: the routes in `server/` fill [`SharePage`] from
//! the share database, which this crate does not know.

use leptos::prelude::*;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::confirm_page::page_document;
use crate::size::human_size;
use crate::upload::readable_time;

/// One share as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharePage {
    /// The share's id, as in its link `/s/<id>`.
    pub id: String,
    /// The files in the share's order: the n-th (from 1) downloads through `/s/<id>/<n>`.
    pub files: Vec<PageFile>,
    /// When the link stops working, RFC 3339 UTC (`2026-12-07T10:00:00Z`); `None`: never.
    pub expires_at: Option<String>,
}

/// One file of a share. Its name and type come from whoever uploaded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageFile {
    /// Its number in its link, `/s/<id>/<number>` (from 1): a file its
    /// sender deleted leaves a gap, so it is not always its place here.
    pub number: usize,
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// Downloads this file has left; `None`: no limit. At 0 it has no button.
    pub downloads_left: Option<u32>,
}

/// The Content-Security-Policy of every page here, whose files are in the
/// store at `store_origin` (`https://s3.example.com`, as
/// `signer::Signer::store_origin` gives it): scripts, styles and images from
/// the site only (the stylesheet and `/share-all.js`), forms posted back to it
/// (the password), no framing of the page, no `<base>`; and, as the script
/// touches no HTML sink, Trusted Types wherever browsers know them. Frames
/// from the site and the store: "Download all" fetches each file in a hidden
/// frame, which the site's `/s/<id>/<n>` redirects to the store (see [`render`]).
pub fn policy(store_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self' {store_origin}; \
         connect-src 'self' {store_origin}; worker-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'"
    )
}

/// The document's title on all of them: it names no file, as a locked
/// share's page must not, and history and tab bars show it.
const TITLE: &str = "Shared files · Courier";

/// In every share page's head: a share is for whoever was given its link,
/// so no search engine lists it, and no link on it tells where it came from.
const HEAD: &str = r#"<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">"#;

/// The same, with the script that reveals and runs "Download all".
const HEAD_WITH_SCRIPT: &str = r#"<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><script src="/share-all.js" defer></script>"#;

/// What may stay as it is in a path segment: an id is URL-safe base64
/// (`A-Z a-z 0-9 - _`), so a valid one goes through unchanged and anything
/// else cannot leave its segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// The whole document for an open share: each file with its size, type,
/// downloads left and a Download button (none once its limit is reached),
/// and when the link stops working.
///
/// "Download all" (two files or more to download) is `/share-all.js`
/// pointing a hidden frame at each file's `/s/<id>/<n>` in turn: every file
/// still comes from the store through its redirect, its download counted
/// like any other, and no bytes pass through Courier (a zip would have to be
/// made on the server, or in the page from bytes it fetched). Frames rather
/// than clicks on the page's links: a link redirected to another origin is a
/// navigation of the page, and in Chromium the next click cancels it unless
/// the store has already answered, so on a slow connection only the last
/// file came; each frame navigates on its own (hence `frame-src` in
/// [`policy`]). A file whose frame shows a page instead (its limit was
/// reached meanwhile) is named in the script's status line.
///
/// The button is rendered `hidden` and only the script shows it, so without
/// JavaScript there is no button that does nothing, and the page says each
/// file downloads on its own. Chromium asks once whether the site may
/// download several files (the script's status line says so); other
/// browsers start them all.
pub fn render(page: &SharePage) -> String {
    let id = utf8_percent_encode(&page.id, SEGMENT).to_string();
    let rows: Vec<FileRow> = page
        .files
        .iter()
        .map(|file| FileRow::new(&id, file.number, file))
        .collect();
    let several = rows.iter().filter(|row| row.href.is_some()).count() >= 2;
    let total = (page.files.len() >= 2)
        .then(|| human_size(page.files.iter().map(|file| file.size).fold(0, u64::saturating_add)) + " in all");
    let heading = files_in_words(page.files.len());
    let expires_at = page.expires_at.clone();
    let head = if several { HEAD_WITH_SCRIPT } else { HEAD };
    page_document(TITLE, head, move || {
        view! {
            <section class="result share" data-testid="share">
                <h2>{heading}</h2>
                {total.map(|total| view! { <p class="file-size">{total}</p> })}
                {expiry_line(expires_at)}
                {several.then(download_all)}
                <ul class="share-files">{rows.into_iter().map(FileRow::view).collect_view()}</ul>
            </section>
            <p><a href="/">"Send files with Courier"</a></p>
        }
        .into_any()
    })
}

/// The head of an encrypted share's page: the format (`/seal.js`) and the
/// page's script (`/share-e2e.js`), which opens the files in the browser.
const HEAD_SEALED: &str = r#"<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><link rel="stylesheet" href="/share-e2e.css"><script src="/seal.js" defer></script><script src="/share-e2e.js" defer></script>"#;

/// The page of a share whose files were encrypted in their sender's
/// browser (FORMAT.md). Courier knows neither their names nor their key:
/// the script reads the key from the link's `#fragment` (which never
/// reaches Courier), asks `/s/<id>/e2e` for the sealed names, and builds
/// the list inside `#e2e`; each download proves the key, then decrypts the
/// store's bytes as they arrive. Without JavaScript the page says it cannot.
/// `key_slots` is the share's highest file number: its key holds a secret
/// for each number, a deleted file's too (FORMAT.md).
pub fn render_sealed(id: &str, file_count: usize, key_slots: usize, expires_at: Option<String>) -> String {
    let heading = files_in_words(file_count);
    let id = id.to_owned();
    let files = key_slots.to_string();
    page_document(TITLE, HEAD_SEALED, move || {
        view! {
            <section class="result share sealed" data-testid="share-sealed">
                <h2>{heading}</h2>
                <p>"Encrypted by the sender: only this link's key, after its #, opens them, in this browser."</p>
                {expiry_line(expires_at)}
                <section id="e2e" data-share=id data-files=files>
                    <p class="e2e-status" role="status" aria-live="polite"></p>
                    <noscript>
                        <p class="error">"These files are decrypted in the browser, which needs JavaScript: turn it on for this page, or use `courier get` with the whole link."</p>
                    </noscript>
                </section>
            </section>
            <p><a href="/">"Send files with Courier"</a></p>
        }
        .into_any()
    })
}

/// The password form of a locked share, with `refusal` (a wrong password,
/// say) above it. It tells how many files there are and nothing about them.
pub fn render_locked(id: &str, file_count: usize, refusal: Option<&str>) -> String {
    let action = format!("/s/{}", utf8_percent_encode(id, SEGMENT));
    let heading = files_in_words(file_count);
    let form = crate::password_form::PasswordForm {
        action,
        id: "share-password",
        label: "Password",
        button: "Show the files",
    };
    let refusal = refusal.map(str::to_owned);
    page_document(TITLE, HEAD, move || {
        view! {
            <section class="result share locked" data-testid="share-locked">
                <h2>{heading}</h2>
                <p>"The sender protected this link with a password."</p>
                {form.view(refusal)}
            </section>
        }
        .into_any()
    })
}

/// The page of a share that is over, saying why in `reason` ("This link has
/// expired.", "The sender took this link back.", …).
pub fn render_gone(reason: &str) -> String {
    ended("This link no longer works", reason.to_owned())
}

/// The page of a link no share has.
pub fn render_missing() -> String {
    ended(
        "Nothing at this link",
        "There is no share at this link. Check that it was copied whole.".to_owned(),
    )
}

/// A page with nothing to download: a heading, why, and the way to Courier.
fn ended(heading: &'static str, sentence: String) -> String {
    page_document(TITLE, HEAD, move || {
        view! {
            <section class="result share failed" data-testid="share-over">
                <h2>{heading}</h2>
                <p>{sentence}</p>
            </section>
            <p><a href="/">"Go to Courier's front page"</a></p>
        }
        .into_any()
    })
}

/// The smallest side of a QR code's image, in pixels: it scans from a
/// screen at arm's length. Modules stay whole pixels, so it comes out a bit larger.
const QR_MIN_SIZE: u32 = 200;

/// The most characters any QR code holds (7,089 digits); longer text is
/// refused before the encoder spends time on it.
const QR_MAX_CHARS: usize = 7_089;

/// A share's URL as a QR code: a standalone SVG document (served at
/// `/s/<id>/qr.svg` for the sender's card), error correction M (15% of it may
/// be lost), the 4-module quiet zone, black on white whatever the theme (a
/// scanner wants dark on light), at least 200 px a side. `None` when the text
/// does not fit in a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcode::render::svg;
    use qrcode::{EcLevel, QrCode};

    if text.len() > QR_MAX_CHARS {
        return None;
    }
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color>()
            .quiet_zone(true)
            .min_dimensions(QR_MIN_SIZE, QR_MIN_SIZE)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

/// One file's line of the page, made from its [`PageFile`].
struct FileRow {
    name: String,
    details: String,
    downloads: String,
    /// Its `/s/<id>/<n>`; `None` once it has no downloads left.
    href: Option<String>,
}

impl FileRow {
    fn new(id: &str, position: usize, file: &PageFile) -> Self {
        let kind = shown(file.content_type.trim());
        let size = human_size(file.size);
        let downloads = match file.downloads_left {
            None => "Unlimited downloads".to_owned(),
            Some(0) => "Download limit reached".to_owned(),
            Some(1) => "1 download left".to_owned(),
            Some(left) => format!("{left} downloads left"),
        };
        let name = match shown(&file.name) {
            name if name.trim().is_empty() => "Unnamed file".to_owned(),
            name => name,
        };
        FileRow {
            name,
            details: if kind.is_empty() {
                size
            } else {
                format!("{size} · {kind}")
            },
            downloads,
            href: (file.downloads_left != Some(0)).then(|| format!("/s/{id}/{position}")),
        }
    }

    fn view(self) -> impl IntoView {
        let used_up = self.href.is_none();
        // The button names its file for screen readers, whose list of links
        // would otherwise hold "Download" several times.
        let button = self.href.map(|href| {
            view! {
                <a class="share-download" href=href rel="noreferrer" download="">
                    "Download"
                    <span class="sr-only">" " <bdi>{self.name.clone()}</bdi></span>
                </a>
            }
        });
        // `<bdi>`: a right-to-left name reads right without reordering what is around it.
        view! {
            <li class="share-file">
                <div class="share-file-text">
                    <h3 class="file-name"><bdi>{self.name}</bdi></h3>
                    <p class="file-meta">{self.details}</p>
                    <p class="downloads-left" class:used-up=used_up>{self.downloads}</p>
                </div>
                {button}
            </li>
        }
    }
}

/// "Download all" and what stands for it: the button, hidden until
/// `/share-all.js` shows it (and hides the note that each file downloads on
/// its own), and the line where the script says how it goes.
fn download_all() -> impl IntoView {
    view! {
        <div class="share-all">
            <button type="button" id="download-all" hidden>"Download all"</button>
            <p class="hint" id="one-by-one">"Each file downloads on its own, with its Download button."</p>
            <p class="status" id="download-all-status" role="status"></p>
        </div>
    }
}

/// When the link stops working, or that it does not.
fn expiry_line(expires_at: Option<String>) -> impl IntoView {
    match expires_at {
        Some(at) => {
            let readable = readable_time(&at);
            view! { <p class="expiry">"The link works until " <time datetime=at>{readable}</time> "."</p> }.into_any()
        }
        None => view! { <p class="expiry">"The link does not expire."</p> }.into_any(),
    }
}

/// "1 file", "3 files".
fn files_in_words(count: usize) -> String {
    match count {
        0 => "No files".to_owned(),
        1 => "1 file".to_owned(),
        n => format!("{n} files"),
    }
}

/// Text a stranger chose, as the page shows it. Escaping is Leptos's; this
/// is about what escaping leaves: characters that reorder text (bidi
/// overrides, embeddings, isolates, marks) would make `cv\u{202E}fdp.exe`
/// read `cvexe.pdf`, and control characters have no business in a name, so
/// each shows as U+FFFD instead of acting.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| if reorders_or_controls(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// Whether `c` is a control character or a bidirectional formatting one.
fn reorders_or_controls(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file numbered by its place when the page is made (`share`).
    fn file(name: &str, downloads_left: Option<u32>) -> PageFile {
        PageFile {
            number: 0,
            name: name.to_owned(),
            size: 2048,
            content_type: "application/pdf".to_owned(),
            downloads_left,
        }
    }

    fn share(files: Vec<PageFile>) -> SharePage {
        SharePage {
            id: "AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            files: numbered(files),
            expires_at: Some("2026-12-07T10:00:00Z".to_owned()),
        }
    }

    /// Each file numbered by its place, from 1.
    fn numbered(files: Vec<PageFile>) -> Vec<PageFile> {
        files
            .into_iter()
            .enumerate()
            .map(|(at, file)| PageFile { number: at + 1, ..file })
            .collect()
    }

    /// Every page: the site's stylesheet, kept out of search engines, no Referer.
    fn assert_share_head(html: &str) {
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("<link rel=\"stylesheet\""), "{html}");
        assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"), "{html}");
        assert!(
            html.contains("<meta name=\"referrer\" content=\"no-referrer\">"),
            "{html}"
        );
        assert!(html.contains("<header class=\"masthead\">"), "{html}");
    }

    #[test]
    fn share_page_escapes_hostile_names() {
        let hostile = SharePage {
            id: "AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            files: numbered(vec![
                PageFile {
                    number: 0,
                    name: "<script>alert(1)</script>\"'&.html".to_owned(),
                    size: 1,
                    content_type: "text/html\"><script>x</script>".to_owned(),
                    downloads_left: None,
                },
                file("invoice\u{202E}fdp.exe", None),
                file(&"x".repeat(500), None),
            ]),
            expires_at: Some("2026-12-07T10:00:00Z\"><script>".to_owned()),
        };
        let html = render(&hostile);
        assert_share_head(&html);
        // Only the page's own script, by its address.
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        assert!(html.contains("<script src=\"/share-all.js\" defer></script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        assert!(html.contains("text/html\"&gt;&lt;script&gt;x&lt;/script&gt;"), "{html}");
        assert!(
            html.contains("datetime=\"2026-12-07T10:00:00Z&quot;&gt;&lt;script&gt;\""),
            "{html}"
        );
        // The override does not act: the name reads as it is.
        assert!(!html.contains('\u{202E}'), "{html}");
        assert!(html.contains("<bdi>invoice\u{FFFD}fdp.exe</bdi>"), "{html}");
        // A name with no spaces is one word: the card wraps it anywhere (style/main.css).
        assert!(html.contains(&"x".repeat(500)));
        assert!(html.contains("class=\"result share\""), "{html}");
    }

    #[test]
    fn share_page_shows_each_file_and_links_its_position() {
        let html = render(&share(vec![
            file("a.pdf", Some(2)),
            file("b.pdf", Some(1)),
            file("c.pdf", None),
        ]));
        assert!(html.contains("<h2>3 files</h2>"), "{html}");
        assert!(html.contains("6 KiB in all"), "{html}");
        for (n, name) in ["a.pdf", "b.pdf", "c.pdf"].iter().enumerate() {
            let href = format!("href=\"/s/AAAAAAAAAAAAAAAAAAAAAA/{}\"", n + 1);
            assert_eq!(html.matches(&href).count(), 1, "{html}");
            assert!(html.contains(&format!("<bdi>{name}</bdi>")), "{html}");
        }
        assert!(!html.contains("/s/AAAAAAAAAAAAAAAAAAAAAA/4"), "{html}");
        assert!(html.contains("rel=\"noreferrer\""), "{html}");
        assert!(html.contains("2 KiB · application/pdf"), "{html}");
        assert!(html.contains("2 downloads left"), "{html}");
        assert!(html.contains("1 download left"), "{html}");
        assert!(html.contains("Unlimited downloads"), "{html}");
        assert!(!html.contains("WebAssembly") && !html.contains(".wasm"), "{html}");
    }

    #[test]
    fn share_page_used_up_file_has_no_link() {
        let html = render(&share(vec![file("a.pdf", Some(0)), file("b.pdf", Some(3))]));
        assert!(
            html.contains("<p class=\"downloads-left used-up\">Download limit reached</p>"),
            "{html}"
        );
        assert!(!html.contains("/s/AAAAAAAAAAAAAAAAAAAAAA/1\""), "{html}");
        assert!(html.contains("href=\"/s/AAAAAAAAAAAAAAAAAAAAAA/2\""), "{html}");
        assert_eq!(html.matches("class=\"share-download\"").count(), 1, "{html}");
        // One file left to download: nothing for "Download all" to do.
        assert!(
            !html.contains("download-all") && !html.contains("share-all.js"),
            "{html}"
        );
    }

    #[test]
    fn share_page_download_all_only_for_several_files_and_hidden() {
        let one = render(&share(vec![file("a.pdf", None)]));
        assert!(one.contains("<h2>1 file</h2>"), "{one}");
        assert!(!one.contains("Download all") && !one.contains("<script"), "{one}");
        assert!(!one.contains("in all"), "{one}");

        let two = render(&share(vec![file("a.pdf", None), file("b.pdf", None)]));
        assert!(
            two.contains("<button type=\"button\" id=\"download-all\" hidden>Download all</button>"),
            "{two}"
        );
        assert!(two.contains("<script src=\"/share-all.js\" defer></script>"), "{two}");
        // Without the script the page says how it goes.
        assert!(two.contains("Each file downloads on its own"), "{two}");
    }

    #[test]
    fn share_page_says_when_the_link_expires_or_that_it_does_not() {
        let expiring = render(&share(vec![file("a.pdf", None)]));
        assert!(
            expiring
                .contains("The link works until <time datetime=\"2026-12-07T10:00:00Z\">2026-12-07 10:00 UTC</time>"),
            "{expiring}"
        );
        let never = render(&SharePage {
            expires_at: None,
            ..share(vec![file("a.pdf", None)])
        });
        assert!(never.contains("The link does not expire."), "{never}");
        assert!(!never.contains("works until"), "{never}");
    }

    #[test]
    fn share_page_locked_shows_no_name_and_the_refusal() {
        let html = render_locked("AAAAAAAAAAAAAAAAAAAAAA", 2, Some("That password is not the one."));
        assert_share_head(&html);
        assert!(html.contains("<h2>2 files</h2>"), "{html}");
        assert!(
            html.contains("<form method=\"post\" action=\"/s/AAAAAAAAAAAAAAAAAAAAAA\" class=\"unlock\">"),
            "{html}"
        );
        assert!(
            html.contains("<label for=\"share-password\">Password</label>"),
            "{html}"
        );
        assert!(
            html.contains("type=\"password\"")
                && html.contains("name=\"password\"")
                && html.contains("autocomplete=\"current-password\""),
            "{html}"
        );
        assert!(html.contains("<button type=\"submit\">"), "{html}");
        assert!(
            html.contains("role=\"alert\"") && html.contains(">That password is not the one.</p>"),
            "{html}"
        );
        assert!(html.contains("aria-invalid=\"true\""), "{html}");
        // Nothing of the files: no links to them, no script.
        assert!(
            !html.contains("/s/AAAAAAAAAAAAAAAAAAAAAA/") && !html.contains("<script"),
            "{html}"
        );

        let first = render_locked("AAAAAAAAAAAAAAAAAAAAAA", 1, None);
        assert!(first.contains("<h2>1 file</h2>"), "{first}");
        assert!(
            !first.contains("role=\"alert\"") && !first.contains("aria-invalid"),
            "{first}"
        );

        // An id is a path segment, whatever it holds.
        let odd = render_locked("a/../b\"?x", 1, Some("<b>no</b>"));
        assert!(odd.contains("action=\"/s/a%2F%2E%2E%2Fb%22%3Fx\""), "{odd}");
        assert!(odd.contains("&lt;b&gt;no&lt;/b&gt;"), "{odd}");
    }

    #[test]
    fn share_page_gone_and_missing_say_why_and_lead_home() {
        let gone = render_gone("This link has expired.");
        assert_share_head(&gone);
        assert!(gone.contains("<p>This link has expired.</p>"), "{gone}");
        assert!(gone.contains("<a href=\"/\">Go to Courier's front page</a>"), "{gone}");
        let missing = render_missing();
        assert_share_head(&missing);
        assert!(
            missing.contains("There is no share at this link. Check that it was copied whole."),
            "{missing}"
        );
        assert!(
            missing.contains("<a href=\"/\">Go to Courier's front page</a>"),
            "{missing}"
        );
        assert!(render_gone("<i>x</i>").contains("&lt;i&gt;x&lt;/i&gt;"));
    }

    #[test]
    fn share_page_policy_allows_only_the_site_and_frames_from_the_store() {
        let policy = policy("https://s3.example.com");
        assert!(policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"));
        assert!(policy.contains("frame-src 'self' https://s3.example.com;"), "{policy}");
        assert!(policy.contains("form-action 'self'") && policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("base-uri 'none'"));
        assert!(!policy.contains("unsafe") && !policy.contains("wasm") && !policy.contains("nonce"));
        // A header value: one line of visible ASCII.
        assert!(policy.bytes().all(|b| (b' '..=b'~').contains(&b)), "{policy}");
    }

    #[test]
    fn share_page_stays_small() {
        let files = (1..=2)
            .map(|n| file(&format!("holiday photos {n}.zip"), Some(3)))
            .collect();
        let html = render(&share(files));
        assert!(html.len() < 8_000, "{} bytes", html.len());
    }

    #[test]
    fn share_page_qr_code_has_the_modules_of_its_version() {
        let url = "http://127.0.0.1:3000/s/AAAAAAAAAAAAAAAAAAAAAA";
        let svg = qr_svg(url).expect("a share's URL fits in a QR code");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(
            svg.contains("fill=\"#000000\"") && svg.contains("fill=\"#ffffff\""),
            "{svg}"
        );
        // The encoder mixes modes (the lowercase head as bytes, the id's 22
        // capitals as alphanumerics): 45 characters fit version 3 at level M,
        // where bytes alone would need version 4. Version 3 is 17 + 4 × 3 = 29
        // modules a side, 37 with the quiet zone of 4 on each side.
        let side = 37;
        let unit = QR_MIN_SIZE.div_ceil(side);
        let pixels = side * unit;
        assert!(pixels >= QR_MIN_SIZE);
        assert!(
            svg.contains(&format!(
                "width=\"{pixels}\" height=\"{pixels}\" viewBox=\"0 0 {pixels} {pixels}\""
            )),
            "{svg}"
        );
        // The finder patterns' top rows: seven dark modules from the quiet
        // zone's corner, and seven ending at the row's last module (28, 4
        // modules in), each with a light separator inside and quiet zone outside.
        let module = |x: u32, y: u32| format!("M{} {}h{unit}v{unit}", x * unit, y * unit);
        for x in (4..11).chain(26..33) {
            assert!(svg.contains(&module(x, 4)), "module ({x}, 4)");
        }
        for x in [3, 11, 25, 33] {
            assert!(!svg.contains(&module(x, 4)), "module ({x}, 4)");
        }
    }

    #[test]
    fn share_page_qr_code_refuses_what_does_not_fit() {
        assert_eq!(qr_svg(&"x".repeat(3_000)), None);
        assert_eq!(qr_svg(&"x".repeat(1_000_000)), None);
        assert!(qr_svg("").is_some());
    }
}

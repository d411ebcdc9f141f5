//! The page `/confirm-upload` shows a plain browser (the no-JavaScript path):
//! the link, or why there is none. Rendered on the server only.

use leptos::prelude::*;

use crate::error::CourierError;
use crate::model::DownloadLink;
use crate::upload::LinkDetails;

/// Where the page's "New link" button posts the file's key and owner token:
/// in the body, so the token is in no URL (history, logs, a shared screen).
pub const NEW_LINK_PATH: &str = "/new-link";

/// The stylesheet's `<link>`, with its content hash in release builds: set
/// once at start-up from the same options the app's shell uses.
static STYLESHEET: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Links the confirm pages to the site's stylesheet as `options` name it
/// (`/pkg/courier.<hash>.css` when assets are hashed).
pub fn use_stylesheet(options: &LeptosOptions) {
    let options = options.clone();
    let link = Owner::new().with(|| view! { <leptos_meta::HashedStylesheet options /> }.to_html());
    // Every app in a process serves the same site; the first one sets it.
    let _ = STYLESHEET.set(link);
}

/// The whole HTML document for one confirmation (or a new link). With the
/// owner token, an expiring link gets a "New link" button that posts it
/// back; without it (a confirmation replayed later), the link only.
pub fn render(link: DownloadLink) -> String {
    // A public link never expires: nothing to renew.
    let renewal = match (link.owner_token(), &link.expires_at) {
        (Some(token), Some(_)) => Renewal::Offered {
            key: link.key.clone(),
            token: token.to_owned(),
        },
        (None, Some(_)) => Renewal::NotHere,
        (_, None) => Renewal::Never,
    };
    // The link to hand out first: the share's, whose rules the sender keeps.
    let share = link.share.clone().map(|share| {
        let reach = match &share.expires_at {
            Some(at) => format!("It works until {}.", crate::upload::readable_time(at)),
            None => "It does not expire.".to_owned(),
        };
        view! {
            <div class="share-line" data-testid="share-line">
                <p>"Share this link: " <a class="share-url" href=share.url.clone() rel="noreferrer">{share.url.clone()}</a></p>
                <input class="link-text" type="text" readonly value=share.url aria-label="Share link" />
                <p class="expiry">{reach}" Downloads go straight from storage; the direct link below works for a shorter time."</p>
            </div>
        }
    });
    document(move || {
        view! {
            <section class="result" data-testid="result">
                <p class="status">"Uploaded."</p>
                {share}
                <LinkDetails link />
                {match renewal {
                    Renewal::Offered { key, token } => view! {
                        <form method="post" action=NEW_LINK_PATH class="new-link">
                            <input type="hidden" name="key" value=key />
                            <input type="hidden" name="token" value=token />
                            <button type="submit" class="secondary">"New link"</button>
                        </form>
                    }
                    .into_any(),
                    Renewal::NotHere => view! {
                        <p class="status">
                            "This upload was confirmed before: new links come from the page that first confirmed it."
                        </p>
                    }
                    .into_any(),
                    Renewal::Never => ().into_any(),
                }}
            </section>
        }
        .into_any()
    })
}

/// What the page offers for getting a new link.
enum Renewal {
    /// The button, carrying the owner token in its form.
    Offered { key: String, token: String },
    /// The token stayed with whoever first confirmed the upload.
    NotHere,
    /// A public link, which never expires.
    Never,
}

/// A page that says why there is no link, as a sentence.
pub fn render_refusal(error: &CourierError) -> String {
    let sentence = error.sentence().to_owned();
    document(move || {
        view! {
            <section class="result failed">
                <h2>"No link this time"</h2>
                <p class="error" role="alert">{sentence}</p>
            </section>
        }
        .into_any()
    })
}

fn document(content: impl FnOnce() -> AnyView) -> String {
    page_document("Courier", "", || {
        view! {
            {content()}
            <p><a href="/">"Upload another file"</a></p>
        }
        .into_any()
    })
}

/// A whole server-rendered document in the site's look: its stylesheet, the
/// masthead, then `content`. `title` and `head` (markup added to the head,
/// e.g. meta tags or a script) are the caller's own constants, never input,
/// hence `'static` and written as given. The share pages use it too.
pub(crate) fn page_document(title: &'static str, head: &'static str, content: impl FnOnce() -> AnyView) -> String {
    let body = Owner::new().with(|| {
        view! {
            <main class="page">
                <header class="masthead">
                    <h1><a href="/">"Courier"</a></h1>
                </header>
                {content()}
            </main>
        }
        .to_html()
    });
    let stylesheet = STYLESHEET
        .get()
        .map_or("<link rel=\"stylesheet\" href=\"/pkg/courier.css\">", String::as_str);
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"color-scheme\" content=\"light dark\">{head}<title>{title}</title>{stylesheet}</head><body>{body}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_names_and_shows_the_link() {
        let link = DownloadLink {
            key: "uploads/6f1d1c52-3a55-4f4c-9a4e-1d7f25d1c0aa/x.html".to_owned(),
            filename: "<script>alert(1)</script>.html".to_owned(),
            size: 2048,
            content_type: "text/html".to_owned(),
            etag: "abc".to_owned(),
            download_url: "http://127.0.0.1:9000/courier/x?X-Amz-Signature=1&a=2".to_owned(),
            expires_at: Some("2026-11-28T13:05:00Z".to_owned()),
            link: crate::model::LinkKind::Expiring,
            token: "r.1.abc".to_owned(),
            share: None,
            seal: None,
        };
        let html = render(link.clone());
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.html"), "{html}");
        assert!(
            html.contains("href=\"http://127.0.0.1:9000/courier/x?X-Amz-Signature=1&amp;a=2\""),
            "{html}"
        );
        assert!(html.contains("2 KiB"));
        assert!(html.contains("2026-11-28 13:05 UTC"));
        // "New link" posts the token; no URL on the page carries it.
        assert!(
            html.contains("<form method=\"post\" action=\"/new-link\"")
                && html.contains("name=\"token\" value=\"r.1.abc\""),
            "{html}"
        );
        assert!(!html.contains("token="), "{html}");

        // Without the owner token: the link, and no button.
        let replayed = render(DownloadLink {
            token: String::new(),
            ..link
        });
        assert!(replayed.contains("class=\"download-link\""), "{replayed}");
        assert!(
            !replayed.contains("New link") && !replayed.contains("<form"),
            "{replayed}"
        );
    }

    #[test]
    fn a_public_link_says_who_can_use_it_and_has_nothing_to_renew() {
        let link = DownloadLink {
            key: "public/files/0123456789abcdef0123456789abcdef/x.txt".to_owned(),
            filename: "x.txt".to_owned(),
            size: 3,
            content_type: "text/plain".to_owned(),
            etag: "abc".to_owned(),
            download_url: "http://127.0.0.1:9000/courier/public/files/0123456789abcdef0123456789abcdef/x.txt"
                .to_owned(),
            expires_at: None,
            link: crate::model::LinkKind::Public,
            token: "r.1.abc".to_owned(),
            share: None,
            seal: None,
        };
        let html = render(link);
        assert!(
            html.contains("Anyone with this link can download it, until it is deleted."),
            "{html}"
        );
        assert!(!html.contains("New link"), "{html}");
    }

    #[test]
    fn shows_the_refusal_as_a_sentence() {
        let html = render_refusal(&CourierError::Forbidden(
            "This token does not allow a link to that file.".to_owned(),
        ));
        assert!(html.contains("This token does not allow a link to that file."));
    }
}

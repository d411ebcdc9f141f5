//! A share's rules as the page shows and edits them: the one line that
//! says them, the controls that change them (the finished card's "Link
//! settings" and the "For new links" panel by the drop zone), and what
//! those controls send (`wire::share::RuleChange`).

use leptos::prelude::*;

use super::link_card::readable_time;
use crate::share::{RuleChange, ShareLink, ShareRef, ShareState};

/// The expiry choices: hours from now as `update_share` reads them (`0`:
/// never), and their labels.
pub const EXPIRY_CHOICES: [(&str, &str); 5] = [
    ("1", "1 hour"),
    ("24", "1 day"),
    ("168", "7 days"),
    ("720", "30 days"),
    ("0", "Never"),
];

/// What a new link gets unless the sender chooses otherwise: 7 days.
pub const DEFAULT_EXPIRY: &str = "168";

/// The one line of a share's rules: "Works until 2026-12-13 10:00 UTC ·
/// 3 downloads left · Password set"; first, for a link to several files,
/// how many ("2 files · …").
pub fn rules_line(share: &ShareLink) -> String {
    let live = share.state == ShareState::Live;
    let mut line = if share.files.len() > 1 {
        share.files.len().to_string() + " files · "
    } else {
        String::new()
    };
    line.push_str(&match (&share.expires_at, live) {
        (Some(at), true) => String::from("Works until ") + &readable_time(at),
        (Some(at), false) => String::from("Set to work until ") + &readable_time(at),
        (None, true) => String::from("Never expires"),
        (None, false) => String::from("Set never to expire"),
    });
    line.push_str(" · ");
    let used = share.files.iter().map(|file| file.downloads).max().unwrap_or(0);
    line.push_str(&downloads(share.max_downloads, used));
    if share.password {
        line.push_str(" · Password set");
    }
    line
}

/// "Unlimited downloads", "3 downloads left", "1 of 3 downloaded, 2 left",
/// "1 of 1 downloaded": `used` is the most any one file was downloaded.
pub fn downloads(max: Option<u32>, used: u32) -> String {
    let count = |n: u32, one: &str, many: &str| n.to_string() + if n == 1 { one } else { many };
    match max {
        None if used == 0 => "Unlimited downloads".to_owned(),
        None => String::from("Unlimited downloads (") + &used.to_string() + " so far)",
        Some(max) if used == 0 => count(max, " download left", " downloads left"),
        Some(max) if used >= max => used.to_string() + " of " + &max.to_string() + " downloaded",
        Some(max) => {
            used.to_string() + " of " + &max.to_string() + " downloaded, " + &(max - used).to_string() + " left"
        }
    }
}

/// Where the share's QR code is served (same origin: the page's CSP allows it).
pub fn qr_path(id: &str) -> String {
    String::from("/s/") + id + "/qr.svg"
}

/// A fresh answer about a share, keeping the sender's token this browser
/// holds for it when the answer came without one.
/// An encrypted share's link keeps its key after `#` too: only this browser
/// has it, and Courier's answers never carry it.
pub fn keep_token(mut fresh: ShareLink, kept: Option<&ShareLink>) -> ShareLink {
    let kept = kept.filter(|kept| kept.id == fresh.id);
    if fresh.owner_token().is_none()
        && let Some(token) = kept.and_then(ShareLink::owner_token)
    {
        fresh.token = token.to_owned();
    }
    if !fresh.url.contains('#')
        && let Some((_, key)) = kept.and_then(|kept| kept.url.split_once('#'))
    {
        fresh.url = format!("{}#{key}", fresh.url);
    }
    fresh
}

/// The share a card shows after an answer that may carry none (as "New
/// link" may): the answer's, else the one it showed.
pub fn renewed_share(fresh: Option<ShareLink>, kept: Option<ShareLink>) -> Option<ShareLink> {
    match fresh {
        Some(fresh) => Some(keep_token(fresh, kept.as_ref())),
        None => kept,
    }
}

/// The shares "One link for all" makes one of, in the order given (the
/// cards'), each once: those still live, held with the sender's token, and
/// not downloaded yet (the server refuses a share someone used). None
/// unless there are two or more.
pub fn shares_to_combine<'a>(shares: impl IntoIterator<Item = &'a ShareLink>) -> Vec<ShareRef> {
    let mut refs: Vec<ShareRef> = Vec::new();
    // Encrypted links and plain ones never make one link: the kind of the
    // first that can be combined decides. An encrypted one needs its key
    // here, with a secret for each of its files and no more (a key that
    // still holds a deleted file's secret would number the next link's
    // files wrong once they are renumbered after it).
    let mut kind = None;
    for share in shares {
        let unused = share.files.iter().all(|file| file.downloads == 0);
        let keyed = !share.encrypted || key_of(share).is_some_and(|key| secrets_in(key) == share.files.len());
        let Some(token) = share.owner_token() else { continue };
        if share.state != ShareState::Live || !unused || !keyed || refs.iter().any(|kept| kept.id == share.id) {
            continue;
        }
        if *kind.get_or_insert(share.encrypted) != share.encrypted {
            continue;
        }
        refs.push(ShareRef {
            id: share.id.clone(),
            token: token.to_owned(),
        });
    }
    if refs.len() < 2 {
        refs.clear();
    }
    refs
}

/// How many 16-byte secrets a link's key holds (base64url, FORMAT.md).
pub fn secrets_in(key: &str) -> usize {
    key.len() * 3 / 4 / 16
}

/// An encrypted share's key, after `#` in its link, where this browser has it.
pub fn key_of(share: &ShareLink) -> Option<&str> {
    share
        .url
        .split_once('#')
        .map(|(_, key)| key)
        .filter(|key| !key.is_empty())
}

const LIMIT_REFUSED: &str = "The download limit is a whole number, 1 or more; leave it blank for unlimited downloads.";

/// The download limit as typed: blank is unlimited (`None`).
pub fn parse_limit(typed: &str) -> Result<Option<u32>, &'static str> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    match typed.parse::<u32>() {
        Ok(max) if max > 0 => Ok(Some(max)),
        _ => Err(LIMIT_REFUSED),
    }
}

/// One of [`EXPIRY_CHOICES`] as hours.
fn parse_hours(choice: &str) -> Result<u32, &'static str> {
    EXPIRY_CHOICES
        .iter()
        .find(|(value, _)| *value == choice)
        .and_then(|(value, _)| value.parse().ok())
        .ok_or("Choose how long the link works from the list.")
}

/// What the "Link settings" form sends: `expiry` empty keeps the expiry, a
/// blank limit is unlimited (`0`), a password typed sets it, and
/// `remove_password` removes it (a password typed with it is not sent).
pub fn settings_change(
    expiry: &str,
    limit: &str,
    password: &str,
    remove_password: bool,
) -> Result<RuleChange, &'static str> {
    Ok(RuleChange {
        expires_in_hours: if expiry.is_empty() {
            None
        } else {
            Some(parse_hours(expiry)?)
        },
        max_downloads: Some(parse_limit(limit)?.unwrap_or(0)),
        password: (!remove_password && !password.is_empty()).then(|| password.to_owned()),
        remove_password,
    })
}

/// The rules the "For new links" panel asks for, as a change to each new
/// share: only what differs from a new link's defaults (7 days, unlimited,
/// no password); `None` when nothing does.
pub fn new_link_change(expiry: &str, limit: &str, password: &str) -> Result<Option<RuleChange>, &'static str> {
    let change = RuleChange {
        expires_in_hours: if expiry == DEFAULT_EXPIRY {
            None
        } else {
            Some(parse_hours(expiry)?)
        },
        max_downloads: parse_limit(limit)?,
        password: (!password.is_empty()).then(|| password.to_owned()),
        remove_password: false,
    };
    Ok((change != RuleChange::default()).then_some(change))
}

/// What the "For new links" panel changes, in a few words ("1 day · 1
/// download per file · a password"); `None` while it changes nothing.
pub fn new_link_summary(expiry: &str, limit: &str, password: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if expiry != DEFAULT_EXPIRY
        && let Some((_, label)) = EXPIRY_CHOICES.iter().find(|(value, _)| *value == expiry)
    {
        parts.push(if expiry == "0" {
            "never expire".to_owned()
        } else {
            (*label).to_owned()
        });
    }
    if let Ok(Some(max)) = parse_limit(limit) {
        parts.push(
            max.to_string()
                + if max == 1 {
                    " download per file"
                } else {
                    " downloads per file"
                },
        );
    }
    if !password.is_empty() {
        parts.push("a password".to_owned());
    }
    (!parts.is_empty()).then(|| String::from("New links: ") + &parts.join(" · "))
}

/// The "For new links" panel's values, which the uploads read as each one
/// finishes.
#[derive(Clone, Copy, Debug)]
pub struct NewLinkRules {
    pub expiry: RwSignal<String>,
    pub limit: RwSignal<String>,
    pub password: RwSignal<String>,
    /// Whether the files of one drop (or pick, or paste) get one link
    /// together once they are all up.
    pub together: RwSignal<bool>,
}

impl NewLinkRules {
    pub fn new() -> Self {
        Self {
            expiry: RwSignal::new(DEFAULT_EXPIRY.to_owned()),
            limit: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            together: RwSignal::new(false),
        }
    }

    /// What to change on each new share; see [`new_link_change`].
    pub fn change(&self) -> Result<Option<RuleChange>, &'static str> {
        self.expiry.with_untracked(|expiry| {
            self.limit.with_untracked(|limit| {
                self.password
                    .with_untracked(|password| new_link_change(expiry, limit, password))
            })
        })
    }
}

impl Default for NewLinkRules {
    fn default() -> Self {
        Self::new()
    }
}

/// The three controls, each with its label: how long the link works, the
/// downloads per file, a password. `testid` prefixes their `data-testid`s
/// (`share-expiry`, `new-share-limit`…). With `keep`, the expiry list starts
/// with an option that keeps the expiry as it is, labelled so.
#[component]
pub fn RuleFields(
    expiry: RwSignal<String>,
    limit: RwSignal<String>,
    password: RwSignal<String>,
    testid: &'static str,
    #[prop(optional, into)] keep: Option<Signal<String>>,
    #[prop(optional, into)] password_label: Option<Signal<&'static str>>,
    #[prop(optional, into)] password_disabled: Option<Signal<bool>>,
) -> impl IntoView {
    let id = move |what: &str| String::from(testid) + "-" + what;
    let keep_option = keep.map(|label| {
        view! { <option value="" prop:selected=move || expiry.with(String::is_empty)>{label}</option> }
    });
    let choices = EXPIRY_CHOICES
        .iter()
        .map(|(value, label)| {
            let value = *value;
            view! { <option value=value prop:selected=move || expiry.with(|chosen| chosen == value)>{*label}</option> }
        })
        .collect_view();
    view! {
        <label class="field">
            <span class="field-label">"Link works for"</span>
            <select data-testid=id("expiry") on:change=move |event| expiry.set(event_target_value(&event))>
                {keep_option}
                {choices}
            </select>
        </label>
        <label class="field">
            <span class="field-label">"Downloads per file"</span>
            <input
                type="number"
                min="1"
                step="1"
                inputmode="numeric"
                placeholder="Unlimited"
                data-testid=id("limit")
                prop:value=move || limit.get()
                on:input=move |event| limit.set(event_target_value(&event))
            />
            <span class="field-hint">"Blank: unlimited"</span>
        </label>
        <label class="field">
            <span class="field-label">{move || password_label.map_or("Password (optional)", |label| label.get())}</span>
            <input
                type="password"
                autocomplete="new-password"
                data-testid=id("password")
                disabled=move || password_disabled.is_some_and(|disabled| disabled.get())
                prop:value=move || password.get()
                on:input=move |event| password.set(event_target_value(&event))
            />
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::SharedFileStatus;

    fn share(expires_at: Option<&str>, max: Option<u32>, downloads: &[u32], password: bool) -> ShareLink {
        ShareLink {
            id: "AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            url: "http://127.0.0.1:3000/s/AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            state: ShareState::Live,
            expires_at: expires_at.map(str::to_owned),
            max_downloads: max,
            password,
            encrypted: false,
            files: downloads
                .iter()
                .map(|&downloads| SharedFileStatus {
                    filename: "a.txt".to_owned(),
                    size: 1,
                    downloads,
                })
                .collect(),
            token: String::new(),
        }
    }

    #[test]
    fn the_rules_read_as_one_line() {
        assert_eq!(
            rules_line(&share(Some("2026-12-13T10:00:00Z"), None, &[0], false)),
            "Works until 2026-12-13 10:00 UTC · Unlimited downloads"
        );
        assert_eq!(
            rules_line(&share(None, Some(3), &[0], true)),
            "Never expires · 3 downloads left · Password set"
        );
        assert_eq!(
            rules_line(&share(None, Some(1), &[1], false)),
            "Never expires · 1 of 1 downloaded"
        );
        let mut over = share(Some("2026-12-13T10:00:00Z"), Some(1), &[1], false);
        over.state = ShareState::LimitReached;
        assert_eq!(
            rules_line(&over),
            "Set to work until 2026-12-13 10:00 UTC · 1 of 1 downloaded"
        );
    }

    #[test]
    fn a_link_to_several_files_says_how_many() {
        assert_eq!(
            rules_line(&share(None, Some(1), &[0, 0], true)),
            "2 files · Never expires · 1 download left · Password set"
        );
        let mut over = share(None, Some(1), &[1, 1, 1], false);
        over.state = ShareState::LimitReached;
        assert_eq!(rules_line(&over), "3 files · Set never to expire · 1 of 1 downloaded");
    }

    #[test]
    fn only_live_unused_shares_held_with_their_token_are_combined_each_once() {
        let owned = |id: char, downloads: &[u32]| {
            let mut owned = share(None, None, downloads, false);
            owned.id = id.to_string().repeat(22);
            owned.token = String::from("s.1.") + &id.to_string();
            owned
        };
        let (a, b, c) = (owned('A', &[0]), owned('B', &[0, 0]), owned('C', &[0]));
        let ids = |refs: Vec<ShareRef>| refs.into_iter().map(|r| r.id).collect::<Vec<_>>();
        // In the cards' order; a share on two cards (combined before) once.
        assert_eq!(
            ids(shares_to_combine([&b, &a, &b, &c])),
            [b.id.clone(), a.id.clone(), c.id.clone()]
        );
        assert_eq!(shares_to_combine([&a, &b])[0].token, "s.1.A");
        // Fewer than two: none.
        assert!(shares_to_combine([&a]).is_empty());
        assert!(shares_to_combine([&b, &b]).is_empty());
        // Downloaded, over, or without the sender's token: left out.
        let used = owned('D', &[0, 1]);
        let mut revoked = owned('E', &[0]);
        revoked.state = ShareState::Revoked;
        let mut foreign = owned('F', &[0]);
        foreign.token.clear();
        assert!(shares_to_combine([&a, &used, &revoked, &foreign]).is_empty());
        assert_eq!(
            ids(shares_to_combine([&used, &a, &foreign, &c])),
            [a.id.clone(), c.id.clone()]
        );
    }

    #[test]
    fn encrypted_links_are_combined_only_with_each_other_and_with_their_keys() {
        let owned = |id: char, encrypted: bool, key: &str| {
            let mut owned = share(None, None, &[0], false);
            owned.id = id.to_string().repeat(22);
            owned.token = String::from("s.1.") + &id.to_string();
            owned.encrypted = encrypted;
            owned.url = format!("http://127.0.0.1:3000/s/{}{key}", owned.id);
            owned
        };
        let (sealed, other_sealed) = (
            owned('A', true, "#AAAAAAAAAAAAAAAAAAAAAA"),
            owned('B', true, "#BBBBBBBBBBBBBBBBBBBBBB"),
        );
        let (plain, keyless) = (owned('C', false, ""), owned('D', true, ""));
        let ids = |refs: Vec<ShareRef>| refs.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(key_of(&sealed), Some("AAAAAAAAAAAAAAAAAAAAAA"));
        assert_eq!(key_of(&plain), None);
        // The first one's kind decides; a link whose key this browser lacks stays out.
        assert_eq!(
            ids(shares_to_combine([&sealed, &plain, &keyless, &other_sealed])),
            [sealed.id.clone(), other_sealed.id.clone()]
        );
        assert!(shares_to_combine([&plain, &sealed, &other_sealed]).is_empty());
        // A key with a secret more than its files (one was deleted) stays out.
        let mut gapped = owned('E', true, "#AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(secrets_in(key_of(&gapped).unwrap_or_default()), 2);
        assert!(shares_to_combine([&gapped, &sealed]).is_empty());
        gapped.files.push(gapped.files[0].clone());
        assert_eq!(shares_to_combine([&gapped, &sealed]).len(), 2);
    }

    #[test]
    fn downloads_read_naturally() {
        assert_eq!(downloads(None, 0), "Unlimited downloads");
        assert_eq!(downloads(None, 2), "Unlimited downloads (2 so far)");
        assert_eq!(downloads(Some(1), 0), "1 download left");
        assert_eq!(downloads(Some(3), 0), "3 downloads left");
        assert_eq!(downloads(Some(3), 1), "1 of 3 downloaded, 2 left");
        assert_eq!(downloads(Some(1), 1), "1 of 1 downloaded");
        assert_eq!(downloads(Some(2), 5), "5 of 2 downloaded");
    }

    #[test]
    fn the_settings_form_sends_what_was_chosen() {
        assert_eq!(
            settings_change("", "", "", false),
            Ok(RuleChange {
                expires_in_hours: None,
                max_downloads: Some(0),
                password: None,
                remove_password: false,
            })
        );
        assert_eq!(
            settings_change("0", " 3 ", "secret", false),
            Ok(RuleChange {
                expires_in_hours: Some(0),
                max_downloads: Some(3),
                password: Some("secret".to_owned()),
                remove_password: false,
            })
        );
        assert_eq!(
            settings_change("720", "", "ignored", true).map(|change| (change.password, change.remove_password)),
            Ok((None, true))
        );
        assert_eq!(settings_change("", "0", "", false), Err(LIMIT_REFUSED));
        assert_eq!(settings_change("", "1.5", "", false), Err(LIMIT_REFUSED));
        assert!(settings_change("5", "", "", false).is_err());
    }

    #[test]
    fn new_links_change_only_what_differs_from_the_defaults() {
        assert_eq!(new_link_change(DEFAULT_EXPIRY, "", ""), Ok(None));
        assert_eq!(
            new_link_change(DEFAULT_EXPIRY, "1", "pw"),
            Ok(Some(RuleChange {
                expires_in_hours: None,
                max_downloads: Some(1),
                password: Some("pw".to_owned()),
                remove_password: false,
            }))
        );
        assert_eq!(
            new_link_change("24", "", ""),
            Ok(Some(RuleChange {
                expires_in_hours: Some(24),
                ..RuleChange::default()
            }))
        );
        assert_eq!(new_link_change(DEFAULT_EXPIRY, "-1", ""), Err(LIMIT_REFUSED));
    }

    #[test]
    fn the_panel_says_what_it_changes() {
        assert_eq!(new_link_summary(DEFAULT_EXPIRY, "", ""), None);
        assert_eq!(
            new_link_summary("24", "1", "pw").as_deref(),
            Some("New links: 1 day · 1 download per file · a password")
        );
        assert_eq!(
            new_link_summary("0", "3", "").as_deref(),
            Some("New links: never expire · 3 downloads per file")
        );
    }

    #[test]
    fn an_answer_without_a_share_or_a_token_keeps_the_cards() {
        let mut owned = share(None, None, &[0], false);
        owned.token = "s.1.abc".to_owned();
        let fresh = share(None, Some(2), &[1], false);
        let kept = renewed_share(Some(fresh), Some(owned.clone())).expect("a share");
        assert_eq!((kept.max_downloads, kept.token.as_str()), (Some(2), "s.1.abc"));
        assert_eq!(renewed_share(None, Some(owned.clone())), Some(owned.clone()));
        // Another share's token is never borrowed.
        let mut other = share(None, None, &[0], false);
        other.id = "BBBBBBBBBBBBBBBBBBBBBB".to_owned();
        assert_eq!(keep_token(other, Some(&owned)).owner_token(), None);
        assert_eq!(qr_path("abc"), "/s/abc/qr.svg");
    }
}

//! The queue's uploads, as the page drives them (hydrate only): files come
//! in as cards, a few go at once, and the cards' buttons pause, resume,
//! cancel, retry and remove them. Each file's state lives in its
//! [`UploadRecord`]; the [`engine`] sends it and says how that ended, and
//! this module shows it on the card (the engine's [`Watcher`]).
//!
//! The cards call this module (they are the uploader's alone); the form
//! calls the page's API in `browser`, which hands its work to the uploader.

use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::File;

use super::engine::{self, Outcome, Phase, Stop, UploadRecord, Watcher, record};
use super::file_handles::{self, Chosen, Unreadable};
pub use super::gesture::element;
use super::{calls, recent, unfinished};
use crate::error::CourierError;
use crate::model::{DownloadLink, LinkKind};
use crate::share::{RuleChange, ShareLink, ShareRef, ShareState};
use crate::upload::queue::{FileState, Progress, Queue, QueuedFile, ShareNote};
use crate::upload::rules::{keep_token, key_of, renewed_share, shares_to_combine};

/// A card shows how its upload goes.
impl Watcher for QueuedFile {
    fn phase(&self, phase: Phase) {
        self.state.set(match phase {
            Phase::Signing => FileState::Signing,
            Phase::Uploading => FileState::Uploading,
            Phase::Confirming => FileState::Confirming,
        });
    }

    fn progress(&self, sent: u64, total: u64, bytes_per_sec: f64) {
        self.progress.set(Progress {
            sent,
            total,
            bytes_per_sec,
        });
    }

    fn note(&self, note: Option<String>) {
        self.note.set(note);
    }
}

/// The settings the queue's uploads follow.
fn settings(queue: Queue) -> engine::Settings {
    engine::Settings {
        multipart_threshold: queue.multipart_threshold,
        parallel_parts: queue.parallel_parts,
        part_checksums: queue.part_checksums,
        max_bytes: queue.rules().max_bytes,
    }
}

/// Puts files in the queue; those that break the rules fail at once, with the reason.
/// A file a paused card waits for (the same name, size and date) continues there.
/// With "One link for the files of each drop" on, the files that came
/// together get one link once they are all up (see [`drops`]).
pub fn enqueue(queue: Queue, files: impl IntoIterator<Item = impl Into<Chosen>>) {
    let mut sent = Vec::new();
    for Chosen { file, handle } in files.into_iter().map(Into::into) {
        if resume_with(queue, &file, handle.as_ref()) {
            continue;
        }
        let size = file.size() as u64;
        let item = queue.push(file.name(), size, queue.link.get_untracked());
        match queue.rules().check(size, &file.type_()) {
            Ok(essence) => {
                if essence.starts_with("image/") {
                    item.preview.set(web_sys::Url::create_object_url_with_blob(&file).ok());
                }
                // Only a share's link can carry the key: never a public link.
                let encrypt = queue.encrypt.get_untracked() && item.link == LinkKind::Expiring;
                let record = record::keep(
                    item.id,
                    UploadRecord::chosen(item.link, encrypt, file, handle, queue.request()),
                );
                // "For new links"'s password is then part of the file's key,
                // never sent to Courier.
                let password = queue.new_links.password.get_untracked();
                if encrypt && !password.is_empty() {
                    record.set_password(password);
                }
                sent.push(item);
            }
            Err(error) => {
                item.state.set(FileState::Failed(error.to_string()));
                queue.announce(&item);
            }
        }
    }
    let shared = sent.iter().filter(|item| item.link == LinkKind::Expiring).count();
    if queue.new_links.together.get_untracked() && shared >= 2 {
        drops::keep(sent.iter().map(|item| item.id).collect());
    }
    pump(queue);
}

/// Starts waiting uploads while fewer than the limit run.
fn pump(queue: Queue) {
    let items = queue.items.get_untracked();
    let running = items
        .iter()
        .filter(|i| i.state.with_untracked(FileState::is_active))
        .count();
    let waiting = items
        .iter()
        .filter(|i| i.state.with_untracked(|s| *s == FileState::Waiting));
    for item in waiting.take(queue.parallel.saturating_sub(running)) {
        item.state.set(FileState::Signing);
        let item = *item;
        leptos::task::spawn_local(async move {
            match record::get(item.id) {
                Some(record) => {
                    let settings = settings(queue);
                    let strategy = if record.encrypt {
                        engine::Strategy::for_sealed_size(engine::sealing::object_size(item.size), &settings)
                    } else {
                        engine::Strategy::for_size(item.size, &settings)
                    };
                    if strategy == engine::Strategy::Multipart {
                        item.in_parts.set(true);
                    }
                    let attempt = record.begin();
                    let outcome = engine::send(&record, &attempt, &settings, item).await;
                    // A later attempt (a Resume soon after a Pause) speaks for the card.
                    if record.is_current(&attempt) {
                        settle(queue, item, outcome);
                    }
                }
                None => settle(
                    queue,
                    item,
                    Outcome::Failed(CourierError::BadRequest(
                        "The file is no longer available. Choose it again.".to_owned(),
                    )),
                ),
            }
            pump(queue);
        });
    }
}

/// Shows how an upload ended. A stopped one already shows why (Pause and
/// Cancel say so as they stop it); a cancelled card stays cancelled whatever
/// its upload did last, a paused one too, unless it finished meanwhile.
fn settle(queue: Queue, item: QueuedFile, outcome: Outcome) {
    let (active, paused) = item.state.with_untracked(|s| (s.is_active(), *s == FileState::Paused));
    let state = match outcome {
        Outcome::Done(link) if active || paused => {
            item.progress.update(|p| p.sent = p.total);
            // The thumbnail's URL lives as long as its card: the browser may
            // decode the image again at any time (a revoked URL then shows a
            // broken image), and the file stays held for Retry anyway.
            //
            // The card reads its share from here, set before it is drawn
            // (as remembered: with the sender's token this browser holds).
            item.share.set(recent::remember(&link));
            apply_new_link_rules(queue, item);
            FileState::Done(Box::new(link))
        }
        Outcome::Failed(error) if active => FileState::Failed(error.sentence().to_owned()),
        Outcome::Stopped(Stop::Paused) if active => FileState::Paused,
        Outcome::Stopped(Stop::Cancelled) if active => FileState::Cancelled,
        Outcome::Done(_) | Outcome::Failed(_) | Outcome::Stopped(_) => return,
    };
    item.state.set(state);
    queue.announce(&item);
    drops::combine_ended(queue);
}

/// Stops an upload: a waiting one never starts, a running one is aborted,
/// and the store drops the parts of one in parts.
pub fn cancel(queue: Queue, item: QueuedFile) {
    if !item.state.with_untracked(|s| s.is_active() || *s == FileState::Waiting) {
        return;
    }
    item.state.set(FileState::Cancelled);
    if let Some(record) = record::get(item.id) {
        engine::abandon(&record);
    }
    queue.announce(&item);
    drops::combine_ended(queue);
    pump(queue);
}

/// Pauses a file going up in parts; `why`, if the person did not: the parts
/// in flight stop, the stored ones stay.
pub fn pause(queue: Queue, item: QueuedFile, why: Option<String>) {
    if !item.in_parts.get_untracked() || !item.state.with_untracked(FileState::is_active) {
        return;
    }
    item.state.set(FileState::Paused);
    item.note.set(why);
    if let Some(record) = record::get(item.id) {
        record.stop(Stop::Paused);
    }
    queue.announce(&item);
    pump(queue);
}

/// The network went away: files going up in parts pause, and say why.
pub fn went_offline(queue: Queue) {
    for item in queue.items.get_untracked() {
        if item.in_parts.get_untracked() && item.state.with_untracked(FileState::is_active) {
            pause(
                queue,
                item,
                Some("Offline: the upload goes on by itself when the connection is back.".to_owned()),
            );
            if let Some(record) = record::get(item.id) {
                record.mark_offline_paused();
            }
        }
    }
}

/// The network is back: what going offline paused goes on by itself.
pub fn came_online(queue: Queue) {
    for item in queue.items.get_untracked() {
        let offline_paused = record::get(item.id).is_some_and(|r| r.take_offline_paused());
        if offline_paused && item.state.with_untracked(|s| *s == FileState::Paused) {
            retry(queue, item);
        }
    }
}

/// Signs again and uploads again (a paused file: only its missing parts).
pub fn retry(queue: Queue, item: QueuedFile) {
    if can_retry(&item) {
        // Parts already stored show at once; the rest starts from zero.
        if !item.in_parts.get_untracked() {
            item.progress.set(Progress::default());
        }
        item.note.set(None);
        item.state.set(FileState::Waiting);
        pump(queue);
    }
}

/// Goes on with a paused file: the file at hand, or read again through the
/// handle the browser kept (this click is the leave it may ask for).
pub fn resume(queue: Queue, item: QueuedFile) {
    if can_retry(&item) {
        return retry(queue, item);
    }
    let Some(handle) = record::get(item.id).and_then(|r| r.handle()) else {
        return;
    };
    leptos::task::spawn_local(async move {
        let note = match file_handles::read(&handle).await {
            Ok(file) if resume_with(queue, &file, Some(&handle)) => return,
            Ok(_) => {
                "The file changed since its upload started (its size or date differ), so it cannot continue: remove this card and upload the file again."
            }
            Err(Unreadable::NotAllowed) => {
                "Courier was not allowed to read the file: choose or drop it again to send the rest."
            }
            Err(Unreadable::Gone) => {
                item.reopenable.set(false);
                "The file is no longer where it was: choose or drop it again to send the rest."
            }
        };
        item.note.set(Some(note.to_owned()));
    });
}

/// Queues what the browser's own picker gave (`picking`, its promise); the
/// plain picker behind `input` where it could not be used.
pub async fn take_picked(queue: Queue, picking: Result<JsValue, JsValue>, input: web_sys::HtmlInputElement) {
    match file_handles::picked(picking).await {
        Ok(chosen) => enqueue(queue, chosen),
        Err(()) => super::gesture::open_plain_picker(&input),
    }
}

/// Queues dropped files, with their handles where the browser gave them
/// (see [`super::gesture::dropped_handles`]).
pub async fn take_dropped(queue: Queue, files: Vec<File>, handles: Vec<JsValue>) {
    if handles.iter().all(JsValue::is_null) {
        return enqueue(queue, files);
    }
    enqueue(queue, file_handles::with_handles(files, handles).await);
}

/// Takes a finished, failed or cancelled card off the list.
pub fn remove(queue: Queue, item: QueuedFile) {
    if item.state.with_untracked(FileState::is_active) {
        return;
    }
    if let FileState::Done(link) = item.state.get_untracked() {
        recent::forget(&link.key);
    }
    // A large file's parts kept for Retry go with its card.
    if let Some(record) = record::get(item.id) {
        engine::abandon(&record);
    }
    drop_card(queue, &item);
    drops::combine_ended(queue);
}

/// Takes a card off the list with everything the page held for it: its
/// record (its file, what Retry would have used), its thumbnail's URL.
fn drop_card(queue: Queue, item: &QueuedFile) {
    if let Some(url) = item.preview.get_untracked() {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    record::release(item.id);
    queue.remove(item.id);
}

/// Shows the uploads remembered from earlier visits, and the large files
/// whose parts were on their way (paused until their file is chosen again).
pub fn restore(queue: Queue) {
    let links = recent::load();
    // Asked at once, answered once the cards below are there.
    refresh_shares(queue, &links);
    for link in links.into_iter().rev() {
        let item = queue.push(link.filename.clone(), link.size, link.link);
        item.progress.update(|p| p.sent = p.total);
        item.share.set(link.share.clone());
        item.state.set(FileState::Done(Box::new(link)));
    }
    let unfinished = unfinished::load();
    file_handles::keep_only(unfinished.iter().map(|u| u.upload.key.clone()).collect());
    for unfinished in unfinished {
        let item = queue.push(unfinished.name.clone(), unfinished.upload.size, unfinished.link);
        item.progress.update(|p| p.sent = 0);
        item.state.set(FileState::Paused);
        item.in_parts.set(true);
        let upload = unfinished.upload.clone();
        record::keep(item.id, UploadRecord::awaiting(unfinished));
        // How much the store holds; an upload it no longer has goes, with its card.
        let key = upload.key.clone();
        leptos::task::spawn_local(async move {
            match engine::held(&upload).await {
                engine::Held::Bytes(stored) => item.progress.set(Progress {
                    sent: stored,
                    total: upload.size,
                    bytes_per_sec: 0.0,
                }),
                engine::Held::Gone => drop_card(queue, &item),
                // Courier or the store unreachable: the card waits as it is.
                engine::Held::Unknown => {}
            }
        });
        // Resume takes one click where the browser kept the file's handle.
        leptos::task::spawn_local(async move {
            if let Some(handle) = file_handles::kept(&key).await
                && let Some(record) = record::get(item.id)
            {
                record.set_handle(handle);
                item.reopenable.set(true);
            }
        });
    }
}

/// Continues a paused card with `file` if it is the file the card waits
/// for; says so on a paused card whose name it only shares.
fn resume_with(queue: Queue, file: &File, handle: Option<&JsValue>) -> bool {
    let awaiting: Vec<_> = record::all()
        .into_iter()
        .filter_map(|(id, record)| Some((id, record.awaited()?, record)))
        .collect();
    let items = queue.items.get_untracked();
    let waiting = |id: u64| {
        items
            .iter()
            .find(|i| i.id == id && i.state.with_untracked(|s| *s == FileState::Paused))
            .copied()
    };
    if let Some((item, unfinished, record)) = awaiting
        .iter()
        .filter(|(_, u, _)| u.is_for(file))
        .find_map(|(id, u, record)| Some((waiting(*id)?, u, record)))
    {
        record.found(file.clone());
        if let Some(handle) = handle {
            record.set_handle(handle.clone());
            file_handles::keep(unfinished.upload.key.clone(), handle.clone());
        }
        item.note.set(None);
        item.state.set(FileState::Waiting);
        pump(queue);
        return true;
    }
    for item in awaiting
        .iter()
        .filter(|(_, u, _)| u.name == file.name())
        .filter_map(|(id, _, _)| waiting(*id))
    {
        item.note.set(Some(format!(
            "The “{}” just chosen is not the file this upload was for (its size or date differ), so it goes up on its own. Choose the original to continue here.",
            file.name()
        )));
    }
    false
}

/// Forgets every finished upload, here and in storage.
pub fn clear_finished(queue: Queue) {
    recent::forget_all();
    for item in queue.items.get_untracked() {
        if item.state.with_untracked(|s| matches!(s, FileState::Done(_))) {
            drop_card(queue, &item);
        }
    }
}

/// Whether the file behind a card can be sent again.
pub fn can_retry(item: &QueuedFile) -> bool {
    record::get(item.id).is_some_and(|r| r.has_file())
}

// --- a finished upload's link ---

pub use super::clipboard::copy;

/// A fresh link for a file uploaded earlier (its token's holder only), kept
/// in the recent uploads in place of the old one. It keeps `share`, the
/// share the card shows, unless the answer brings the share itself.
/// An encrypted file keeps the name, type and size `kept` shows (Courier
/// has only its placeholders).
pub async fn renew(
    key: String,
    token: String,
    share: Option<ShareLink>,
    kept: &DownloadLink,
) -> Result<DownloadLink, CourierError> {
    let mut fresh = calls::sign_download(key, token).await?;
    if fresh.seal.is_some() {
        fresh.filename.clone_from(&kept.filename);
        fresh.content_type.clone_from(&kept.content_type);
        fresh.size = kept.size;
    }
    fresh.share = renewed_share(fresh.share.take(), share);
    fresh.share = recent::remember(&fresh);
    Ok(fresh)
}

/// Deletes a file uploaded earlier (its token's holder only), and forgets it
/// in the recent uploads. Its share, `share`, goes with it: when other
/// cards show that share too (one link for several files), they are shown
/// where it stands now.
pub async fn delete(queue: Queue, key: String, token: String, share: Option<ShareLink>) -> Result<(), CourierError> {
    calls::delete_upload(key.clone(), token).await?;
    recent::forget(&key);
    let Some(handle) = share.as_ref().and_then(share_ref) else {
        return Ok(());
    };
    let shown_elsewhere = queue.items.get_untracked().iter().any(|item| {
        let other_file = item
            .state
            .with_untracked(|s| !matches!(s, FileState::Done(link) if link.key == key));
        other_file
            && item
                .share
                .with_untracked(|s| s.as_ref().is_some_and(|s| s.id == handle.id))
    });
    if shown_elsewhere {
        show_statuses(queue, std::slice::from_ref(&handle)).await;
    }
    Ok(())
}

// --- a finished upload's share ---

/// The sender's handle on `share`, when this browser holds its token.
pub fn share_ref(share: &ShareLink) -> Option<ShareRef> {
    Some(ShareRef {
        id: share.id.clone(),
        token: share.owner_token()?.to_owned(),
    })
}

/// Changes a share's rules (its token's holder only): the share as it is
/// now, shown on every card that shows it and remembered in the recent uploads.
pub async fn change_share(queue: Queue, share: ShareLink, change: RuleChange) -> Result<ShareLink, CourierError> {
    let Some(handle) = share_ref(&share) else {
        return Err(no_controls());
    };
    let fresh = keep_token(calls::update_share(&handle, &change).await?, Some(&share));
    show_share(queue, &fresh);
    recent::update_shares(std::slice::from_ref(&fresh));
    Ok(fresh)
}

/// Takes a share's link back now (its token's holder only); the server
/// deletes its files, every one of them. The share as it is now, shown on
/// every card that shows it, and remembered.
pub async fn take_back(queue: Queue, share: ShareLink) -> Result<ShareLink, CourierError> {
    let Some(handle) = share_ref(&share) else {
        return Err(no_controls());
    };
    let fresh = keep_token(calls::revoke_share(&handle).await?, Some(&share));
    show_share(queue, &fresh);
    recent::update_shares(std::slice::from_ref(&fresh));
    Ok(fresh)
}

/// Shows `fresh` on every card that shows that share (one link for several
/// files is on each of their cards), each keeping the token it holds.
fn show_share(queue: Queue, fresh: &ShareLink) {
    for item in queue.items.get_untracked() {
        let Some(kept) = item.share.get_untracked().filter(|kept| kept.id == fresh.id) else {
            continue;
        };
        item.share.set(Some(keep_token(fresh.clone(), Some(&kept))));
    }
}

/// Asks where `shares` stand now, and shows and remembers the answers;
/// unanswered, the cards show them as last seen.
async fn show_statuses(queue: Queue, shares: &[ShareRef]) {
    if let Ok(fresh) = calls::share_status(shares).await {
        for share in &fresh {
            show_share(queue, share);
        }
        recent::update_shares(&fresh);
    }
}

/// The shares "One link for all" would make one of, in the cards' order
/// (see [`shares_to_combine`]): those of finished cards whose share has
/// its rules for new links already (none is on its way). Tracked: the
/// button follows it.
pub fn combinable(queue: Queue) -> Vec<ShareRef> {
    queue.items.with(|items| {
        let shares: Vec<ShareLink> = items
            .iter()
            .filter(|item| item.state.with(|s| matches!(s, FileState::Done(_))))
            .filter(|item| item.share_note.with(|note| *note != Some(ShareNote::Applying)))
            .filter_map(|item| item.share.get())
            .collect();
        shares_to_combine(&shares)
    })
}

/// Makes one share of `shares` (their token's holder only), with the rules
/// of the "For new links" panel (those each of them was given as it
/// finished; a new link's defaults where it changes nothing): the shares
/// given stop existing, and every card that showed one of them shows the
/// new one, remembered for each. Refused, nothing changes; the cards then
/// show where those shares stand (one may have been downloaded meanwhile).
pub async fn combine(queue: Queue, shares: Vec<ShareRef>) -> Result<ShareLink, CourierError> {
    let rules = queue
        .new_links
        .change()
        .map_err(|sentence| CourierError::BadRequest(sentence.to_owned()))?
        .unwrap_or_default();
    // An encrypted link's key: each share's secrets, in the order combined
    // (FORMAT.md), joined here, where they are.
    let keys: Vec<String> = shares
        .iter()
        .filter_map(|wanted| {
            queue.items.with_untracked(|items| {
                items.iter().find_map(|item| {
                    item.share.with_untracked(|share| {
                        share
                            .as_ref()
                            .filter(|share| share.id == wanted.id)
                            .and_then(|share| key_of(share).map(str::to_owned))
                    })
                })
            })
        })
        .collect();
    let encrypted = shares.iter().any(|wanted| {
        queue.items.with_untracked(|items| {
            items.iter().any(|item| {
                item.share.with_untracked(|share| {
                    share
                        .as_ref()
                        .is_some_and(|share| share.id == wanted.id && share.encrypted)
                })
            })
        })
    });
    let key = match (encrypted, keys.len()) {
        (false, _) => None,
        (true, n) if n == shares.len() => Some(engine::sealing::joined_key(&keys).await?),
        (true, _) => {
            return Err(CourierError::BadRequest(
                "This browser does not hold every link's key.".to_owned(),
            ));
        }
    };
    let mut combined = match calls::combine_shares(&shares, &rules).await {
        Ok(combined) => combined,
        Err(refused) => {
            show_statuses(queue, &shares).await;
            return Err(refused);
        }
    };
    if let Some(key) = key {
        combined.url = format!("{}#{key}", combined.url);
    }
    let replaced: Vec<String> = shares.into_iter().map(|share| share.id).collect();
    recent::replace_shares(&replaced, &combined);
    for item in queue.items.get_untracked() {
        if item
            .share
            .with_untracked(|share| share.as_ref().is_some_and(|share| replaced.contains(&share.id)))
        {
            item.share.set(Some(combined.clone()));
            // What it says of the rules for new links is the old share's.
            item.share_note.set(None);
        }
    }
    Ok(combined)
}

fn no_controls() -> CourierError {
    CourierError::Forbidden("This browser does not hold the controls of this link.".to_owned())
}

/// Gives a new upload's share the rules of the "For new links" panel, when
/// they differ from a new link's; the card shows the answer, or why there
/// is none (its link still works, with the defaults).
fn apply_new_link_rules(queue: Queue, item: QueuedFile) {
    let Some(share) = item.share.get_untracked() else {
        // A public link, or one whose share could not be made.
        return;
    };
    // An encrypted link's password went into its key as it was sent: one
    // typed after that is too late for it, and the card says so.
    if share.encrypted {
        let typed = queue.new_links.password.get_untracked();
        let keyed = record::get(item.id)
            .and_then(|record| record.password())
            .unwrap_or_default();
        if typed != keyed {
            item.share_note.set(Some(not_applied(
                "an encrypted link's password is part of its key, set as its file is sent: this one was typed after.",
            )));
        }
    }
    let change = match queue.new_links.change() {
        // An encrypted link's password went into its key.
        Ok(Some(change)) if share.encrypted => RuleChange {
            password: None,
            ..change
        },
        Ok(Some(change)) => change,
        Ok(None) => return,
        Err(sentence) => return item.share_note.set(Some(not_applied(sentence))),
    };
    if change == RuleChange::default() {
        return;
    }
    if share.owner_token().is_none() {
        return item.share_note.set(Some(not_applied(no_controls().sentence())));
    }
    item.share_note.set(Some(ShareNote::Applying));
    leptos::task::spawn_local(async move {
        match change_share(queue, share, change).await {
            Ok(fresh) => {
                item.share.set(Some(fresh));
                item.share_note.set(None);
            }
            Err(error) => item.share_note.set(Some(not_applied(error.sentence()))),
        }
        drops::combine_ended(queue);
    });
}

fn not_applied(why: &str) -> ShareNote {
    ShareNote::Failed(String::from("The rules for new links could not be given to this link: ") + why)
}

/// The most shares one `share_status` call asks about (the server's limit).
const MAX_STATUS_SHARES: usize = 100;

/// After a reload: asks once where every remembered share that still works
/// stands (downloads so far, whether it is over), and shows and remembers
/// the answers. A share that is over stays over: it is not asked about.
fn refresh_shares(queue: Queue, links: &[DownloadLink]) {
    // Each share once: one link for several files is in each of their uploads.
    let mut handles: Vec<ShareRef> = Vec::new();
    for handle in links
        .iter()
        .filter_map(|link| link.share.as_ref())
        .filter(|share| share.state == ShareState::Live)
        .filter_map(share_ref)
    {
        if handles.len() == MAX_STATUS_SHARES {
            break;
        }
        if !handles.iter().any(|kept| kept.id == handle.id) {
            handles.push(handle);
        }
    }
    if handles.is_empty() {
        return;
    }
    leptos::task::spawn_local(async move { show_statuses(queue, &handles).await });
}

/// "One link for the files of each drop": the files that came together,
/// kept until every one of them has ended (up, failed, cancelled or
/// removed; a paused one is waited for), then the links of those that are
/// up made one, as "One link for all" does, once each has the rules for
/// new links (so each link keeps them meanwhile).
mod drops {
    use std::cell::RefCell;

    use leptos::prelude::*;

    use super::{FileState, Queue, ShareNote, combine};
    use crate::upload::rules::shares_to_combine;

    thread_local! {
        static WAITING: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
    }

    /// The cards of one drop, to be given one link together.
    pub fn keep(ids: Vec<u64>) {
        WAITING.with(|waiting| waiting.borrow_mut().push(ids));
    }

    /// Gives one link to the files of each drop whose every file has ended.
    pub fn combine_ended(queue: Queue) {
        let items = queue.items.get_untracked();
        let ended = |id: &u64| {
            items.iter().find(|item| item.id == *id).is_none_or(|item| {
                let over = item
                    .state
                    .with_untracked(|s| !(s.is_active() || matches!(s, FileState::Waiting | FileState::Paused)));
                over && item
                    .share_note
                    .with_untracked(|note| *note != Some(ShareNote::Applying))
            })
        };
        let done: Vec<Vec<u64>> = WAITING.with(|waiting| {
            let mut waiting = waiting.borrow_mut();
            let (done, left) = waiting.drain(..).partition(|ids: &Vec<u64>| ids.iter().all(ended));
            *waiting = left;
            done
        });
        for ids in done {
            let cards: Vec<_> = items
                .iter()
                .filter(|item| ids.contains(&item.id))
                .filter(|item| item.state.with_untracked(|s| matches!(s, FileState::Done(_))))
                .copied()
                .collect();
            let shares: Vec<_> = cards.iter().filter_map(|item| item.share.get_untracked()).collect();
            let refs = shares_to_combine(&shares);
            if refs.is_empty() {
                continue;
            }
            leptos::task::spawn_local(async move {
                if let Err(error) = combine(queue, refs).await {
                    let sentence = String::from("These files could not be given one link: ") + error.sentence();
                    for item in cards {
                        item.share_note.set(Some(ShareNote::Failed(sentence.clone())));
                    }
                }
            });
        }
    }
}

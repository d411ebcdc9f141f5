//! The queue: one entry per file, each with its own state and progress. The
//! model is shared; the browser module drives it.

use leptos::prelude::*;

use super::rules::NewLinkRules;
use crate::file_rules::FileRules;
use crate::model::{DownloadLink, LinkKind, PageSettings};
use crate::share::ShareLink;
use crate::size::human_size;

/// Where one file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileState {
    Waiting,
    Signing,
    Uploading,
    /// Every byte sent; the store and Courier are finishing up.
    Confirming,
    /// Boxed: a link with its share is many times the other states' size.
    Done(Box<DownloadLink>),
    Failed(String),
    Cancelled,
    /// Deleted from storage by its owner; its links answer 404.
    Deleted,
    /// A large file's upload, paused: by the person, by the network going
    /// offline, or left mid-way by a reload (then its parts wait in the
    /// store for the same file to be chosen again).
    Paused,
}

impl FileState {
    /// Signing or uploading: counts against the parallel limit, can be cancelled.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Signing | Self::Uploading | Self::Confirming)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Signing => "signing",
            Self::Uploading => "uploading",
            Self::Confirming => "confirming",
            Self::Done(_) => "done",
            Self::Failed(_) => "failed",
            Self::Cancelled => "cancelled",
            Self::Deleted => "deleted",
            Self::Paused => "paused",
        }
    }
}

/// Bytes sent so far, and how fast.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub sent: u64,
    pub total: u64,
    pub bytes_per_sec: f64,
}

impl Progress {
    pub fn percent(&self) -> u32 {
        (self.sent.min(self.total) * 100).checked_div(self.total).unwrap_or(0) as u32
    }

    pub fn seconds_left(&self) -> Option<u64> {
        (self.bytes_per_sec > 0.0)
            .then(|| (self.total.saturating_sub(self.sent) as f64 / self.bytes_per_sec).ceil() as u64)
    }

    /// "42% · 1.2 MiB of 3 MiB · 512 KiB/s · 4 s left"
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{}% · {} of {}",
            self.percent(),
            human_size(self.sent),
            human_size(self.total)
        );
        if self.bytes_per_sec >= 1.0 {
            text.push_str(&format!(" · {}/s", human_size(self.bytes_per_sec as u64)));
        }
        if let Some(left) = self.seconds_left().filter(|_| self.sent < self.total) {
            text.push_str(&format!(" · {} left", duration(left)));
        }
        text
    }
}

/// `75` → "1 min 15 s"
pub fn duration(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 if seconds.is_multiple_of(60) => format!("{} min", seconds / 60),
        60..=3599 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ if seconds % 3600 < 60 => format!("{} h", seconds / 3600),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// One file in the queue. Cheap to copy: its parts live in the reactive arena.
#[derive(Clone, Copy, Debug)]
pub struct QueuedFile {
    pub id: u64,
    pub name: StoredValue<String>,
    pub size: u64,
    /// The link it gets: chosen on the page before it was added.
    pub link: LinkKind,
    pub state: RwSignal<FileState>,
    pub progress: RwSignal<Progress>,
    /// An object URL showing an image file, while there is one.
    pub preview: RwSignal<Option<String>>,
    /// What the card says while it waits on something other than the bytes
    /// (Courier not answering after the store took the file).
    pub note: RwSignal<Option<String>>,
    /// Whether it goes up in parts (so it can be paused and resumed).
    pub in_parts: RwSignal<bool>,
    /// Whether the browser kept a handle to its file: a paused card then
    /// resumes in one click, without choosing the file again.
    pub reopenable: RwSignal<bool>,
    /// A finished upload's share as the card shows it: set with its link,
    /// then changed by its rules, taken back, or refreshed after a reload,
    /// without drawing the card again.
    pub share: RwSignal<Option<ShareLink>>,
    /// What became of the "For new links" rules on this upload's share.
    pub share_note: RwSignal<Option<ShareNote>>,
}

/// The "For new links" rules on a new upload's share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareNote {
    Applying,
    /// They could not be applied (the link still works, with the defaults).
    Failed(String),
}

#[derive(Clone, Copy, Debug)]
pub struct Queue {
    pub items: RwSignal<Vec<QueuedFile>>,
    /// What the polite live region says last.
    pub announcement: RwSignal<String>,
    /// Why nothing happened with the files just brought (the uploader's
    /// code could not be loaded), shown under the form.
    pub problem: RwSignal<Option<String>>,
    /// How many uploads run at once.
    pub parallel: usize,
    /// The link the next files get.
    pub link: RwSignal<LinkKind>,
    /// Files at least this large go up in parts, `parallel_parts` at once.
    pub multipart_threshold: u64,
    pub parallel_parts: usize,
    /// Whether each part goes with its MD5, for the store to check.
    pub part_checksums: bool,
    /// The rules each new upload's share gets once it is up.
    pub new_links: NewLinkRules,
    /// Whether the next files are encrypted in this browser (FORMAT.md).
    pub encrypt: RwSignal<bool>,
    /// Whether they may, must or cannot be (the operator's choice).
    pub encryption: Encryption,
    rules: StoredValue<FileRules>,
    /// On a file request's page, the request every file is sent through.
    request: StoredValue<Option<String>>,
    next_id: StoredValue<u64>,
}

use wire::seal::Encryption;

impl Queue {
    pub fn new(settings: PageSettings, link: LinkKind) -> Self {
        Self {
            items: RwSignal::new(Vec::new()),
            problem: RwSignal::new(None),
            announcement: RwSignal::new(String::new()),
            parallel: (settings.parallel_uploads as usize).max(1),
            link: RwSignal::new(link),
            multipart_threshold: settings.multipart_threshold,
            parallel_parts: (settings.parallel_parts as usize).max(1),
            part_checksums: settings.part_checksums,
            new_links: NewLinkRules::new(),
            encrypt: RwSignal::new(settings.encryption == Encryption::Always),
            encryption: settings.encryption,
            rules: StoredValue::new(settings.rules),
            request: StoredValue::new(settings.request.map(|request| request.id)),
            next_id: StoredValue::new(0),
        }
    }

    pub fn rules(&self) -> FileRules {
        self.rules.get_value()
    }

    /// The file request the page sends files through, if it is a request's.
    pub fn request(&self) -> Option<String> {
        self.request.get_value()
    }

    /// Adds a file that gets `link`.
    pub fn push(&self, name: String, size: u64, link: LinkKind) -> QueuedFile {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let item = QueuedFile {
            id,
            name: StoredValue::new(name),
            size,
            link,
            state: RwSignal::new(FileState::Waiting),
            progress: RwSignal::new(Progress {
                sent: 0,
                total: size,
                bytes_per_sec: 0.0,
            }),
            preview: RwSignal::new(None),
            note: RwSignal::new(None),
            in_parts: RwSignal::new(false),
            reopenable: RwSignal::new(false),
            share: RwSignal::new(None),
            share_note: RwSignal::new(None),
        };
        self.items.update(|items| items.push(item));
        item
    }

    pub fn remove(&self, id: u64) {
        self.items.update(|items| items.retain(|i| i.id != id));
    }

    /// Tells screen readers what just happened to `item`.
    pub fn announce(&self, item: &QueuedFile) {
        let name = item.name.get_value();
        let what = match item.state.get_untracked() {
            FileState::Done(_) => "uploaded; its link is ready".to_owned(),
            FileState::Failed(reason) => format!("failed: {reason}"),
            FileState::Cancelled => "cancelled".to_owned(),
            FileState::Deleted => "deleted".to_owned(),
            other => other.name().to_owned(),
        };
        self.announcement.set(format!("{name}: {what}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_naturally() {
        let p = Progress {
            sent: 512 * 1024,
            total: 2 * 1024 * 1024,
            bytes_per_sec: 256.0 * 1024.0,
        };
        assert_eq!(p.percent(), 25);
        assert_eq!(p.seconds_left(), Some(6));
        assert_eq!(p.describe(), "25% · 512 KiB of 2 MiB · 256 KiB/s · 6 s left");
        assert_eq!(Progress::default().percent(), 0);
        assert_eq!(
            Progress {
                sent: 10,
                total: 10,
                bytes_per_sec: 5.0
            }
            .describe(),
            "100% · 10 bytes of 10 bytes · 5 bytes/s"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(5), "5 s");
        assert_eq!(duration(120), "2 min");
        assert_eq!(duration(75), "1 min 15 s");
        assert_eq!(duration(3725), "1 h 2 min");
        // A fresh one-hour link reads "1 h", not "1 h 0 min".
        assert_eq!(duration(3600), "1 h");
        assert_eq!(duration(3659), "1 h");
    }
}

//! `ListMultipartUploads`, which `s3s-fs` does not offer: the uploads in
//! progress, read from the files it keeps at the store's root (see
//! `layout`), so that an operator's `aws s3api list-multipart-uploads`, or
//! any S3 tool cleaning up, sees what the sweep would take.
//!
//! As S3: by key, then (one key's uploads) by upload id, which is what the
//! `upload-id-marker` of a next page is compared with; at most 1,000 a page.
//! Grouping by a delimiter is not offered: refused, rather than ignored.

use std::path::PathBuf;

use s3s::dto::{ListMultipartUploadsInput, ListMultipartUploadsOutput, MultipartUpload, Timestamp};
use s3s::{S3Error, S3ErrorCode, S3Result};

use crate::layout::UploadFiles;

/// S3's own page size, and its largest.
const MAX_UPLOADS: usize = 1000;

pub async fn list(root: PathBuf, input: ListMultipartUploadsInput) -> S3Result<ListMultipartUploadsOutput> {
    if input.delimiter.is_some() {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "This store lists multipart uploads without a delimiter.",
        ));
    }
    let files = tokio::task::spawn_blocking(move || UploadFiles::at(&root))
        .await
        .map_err(S3Error::internal_error)?
        .map_err(S3Error::internal_error)?;
    let prefix = input.prefix.as_deref().unwrap_or_default();
    let mut uploads: Vec<(String, String, Timestamp)> = files
        .uploads
        .iter()
        .filter_map(|(id, (_, created))| {
            let (bucket, key) = files.object_of(id)?;
            (bucket == input.bucket && key.starts_with(prefix))
                .then(|| (key, id.to_string(), Timestamp::from(*created)))
        })
        .collect();
    uploads.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    if let Some(key_marker) = input.key_marker.as_deref() {
        let id_marker = input.upload_id_marker.as_deref();
        // After the marker: later keys, and the marker's own key only past
        // the upload id marker, if there is one.
        uploads.retain(|(key, id, _)| {
            key.as_str() > key_marker || (key == key_marker && id_marker.is_some_and(|m| id.as_str() > m))
        });
    }
    let max = match input.max_uploads {
        None => MAX_UPLOADS,
        Some(n) => usize::try_from(n)
            .map_err(|_| S3Error::with_message(S3ErrorCode::InvalidArgument, "max-uploads cannot be negative."))?
            .min(MAX_UPLOADS),
    };
    // A page of none is not truncated: it has no marker to go on from, and a
    // client that pages until the end would ask for it forever.
    let truncated = max > 0 && uploads.len() > max;
    uploads.truncate(max);
    let (next_key_marker, next_upload_id_marker) = match uploads.last() {
        Some((key, id, _)) if truncated => (Some(key.clone()), Some(id.clone())),
        _ => (None, None),
    };
    Ok(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        prefix: input.prefix,
        key_marker: input.key_marker,
        upload_id_marker: input.upload_id_marker,
        next_key_marker,
        next_upload_id_marker,
        max_uploads: Some(i32::try_from(max).unwrap_or(i32::MAX)),
        is_truncated: Some(truncated),
        uploads: Some(
            uploads
                .into_iter()
                .map(|(key, id, initiated)| MultipartUpload {
                    key: Some(key),
                    upload_id: Some(id),
                    initiated: Some(initiated),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    })
}

//! One file into one object, streamed from disk. A small file goes in a single PUT; a
//! large one as a multipart upload whose parts are read from disk as they are sent, so
//! memory stays at a few parts whatever the file's size. Either way the object appears
//! under its name only when complete (the PUT, or the multipart upload's completion), and a
//! multipart upload that fails is aborted, so the object there before stays as it was.

use std::path::Path;

use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};
use tokio::io::AsyncReadExt;

use crate::report::progress::Progress;

/// Files up to this size go in one PUT; larger ones in parts of this size. S3 takes at
/// most 10,000 parts, so this allows objects up to 80 GiB.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight at once: bounds memory (this many parts plus the one being read).
const PARTS_IN_FLIGHT: usize = 4;
/// Bytes read from disk per read call.
const READ_SIZE: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub(super) enum UploadError {
    #[error("cannot read the staged file: {0}")]
    Read(#[source] std::io::Error),
    #[error("{0}")]
    Store(#[source] object_store::Error),
}

/// Uploads `local` to `object` with `content_type`; `progress` advances from `done` (the
/// bytes of the files before this one). Returns the file's size.
pub(super) async fn upload(
    store: &dyn ObjectStore,
    local: &Path,
    object: &ObjectPath,
    content_type: &'static str,
    progress: &Progress,
    done: u64,
) -> Result<u64, UploadError> {
    let mut file = tokio::fs::File::open(local)
        .await
        .map_err(UploadError::Read)?;
    let size = file.metadata().await.map_err(UploadError::Read)?.len();
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type.into());
    if size <= PART_SIZE as u64 {
        let mut bytes = Vec::with_capacity(size as usize);
        file.read_to_end(&mut bytes)
            .await
            .map_err(UploadError::Read)?;
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        store
            .put_opts(object, PutPayload::from(bytes), options)
            .await
            .map_err(UploadError::Store)?;
        progress.set(done + size);
        return Ok(size);
    }
    let options = PutMultipartOptions {
        attributes,
        ..PutMultipartOptions::default()
    };
    let upload = store
        .put_multipart_opts(object, options)
        .await
        .map_err(UploadError::Store)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut buffer = vec![0; READ_SIZE];
    let mut sent = 0;
    loop {
        if let Err(err) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
            // The failed part's error is the one to report, not the abort's.
            let _ = writer.abort().await;
            return Err(UploadError::Store(err));
        }
        let read = match file.read(&mut buffer).await {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) => {
                let _ = writer.abort().await;
                return Err(UploadError::Read(err));
            }
        };
        writer.write(&buffer[..read]);
        sent += read as u64;
        progress.set(done + sent);
    }
    // Completes the upload, or aborts it when a part failed.
    writer.finish().await.map_err(UploadError::Store)?;
    Ok(size)
}

//! `[destination] kind = "dir"`: files land in a local folder by rename, so a reader of the
//! folder sees the old file or the new one, never half of one.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::{Delivery, PushError, Transport, file_name};
use crate::feed::Feed;

pub struct DirTransport {
    dir: PathBuf,
}

impl DirTransport {
    pub fn new(dir: PathBuf) -> DirTransport {
        DirTransport { dir }
    }
}

impl Transport for DirTransport {
    fn target(&self) -> String {
        self.dir.display().to_string()
    }

    fn deliver(&self, feed: &Feed, files: &[PathBuf]) -> Result<Delivery, PushError> {
        let io_err = |path: &Path| {
            let path = path.to_owned();
            move |source| PushError::Io {
                feed: feed.id.clone(),
                path,
                source,
            }
        };
        std::fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let mut delivery = Delivery::default();
        for staged in files {
            let dest = self.dir.join(file_name(staged));
            delivery.bytes += std::fs::metadata(staged).map_err(io_err(staged))?.len();
            place(staged, &dest).map_err(io_err(&dest))?;
            delivery.files.push(dest);
        }
        // A shorter feed than last time must not leave the old extra parts for the channel
        // to keep reading.
        crate::serialize::output::remove_stale_parts(
            &self.dir,
            &feed.file_stem,
            &feed.format.extension,
            &delivery.files,
        )
        .map_err(io_err(&self.dir))?;
        // The renames are durable only once the folder entry is on disk; without this a power
        // loss could bring back the old file after the state recorded the new one.
        sync_dir(&self.dir).map_err(io_err(&self.dir))?;
        Ok(delivery)
    }

    fn holds_feed(&self, feed: &Feed) -> Result<bool, PushError> {
        let (stem, extension) = (&feed.file_stem, &feed.format.extension);
        // A single file, or the first of numbered parts, each maybe gzipped.
        for name in [
            format!("{stem}.{extension}"),
            format!("{stem}-0001.{extension}"),
        ] {
            for name in [name.clone(), format!("{name}.gz")] {
                let path = self.dir.join(name);
                match std::fs::symlink_metadata(&path) {
                    Ok(_) => return Ok(true),
                    // No such file, or no such folder: delivery reports the latter.
                    Err(err)
                        if matches!(
                            err.kind(),
                            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                        ) => {}
                    Err(source) => {
                        return Err(PushError::Io {
                            feed: feed.id.clone(),
                            path,
                            source,
                        });
                    }
                }
            }
        }
        Ok(false)
    }
}

/// Renames `staged` over `dest`; across filesystems (EXDEV) copies into a temp file next to
/// `dest` first, so the final step is still a rename.
fn place(staged: &Path, dest: &Path) -> io::Result<()> {
    if std::fs::rename(staged, dest).is_ok() {
        return Ok(());
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    io::copy(&mut File::open(staged)?, temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    temp.persist(dest).map_err(|err| err.error)?;
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

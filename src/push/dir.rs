//! `[destination] kind = "dir"`: files land in a local folder by rename, so a reader of the
//! folder sees the old file or the new one, never half of one. Every part of a feed is
//! first placed under a temporary name in the folder (by rename from the staging folder, or
//! by copy when that is on another file system); only then are they renamed into place
//! together and this feed's stale parts removed ([`FeedFiles::publish`]).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use super::{Delivery, PushError, Transport};
use crate::feed::Feed;
use crate::serialize::file_set::FeedFiles;

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
        let names = FeedFiles::new(
            &self.dir,
            &feed.file_stem,
            &feed.format.extension,
            feed.gzip,
        );
        // Temporary files of a killed delivery (a copy across file systems) go first.
        names.remove_leftover_temps().map_err(io_err(&self.dir))?;
        let mut delivery = Delivery::default();
        let mut placed = Vec::with_capacity(files.len());
        for staged in files {
            delivery.bytes += std::fs::metadata(staged).map_err(io_err(staged))?.len();
            placed.push(place(staged, &names).map_err(io_err(&self.dir))?);
        }
        // The folder is synced inside: without it a power loss could bring back the old
        // file after the state recorded the new one.
        delivery.files = names.publish(placed).map_err(io_err(&self.dir))?;
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

    /// The folder, or the nearest existing folder it would be created in, is one this
    /// process may write into; asked of the system (`access(2)`), nothing is written.
    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        let io_err = |path: &Path, source| PushError::Io {
            feed: feed.id.clone(),
            path: path.to_owned(),
            source,
        };
        let mut existing = self.dir.as_path();
        while !existing.exists()
            && let Some(parent) = existing.parent()
        {
            existing = parent;
        }
        // A relative path with no existing part is created in the working folder.
        let existing = if existing.as_os_str().is_empty() {
            Path::new(".")
        } else {
            existing
        };
        if !existing.is_dir() {
            return Err(io_err(
                existing,
                io::Error::new(io::ErrorKind::NotADirectory, "not a folder"),
            ));
        }
        writable(existing).map_err(|source| io_err(existing, source))?;
        Ok(vec![if existing == self.dir {
            format!("folder {} is writable", self.dir.display())
        } else {
            format!(
                "folder {} would be created in {}, which is writable",
                self.dir.display(),
                existing.display()
            )
        }])
    }
}

/// Whether this process may create files in `folder` (write and search permission).
fn writable(folder: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(folder.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))?;
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Moves `staged` to a new temporary file in the destination folder: a rename on the same
/// file system, else a copy (EXDEV). The temporary file is created with the mode of an
/// ordinary new file, so the delivered feed is readable as any file the user writes.
fn place(staged: &Path, names: &FeedFiles) -> io::Result<TempPath> {
    let temp = names.temp_file()?;
    match std::fs::rename(staged, &temp) {
        Ok(()) => Ok(temp.into_temp_path()),
        Err(err) if err.kind() == io::ErrorKind::CrossesDevices => {
            let (mut file, path) = temp.into_parts();
            io::copy(&mut File::open(staged)?, &mut file)?;
            file.sync_all()?;
            Ok(path)
        }
        Err(err) => Err(err),
    }
}

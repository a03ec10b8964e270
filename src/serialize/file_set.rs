//! A feed's files in one folder: their names, the temporary files they are written under,
//! and the switch from the old set to the new one.
//!
//! Every part is complete and fsynced under a temporary name before the first rename, so
//! the switch is a handful of renames back to back. Which files a feed wrote last is kept
//! in a small hidden list next to them (`.STEM.EXT.parts`): only files named there (or the
//! feed's own single-file name) are ever removed as stale, so a file of another feed or
//! tool that merely looks like a part (`STEM-0007.EXT`) is left alone. Temporary files all
//! share the feed's prefix, `.STEM.EXT.` plus six random characters and `.partial`, so the
//! next run can tell the ones a killed run left behind from anything else.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempPath};

/// Random characters in a temporary file's name; cleanup matches exactly this many.
const RANDOM_CHARS: usize = 6;
const TEMP_SUFFIX: &str = ".partial";

/// The files one feed writes into one folder.
#[derive(Debug, Clone)]
pub struct FeedFiles {
    dir: PathBuf,
    stem: String,
    extension: String,
    gzip: bool,
}

impl FeedFiles {
    pub fn new(dir: &Path, stem: &str, extension: &str, gzip: bool) -> FeedFiles {
        FeedFiles {
            dir: dir.to_owned(),
            stem: stem.to_owned(),
            extension: extension.to_owned(),
            gzip,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the files are gzipped (`.gz` after the extension).
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// `STEM.EXT` (one part) or `STEM-NNNN.EXT` (part `number` of a split feed), plus `.gz`.
    fn name(&self, number: Option<usize>) -> String {
        let gz = if self.gzip { ".gz" } else { "" };
        match number {
            None => format!("{}.{}{gz}", self.stem, self.extension),
            Some(number) => format!("{}-{number:04}.{}{gz}", self.stem, self.extension),
        }
    }

    /// The final names of a feed written in `count` parts.
    pub fn names(&self, count: usize) -> Vec<String> {
        if count <= 1 {
            vec![self.name(None)]
        } else {
            (1..=count).map(|n| self.name(Some(n))).collect()
        }
    }

    /// `STEM.EXT`: what no other feed in the same folder may share (it also names the list
    /// and the temporary files, with or without gzip).
    pub fn key(&self) -> String {
        format!("{}.{}", self.stem, self.extension)
    }

    /// Whether `name` is one this feed can write: its single file or a numbered part, with
    /// or without `.gz`, a temporary file, or its list of parts.
    pub fn could_write(&self, name: &str) -> bool {
        self.is_output_name(name) || self.is_temp_name(name) || name == self.list_name()
    }

    /// Whether `name` is this feed's single file or one of its numbered parts, gzipped or not.
    pub fn is_output_name(&self, name: &str) -> bool {
        let bare = name.strip_suffix(".gz").unwrap_or(name);
        if bare == self.key() {
            return true;
        }
        bare.strip_prefix(&self.stem)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(&format!(".{}", self.extension)))
            .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
    }

    /// Whether another feed's files in the same folder could be taken for this one's: the
    /// same `STEM.EXT`, or one's name is a numbered part of the other.
    pub fn overlaps(&self, other: &FeedFiles) -> bool {
        let (own_single, other_single) = (self.key(), other.key());
        own_single == other_single
            || self.is_output_name(&other_single)
            || other.is_output_name(&own_single)
    }

    fn temp_prefix(&self) -> String {
        format!(".{}.", self.key())
    }

    fn is_temp_name(&self, name: &str) -> bool {
        temp_random_part(name, &self.temp_prefix()).is_some()
    }

    /// The temporary names of earlier versions, `.STEM.XXXXXX.partial`: still this feed's
    /// (a feed with another extension and the same stem in the same folder only ever left
    /// the same kind of leftover).
    fn is_old_temp_name(&self, name: &str) -> bool {
        temp_random_part(name, &format!(".{}.", self.stem)).is_some()
    }

    fn list_name(&self) -> String {
        format!(".{}.parts", self.key())
    }

    /// A new, empty temporary file in the folder, with the mode an ordinary new file gets
    /// (0666 less the umask), since it becomes a published feed file by rename.
    pub fn temp_file(&self) -> io::Result<NamedTempFile> {
        let mut builder = tempfile::Builder::new();
        let prefix = self.temp_prefix();
        builder
            .prefix(&prefix)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(RANDOM_CHARS);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        builder.tempfile_in(&self.dir)
    }

    /// Removes the temporary files a killed run of this feed left in the folder.
    pub fn remove_leftover_temps(&self) -> io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if self.is_temp_name(&name) || self.is_old_temp_name(&name) {
                remove_if_present(&entry.path())?;
            }
        }
        Ok(())
    }

    /// Files named in the list the last run left, kept only when they are this feed's
    /// output names (a list edited by hand cannot make us delete anything else).
    fn listed(&self) -> io::Result<Vec<String>> {
        let text = match std::fs::read_to_string(self.dir.join(self.list_name())) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(err),
        };
        Ok(text
            .lines()
            .filter(|line| !line.starts_with('#') && self.is_output_name(line))
            .map(str::to_owned)
            .collect())
    }

    fn write_list(&self, names: &[String]) -> io::Result<()> {
        let mut temp = self.temp_file()?;
        writeln!(
            temp,
            "# the files omnifeed last wrote here for {}; the next run replaces them",
            self.key()
        )?;
        for name in names {
            writeln!(temp, "{name}")?;
        }
        temp.as_file().sync_all()?;
        temp.persist(self.dir.join(self.list_name()))
            .map_err(|err| err.error)?;
        Ok(())
    }

    /// Renames the complete, synced `parts` (temporary files in this folder, in order) to
    /// their final names, removes the files of the previous set that the new one does not
    /// replace, and syncs the folder. Returns the final paths.
    ///
    /// The list names the union of both sets until the old files are gone, so a run killed
    /// at any point leaves every file of this feed named in it for the next run to tidy.
    pub fn publish(&self, parts: Vec<TempPath>) -> io::Result<Vec<PathBuf>> {
        let names = self.names(parts.len());
        let mut previous = self.listed()?;
        // The feed's own single-file name is ours even without a list (an older run).
        for single in [self.key(), format!("{}.gz", self.key())] {
            if !previous.contains(&single) && self.dir.join(&single).exists() {
                previous.push(single);
            }
        }
        let stale: Vec<String> = previous
            .iter()
            .filter(|name| !names.contains(name))
            .cloned()
            .collect();
        let mut union = previous;
        for name in &names {
            if !union.contains(name) {
                union.push(name.clone());
            }
        }
        self.write_list(&union)?;
        let mut finals = Vec::with_capacity(names.len());
        for (part, name) in parts.into_iter().zip(&names) {
            let target = self.dir.join(name);
            part.persist(&target).map_err(|err| err.error)?;
            finals.push(target);
        }
        for name in &stale {
            remove_if_present(&self.dir.join(name))?;
        }
        self.write_list(&names)?;
        // The renames are durable only once the folder itself is synced.
        sync_dir(&self.dir)?;
        Ok(finals)
    }
}

/// The random part of a temporary name `PREFIX` + random + `.partial`, if `name` is one.
fn temp_random_part<'n>(name: &'n str, prefix: &str) -> Option<&'n str> {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        .filter(|random| {
            random.len() == RANDOM_CHARS && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests;

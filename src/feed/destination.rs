//! Where a feed's files go, and the checks that keep them there: `file` is a plain name,
//! `[destination] path` is not empty, no feed writes into the catalog's folder or over a
//! file the config reads, and no two feeds share a file. Folders are compared after
//! resolving them (absolute, `.` and `..` applied, symbolic links followed), so two
//! spellings of one folder are one folder.

use std::path::{Component, Path, PathBuf};

use super::{Feed, FeedError, RawFeed};
use crate::config::Config;
use crate::serialize::file_set::FeedFiles;

/// Why `name` is not a plain file name, if it is not.
fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.contains('/') || name.contains('\\') {
        Some("contains a path separator")
    } else if name.contains('\0') {
        Some("contains a NUL character")
    } else if name.starts_with('.') {
        Some("starts with a dot (`..`, or a hidden file)")
    } else {
        None
    }
}

/// Problems with the feed definition's `file` and `[destination] path`, each naming its
/// line in `text` (the definition's source).
pub(super) fn definition_problems(raw: &RawFeed, id: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let line =
        |keys: &[&str]| key_line(text, keys).map_or_else(String::new, |n| format!("line {n}: "));
    match &raw.file {
        Some(file) => {
            if let Some(problem) = file_name_problem(file) {
                problems.push(format!(
                    "{}file = {file:?} {problem}\n  hint: `file` is the output name without folder or extension, e.g. file = \"google-de\"; the folder goes in [destination] path",
                    line(&["file"])
                ));
            }
        }
        // Without `file` the feed's own name is used, which must be plain too.
        None => {
            if let Some(problem) = file_name_problem(id) {
                problems.push(format!(
                    "the feed's name {id:?}, its default output name, {problem}\n  hint: set file = \"NAME\" or rename the feed file"
                ));
            }
        }
    }
    for (key, problem) in raw.destination.problems() {
        let keys: &[&str] = if key.is_empty() {
            &["destination"]
        } else {
            &["destination", key]
        };
        problems.push(format!("{}[destination] {problem}", line(keys)));
    }
    let path = raw.destination.local_folder();
    if path.as_os_str().is_empty() {
        problems.push(format!(
            "{}[destination] path is empty\n  hint: name a folder, relative to omnifeed.toml (e.g. path = \"out\") or absolute",
            line(&["destination", "path"])
        ));
    }
    problems
}

/// The 1-based line of the key at `keys` (a table path) in the TOML `text`.
fn key_line(text: &str, keys: &[&str]) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let (last, parents) = keys.split_last()?;
    for key in parents {
        let value = table.iter().find(|(k, _)| k.get_ref() == key)?.1;
        match value.get_ref() {
            toml::de::DeValue::Table(inner) => table = inner,
            _ => return None,
        }
    }
    let (key, _) = table.iter().find(|(k, _)| k.get_ref() == last)?;
    Some(text[..key.span().start].matches('\n').count() + 1)
}

/// `path` made absolute, with `.` and `..` applied and symbolic links followed as far as
/// the path exists; the rest, not yet created, is taken as written.
pub fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut resolved = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Prefix(_) | Component::RootDir | Component::Normal(_) => {
                resolved.push(component);
                // `..` after a link leaves the link's target, not the link's folder.
                if resolved.is_symlink()
                    && let Ok(real) = resolved.canonicalize()
                {
                    resolved = real;
                }
            }
        }
    }
    resolved
}

/// Checks where `feeds` would write: each feed's destination, or `out_dir` for all when
/// given. Refuses a folder the config reads from (catalog, feeds, specs), a feed file that
/// would replace a file the config reads, and two feeds whose files could be taken for
/// each other's.
pub fn check_targets(
    config: &Config,
    feeds: &[Feed],
    out_dir: Option<&Path>,
) -> Result<(), FeedError> {
    let read_dirs = [
        (&config.catalog_dir, "the catalog folder"),
        (&config.feeds_dir, "the feeds folder"),
        (&config.specs_dir, "the channel specs folder"),
    ]
    .map(|(dir, what)| (resolve(dir), what));
    let read_files: Vec<PathBuf> = config.read_files().iter().map(|p| resolve(p)).collect();
    let mut seen: Vec<(&Feed, FeedFiles)> = Vec::with_capacity(feeds.len());
    for feed in feeds {
        let written = out_dir.unwrap_or(&feed.destination);
        let dir = resolve(written);
        let refuse = |problem: String| FeedError::Invalid {
            path: feed.path.clone(),
            problems: vec![problem],
        };
        if let Some((_, what)) = read_dirs.iter().find(|(read, _)| *read == dir) {
            return Err(refuse(format!(
                "[destination] `{}` is {what}, which omnifeed reads: a feed must not write there\n  hint: set [destination] path to a folder of its own, e.g. \"out\"",
                written.display()
            )));
        }
        let files = FeedFiles::new(&dir, &feed.file_stem, &feed.format.extension, feed.gzip);
        for read in &read_files {
            let name = read.file_name().map(|n| n.to_string_lossy());
            if read.parent() == Some(dir.as_path()) && name.is_some_and(|n| files.could_write(&n)) {
                return Err(refuse(format!(
                    "`file` and [destination] would write over `{}`, which omnifeed reads\n  hint: give the feed another `file` or destination",
                    read.display()
                )));
            }
        }
        if let Some((other, _)) = seen
            .iter()
            .find(|(_, theirs)| theirs.dir() == dir && theirs.overlaps(&files))
        {
            return Err(refuse(format!(
                "feeds `{}` and `{}` would both write `{}` in `{}` (or files named like each other's parts)\n  hint: give one of them another `file` or destination",
                other.id,
                feed.id,
                files.key(),
                dir.display()
            )));
        }
        seen.push((feed, files));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Google's product taxonomy, to check category ids in feed mappings and to tell whether a
//! category lies below another. Built in: the `google_taxonomy` crate's list (version
//! 2019-07-10), which lacks the few categories Google added since, so an id it does not know
//! is only a warning. A `taxonomy` file in omnifeed.toml (Google's `taxonomy-with-ids.en-US.txt`,
//! the current one) replaces it, and then an unknown id is an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use google_taxonomy::ProductCategory;

#[derive(Debug, Default)]
pub enum Taxonomy {
    /// The list the `google_taxonomy` crate carries.
    #[default]
    Bundled,
    /// A taxonomy file the user named.
    File {
        path: PathBuf,
        path_by_id: HashMap<u32, Box<str>>,
        id_by_path: HashMap<Box<str>, u32>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("cannot read taxonomy file `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "taxonomy file `{path}`, line {line}: `{text}` is not `ID - Category > Path`, the form of Google's taxonomy-with-ids files"
    )]
    Line {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("taxonomy file `{0}` lists no categories")]
    Empty(PathBuf),
}

impl Taxonomy {
    /// Reads a file in the form of Google's `taxonomy-with-ids.<locale>.txt`: `#` comments,
    /// then one `ID - Path > Path` per line.
    pub fn from_file(path: &Path) -> Result<Taxonomy, TaxonomyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TaxonomyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut path_by_id = HashMap::new();
        let mut id_by_path = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = line
                .split_once(" - ")
                .and_then(|(id, name)| Some((id.trim().parse::<u32>().ok()?, name.trim())));
            let Some((id, name)) = parsed else {
                return Err(TaxonomyError::Line {
                    path: path.to_owned(),
                    line: index + 1,
                    text: line.to_owned(),
                });
            };
            path_by_id.insert(id, Box::from(name));
            id_by_path.insert(Box::from(name), id);
        }
        if path_by_id.is_empty() {
            return Err(TaxonomyError::Empty(path.to_owned()));
        }
        Ok(Taxonomy::File {
            path: path.to_owned(),
            path_by_id,
            id_by_path,
        })
    }

    /// Whether the list is the user's own (current), so an id it lacks is a mistake rather
    /// than a category newer than the built-in list.
    pub fn is_authoritative(&self) -> bool {
        matches!(self, Taxonomy::File { .. })
    }

    /// What the list is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Taxonomy::Bundled => "the built-in Google taxonomy (version 2019-07-10)".to_owned(),
            Taxonomy::File { path, .. } => format!("the taxonomy file `{}`", path.display()),
        }
    }

    pub fn path(&self, id: u32) -> Option<&str> {
        match self {
            Taxonomy::Bundled => ProductCategory::from_id(id).ok().map(|c| c.name()),
            Taxonomy::File { path_by_id, .. } => path_by_id.get(&id).map(|path| &**path),
        }
    }

    /// Resolves a category given as an id (`212`) or a full path to its path.
    pub fn resolve<'s>(&'s self, category: &'s str) -> Option<&'s str> {
        let category = category.trim();
        if let Ok(id) = category.parse::<u32>() {
            return self.path(id);
        }
        match self {
            Taxonomy::Bundled => ProductCategory::from_name(category).ok().map(|c| c.name()),
            Taxonomy::File { id_by_path, .. } => {
                id_by_path.get_key_value(category).map(|(path, _)| &**path)
            }
        }
    }

    /// Whether `category` (id or path) is `ancestor` (an id) or lies below it.
    pub fn is_under(&self, category: &str, ancestor: u32) -> bool {
        let (Some(path), Some(top)) = (self.resolve(category), self.path(ancestor)) else {
            return false;
        };
        path == top
            || path
                .strip_prefix(top)
                .is_some_and(|rest| rest.starts_with(" > "))
    }
}

#[cfg(test)]
mod tests;

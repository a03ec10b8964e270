//! Resolving a table's configured column names against the header it actually has.

use std::collections::BTreeMap;
use std::path::Path;

use super::table::{Header, LoadError};

/// The column for `field`: the mapped name if the config maps one (then it must exist),
/// else the field's own name if present.
pub fn resolve(
    mapping: &BTreeMap<String, String>,
    header: &Header,
    field: &str,
    required: bool,
    path: &Path,
) -> Result<Option<usize>, LoadError> {
    let name = mapping.get(field).map_or(field, String::as_str);
    match header.index_of(name) {
        Some(index) => Ok(Some(index)),
        None if required || mapping.contains_key(field) => Err(LoadError::Layout {
            path: path.to_owned(),
            message: format!("no column `{name}` for `{field}` in the header"),
            hint: format!(
                "map it in omnifeed.toml ({field} = \"YourColumn\"); the header has: {}",
                header.list()
            ),
        }),
        None => Ok(None),
    }
}

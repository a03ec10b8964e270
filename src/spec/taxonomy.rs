//! Google's product taxonomy (version 2021-09-21, 5,595 categories), embedded to check
//! category ids in feed mappings and to tell whether a category lies below another.

use std::collections::HashMap;
use std::sync::OnceLock;

pub struct Taxonomy {
    path_by_id: HashMap<u32, &'static str>,
    id_by_path: HashMap<&'static str, u32>,
}

pub fn taxonomy() -> &'static Taxonomy {
    static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
    TAXONOMY.get_or_init(|| {
        let mut path_by_id = HashMap::new();
        let mut id_by_path = HashMap::new();
        for line in include_str!("taxonomy-with-ids.en-US.txt").lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some((id, path)) = line.split_once(" - ")
                && let Ok(id) = id.trim().parse::<u32>()
            {
                path_by_id.insert(id, path.trim());
                id_by_path.insert(path.trim(), id);
            }
        }
        Taxonomy {
            path_by_id,
            id_by_path,
        }
    })
}

impl Taxonomy {
    pub fn path(&self, id: u32) -> Option<&'static str> {
        self.path_by_id.get(&id).copied()
    }

    /// Resolves a category given as an id (`212`) or a full path to its path.
    pub fn resolve(&self, category: &str) -> Option<&'static str> {
        let category = category.trim();
        match category.parse::<u32>() {
            Ok(id) => self.path(id),
            Err(_) => self
                .id_by_path
                .get_key_value(category)
                .map(|(path, _)| *path),
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
mod tests {
    use super::taxonomy;

    #[test]
    fn ids_and_paths_resolve_and_nest() {
        let t = taxonomy();
        assert_eq!(t.path(166), Some("Apparel & Accessories"));
        assert!(t.is_under("212", 166), "Shirts & Tops is apparel");
        assert!(t.is_under("187", 166), "Shoes are apparel");
        assert!(t.is_under("Apparel & Accessories > Shoes", 187));
        assert!(!t.is_under("543626", 166), "headphones are not apparel");
        assert!(!t.is_under("1660", 166), "a different id, not a child");
        assert!(t.resolve("99999999").is_none());
    }
}

//! Which added and removed items a diff lists with their fields. A reader sees a few of
//! them (`diff --limit`, `--sku`); building every field map of a first diff of a million
//! items took 5.8 GB. Changed items always carry the fields that differ: guards and
//! ranking read them.

/// How a [`super::DiffBuilder`] lists added and removed items.
#[derive(Debug, Clone, Default)]
pub enum Listing {
    /// Every one with its fields.
    #[default]
    All,
    /// Removed items by key only; added items counted, not listed (a push needs no more:
    /// it sends from its spill file).
    KeysOnly,
    /// The ones a reader asked to see, with their fields; see [`Shown`].
    Shown(Shown),
}

/// The items a reader asked to see: those whose key matches one of `skus` (every key when
/// none), the first `limit` by key. Added ones outside it are counted, not listed; removed
/// ones are listed by key (a push plan needs them all) without their fields.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub skus: Vec<String>,
    pub limit: Option<usize>,
}

impl Shown {
    /// Whether `key` is one of the SKUs asked for; a SKU also matches per-store keys
    /// `STORE/SKU`.
    pub fn matches(&self, key: &str) -> bool {
        self.skus.is_empty()
            || self.skus.iter().any(|sku| {
                key == sku
                    || key
                        .rsplit_once('/')
                        .is_some_and(|(_, item)| item == sku.as_str())
            })
    }
}

impl Listing {
    /// Whether an added item with this key is listed with its fields: the caller builds
    /// them only then.
    pub fn lists_fields_of(&self, key: &str) -> bool {
        match self {
            Listing::All => true,
            Listing::KeysOnly => false,
            // `--limit 0` lists none: only the totals are shown.
            Listing::Shown(shown) => shown.limit != Some(0) && shown.matches(key),
        }
    }

    /// The removed keys whose accepted fields are listed, out of `removed` (sorted).
    pub(super) fn removed_with_fields<'k>(&self, removed: &[&'k str]) -> Vec<&'k str> {
        match self {
            Listing::All => removed.to_vec(),
            Listing::KeysOnly => Vec::new(),
            Listing::Shown(shown) => {
                let matching = removed.iter().copied().filter(|key| shown.matches(key));
                match shown.limit {
                    Some(limit) => matching.take(limit).collect(),
                    None => matching.collect(),
                }
            }
        }
    }
}

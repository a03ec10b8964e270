//! Narrowing a diff for display: by key, by field, by count. `totals` stay those of the whole
//! feed, so a filtered view still tells how much it leaves out.

use std::collections::HashSet;

use super::{FeedDiff, ItemChange};

impl FeedDiff {
    /// Keeps only the items whose key is in `keys`.
    pub fn retain_keys(mut self, keys: &[&str]) -> FeedDiff {
        let keys: HashSet<&str> = keys.iter().copied().collect();
        for list in self.lists_mut() {
            list.retain(|item| keys.contains(item.key.as_str()));
        }
        self
    }

    /// Keeps only changes of the named fields. Changed items with no such change are dropped;
    /// added and removed items stay (their existence is the change) with just those fields.
    pub fn retain_fields(mut self, fields: &[&str]) -> FeedDiff {
        let wanted = |item: &mut ItemChange| {
            item.fields.retain(|f| fields.contains(&f.field.as_str()));
        };
        self.added.iter_mut().for_each(wanted);
        self.removed.iter_mut().for_each(wanted);
        self.changed.iter_mut().for_each(wanted);
        self.changed.retain(|item| !item.fields.is_empty());
        self
    }

    /// Keeps the first `n` items of each list (changed items are ranked, so these are the
    /// largest changes).
    pub fn limit(mut self, n: usize) -> FeedDiff {
        for list in self.lists_mut() {
            list.truncate(n);
        }
        self
    }

    fn lists_mut(&mut self) -> [&mut Vec<ItemChange>; 3] {
        [&mut self.added, &mut self.changed, &mut self.removed]
    }
}

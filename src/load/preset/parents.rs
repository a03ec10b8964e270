//! The parent records of WooCommerce variations and Magento children, read again when a
//! child needs them instead of keeping the whole export in memory.
//!
//! A first pass notes only where each parent row starts. A child's parent is then taken
//! from a few recently used parents (an export usually writes a parent next to its
//! children, so the pass itself fills them), or read from the file at its offset.

use super::shop_file::{ShopFile, ShopRecord};
use crate::load::table::LoadError;

/// Where a parent row starts: byte offset and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ParentAt {
    pub(super) byte: u64,
    pub(super) line: u64,
}

/// Parents recently used, with what a preset works out of each once (`T`).
pub(super) struct ParentCache<T> {
    /// Most recently used first.
    entries: Vec<(u64, T)>,
}

/// Parents kept at once: children of one parent usually come together, so a few suffice.
const KEPT: usize = 8;

impl<T> ParentCache<T> {
    pub(super) fn new() -> ParentCache<T> {
        ParentCache {
            entries: Vec::with_capacity(KEPT),
        }
    }

    /// Keeps `record`, a parent met while passing over the export, unless it is kept already.
    pub(super) fn offer(&mut self, record: &ShopRecord, make: impl FnOnce(ShopRecord) -> T) {
        if !self.entries.iter().any(|(byte, _)| *byte == record.byte) {
            self.insert(record.byte, make(record.clone()));
        }
    }

    /// The parent at `at`, read from `file` when it is not kept.
    pub(super) fn get(
        &mut self,
        file: &ShopFile,
        at: ParentAt,
        make: impl FnOnce(ShopRecord) -> T,
    ) -> Result<&T, LoadError> {
        match self.entries.iter().position(|(byte, _)| *byte == at.byte) {
            Some(0) => {}
            Some(index) => {
                let entry = self.entries.remove(index);
                self.entries.insert(0, entry);
            }
            None => {
                let mut record = ShopRecord::default();
                file.record_at(at.byte, at.line, &mut record)?;
                self.insert(at.byte, make(record));
            }
        }
        Ok(&self.entries[0].1)
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    fn insert(&mut self, byte: u64, value: T) {
        self.entries.truncate(KEPT - 1);
        self.entries.insert(0, (byte, value));
    }
}

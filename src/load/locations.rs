//! The locations table: warehouses and stores that hold stock.

use xxhash_rust::xxh3::xxh3_64;

use super::keys::KeyMap;
use std::sync::Arc;

use crate::diag::Finding;
use crate::rules;

use super::table::{Batch, LoadError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Warehouse,
    Store,
}

#[derive(Debug, Clone)]
pub struct Location {
    pub id: String,
    pub kind: LocationKind,
    pub name: String,
    /// The Google Business Profile store code; stores only.
    pub store_code: String,
    /// How shoppers pick up at this store (`buy`, `reserve`, …; the channel's spec checks
    /// the value), empty when the table has no `pickup_method` column.
    pub pickup_method: String,
    /// How soon an order is ready for pickup (`same day`, `2-day`, …), or empty.
    pub pickup_sla: String,
}

#[derive(Debug, Default)]
pub struct Locations {
    pub list: Vec<Location>,
    /// Whether the catalog has an inventory table: with one, a SKU it has no row for has
    /// no stock; without one (and without a stock column), its stock is unknown.
    pub inventory_table: bool,
    /// Stores' own prices (the optional store prices table), shared with the feeds.
    pub store_prices: Arc<super::store_prices::StorePrices>,
    /// By a hash of the id: inventory files look a location up tens of millions of times.
    by_id: KeyMap<u64, u16>,
}

impl Locations {
    pub fn index_of(&self, id: &str) -> Option<u16> {
        let index = *self.by_id.get(&xxh3_64(id.as_bytes()))?;
        // A hash collision between two ids must not swap their stock.
        (self.list[usize::from(index)].id == id).then_some(index)
    }

    pub fn get(&self, index: u16) -> &Location {
        &self.list[usize::from(index)]
    }

    pub fn add_batch(
        &mut self,
        batch: &Batch,
        columns: &LocationColumns,
        label: &Arc<str>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), LoadError> {
        findings.extend(batch.findings.iter().cloned());
        for row in &batch.rows {
            let cells = batch.cells(row);
            let cell = |index: Option<usize>| {
                index
                    .and_then(|i| cells.get(i))
                    .and_then(|raw| std::str::from_utf8(raw).ok())
                    .unwrap_or("")
                    .trim()
            };
            let id = cell(Some(columns.id));
            let kind_text = cell(columns.kind);
            let problem = |message: String| {
                Finding::new(&rules::INVALID_LOCATION, label, message).line(row.line)
            };
            if id.is_empty() {
                findings.push(problem("location id is empty".into()));
                continue;
            }
            let kind = match kind_text.to_ascii_lowercase().as_str() {
                "warehouse" | "" => LocationKind::Warehouse,
                "store" => LocationKind::Store,
                other => {
                    findings.push(problem(format!(
                        "location `{id}` has kind `{other}`; use warehouse or store"
                    )));
                    continue;
                }
            };
            let store_code = cell(columns.store_code);
            if kind == LocationKind::Store && store_code.is_empty() {
                findings.push(problem(format!("store `{id}` has no store_code")));
            }
            if self.index_of(id).is_some() {
                findings.push(problem(format!("location `{id}` is listed twice")));
                continue;
            }
            let index = u16::try_from(self.list.len()).map_err(|_| LoadError::Layout {
                path: label.to_string().into(),
                message: "more than 65,535 locations".into(),
                hint: "split the catalog by region".into(),
            })?;
            let hash = xxh3_64(id.as_bytes());
            if self.by_id.contains_key(&hash) {
                findings.push(problem(format!(
                    "location `{id}` collides with another id's hash; rename one of them"
                )));
                continue;
            }
            self.by_id.insert(hash, index);
            self.list.push(Location {
                id: id.to_owned(),
                kind,
                name: cell(columns.name).to_owned(),
                store_code: store_code.to_owned(),
                pickup_method: cell(columns.pickup_method).to_owned(),
                pickup_sla: cell(columns.pickup_sla).to_owned(),
            });
        }
        Ok(())
    }
}

pub struct LocationColumns {
    pub id: usize,
    pub kind: Option<usize>,
    pub name: Option<usize>,
    pub store_code: Option<usize>,
    pub pickup_method: Option<usize>,
    pub pickup_sla: Option<usize>,
}

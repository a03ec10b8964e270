//! The locations table: warehouses and stores that hold stock.

use std::collections::HashMap;
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
}

#[derive(Debug, Default)]
pub struct Locations {
    pub list: Vec<Location>,
    by_id: HashMap<String, u16>,
}

impl Locations {
    pub fn index_of(&self, id: &str) -> Option<u16> {
        // Catalogs have a few dozen locations and tens of millions of inventory rows: a
        // scan beats hashing the id every time.
        if self.list.len() <= 64 {
            return self
                .list
                .iter()
                .position(|location| location.id == id)
                .and_then(|i| u16::try_from(i).ok());
        }
        self.by_id.get(id).copied()
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
            let cell = |index: Option<usize>| {
                index
                    .and_then(|i| row.record.get(i))
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
            if self.by_id.contains_key(id) {
                findings.push(problem(format!("location `{id}` is listed twice")));
                continue;
            }
            let index = u16::try_from(self.list.len()).map_err(|_| LoadError::Layout {
                path: label.to_string().into(),
                message: "more than 65,535 locations".into(),
                hint: "split the catalog by region".into(),
            })?;
            self.by_id.insert(id.to_owned(), index);
            self.list.push(Location {
                id: id.to_owned(),
                kind,
                name: cell(columns.name).to_owned(),
                store_code: store_code.to_owned(),
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
}

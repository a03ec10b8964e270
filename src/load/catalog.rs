//! One pass over the catalog: locations, then inventory, then products in parallel batches,
//! with the checks that need more than one row (duplicates, variant groups, stock joins).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::columns::resolve;
use super::keys::{KeyMap, hash64, sku_key};
use super::locations::{LocationColumns, Locations};
use super::products::{Converted, PlanInput, ProductPlan, convert};
use super::table::{self, LoadError, TableFormat, TableReader};
use crate::config::{Config, RawTable};
use crate::diag::Finding;
use crate::model::{Currency, Variant};
use crate::report::progress::Progress;
use crate::rules;

const BATCH_ROWS: usize = 4096;

/// Stock of one SKU at one location. Compact on purpose: a million SKUs in twenty
/// locations make twenty million of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    pub location: u16,
    pub quantity: u32,
}

/// A product row that passed every check, with its stock, as handed to the feed stages.
pub struct CatalogItem<'a> {
    pub variant: &'a Variant<'a>,
    pub stock: &'a [StockLevel],
    /// A further row of a SKU already seen, giving its price in another currency. Feeds
    /// for one currency pick the row in theirs; feeds without one take the first row only.
    pub other_currency_row: bool,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct LoadCounts {
    pub product_rows: u64,
    /// Distinct SKUs with at least one row.
    pub variants: u64,
    /// Product rows left out because of an error.
    pub rejected_rows: u64,
    pub inventory_rows: u64,
    pub locations: u64,
}

pub struct LoadOutcome {
    pub findings: Vec<Finding>,
    pub counts: LoadCounts,
    pub locations: Locations,
}

/// What the checks across product rows remember of each SKU.
struct SkuEntry {
    /// Line of the first product row with this SKU.
    line: u64,
    /// Hash of what makes the variant itself (group, GTIN, variant attributes): rows in
    /// other currencies must agree on it.
    identity: u64,
    currency: u32,
    /// Further currencies, for catalogs with one row per currency.
    more_currencies: Option<Box<[u32]>>,
}

impl SkuEntry {
    fn has_currency(&self, currency: u32) -> bool {
        self.currency == currency
            || self
                .more_currencies
                .as_ref()
                .is_some_and(|more| more.contains(&currency))
    }
}

/// Stock per SKU from the inventory table.
#[derive(Default)]
pub struct Inventory {
    entries: KeyMap<u128, StockEntry>,
    /// Every SKU's levels, a run per SKU: inventory files list a SKU's rows together, so
    /// one flat buffer replaces a million small vectors.
    levels: Vec<StockLevel>,
    /// SKU texts, kept in one buffer to name SKUs that have stock but no product row.
    sku_text: String,
}

struct StockEntry {
    start: usize,
    len: u32,
    first_line: u64,
    rows: u32,
    text_at: (u32, u32),
}

impl Inventory {
    pub fn stock(&self, sku: &str) -> &[StockLevel] {
        self.entries
            .get(&sku_key(sku))
            .map_or(&[], |entry| self.levels_of(entry))
    }

    fn levels_of(&self, entry: &StockEntry) -> &[StockLevel] {
        &self.levels[entry.start..entry.start + entry.len as usize]
    }

    fn push_level(levels: &mut Vec<StockLevel>, entry: &mut StockEntry, level: StockLevel) {
        let end = entry.start + entry.len as usize;
        if end != levels.len() {
            // This SKU's rows are not together in the file: move its run to the end.
            levels.extend_from_within(entry.start..end);
            entry.start = levels.len() - entry.len as usize;
        }
        levels.push(level);
        entry.len += 1;
    }
}

/// Hashes of one product row for the checks across rows, computed on the worker threads.
struct RowKeys {
    sku: u128,
    identity: u64,
    attributes: u64,
    group: u128,
}

impl RowKeys {
    fn of(variant: &Variant<'_>) -> RowKeys {
        let attributes = (
            variant.color,
            variant.size,
            variant.material,
            variant.pattern,
            variant.gender,
            variant.age_group,
        );
        RowKeys {
            sku: sku_key(variant.sku),
            identity: hash64((variant.group_id, variant.gtin, attributes)),
            attributes: hash64(attributes),
            group: sku_key(variant.group_id),
        }
    }
}

/// The row's currencies as compact keys; rows whose currency could not be read share the
/// key 0, so they still collide with each other.
fn currency_keys<'v>(variant: &'v Variant<'_>) -> impl Iterator<Item = u32> + 'v {
    let none = variant.prices.is_empty().then_some(0);
    variant
        .prices
        .iter()
        .map(|p| currency_key(p.regular.currency))
        .chain(none)
}

struct Table {
    path: PathBuf,
    label: Arc<str>,
    format: TableFormat,
    config: RawTable,
}

impl Table {
    fn new(config: &Config, raw: &RawTable, default_file: &str) -> Result<Table, LoadError> {
        let file = raw.file.clone().unwrap_or_else(|| default_file.into());
        let path = config.catalog_dir.join(&file);
        let label: Arc<str> = Arc::from(path.display().to_string());
        let format = TableFormat::from_config(raw, &path)?;
        Ok(Table {
            path,
            label,
            format,
            config: raw.clone(),
        })
    }

    /// An optional table may be missing unless the config names its file.
    fn exists_or_required(&self, optional: bool) -> Result<bool, LoadError> {
        if self.path.exists() {
            return Ok(true);
        }
        let optional = optional && self.config.file.is_none() && self.config.required != Some(true);
        if optional {
            Ok(false)
        } else {
            Err(LoadError::Open {
                path: self.path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "file not found"),
            })
        }
    }

    fn open(&self) -> Result<TableReader, LoadError> {
        TableReader::open(&self.path, self.format, Arc::clone(&self.label))
    }
}

pub type Sink<'s> = dyn FnMut(&[CatalogItem<'_>], &Locations) -> anyhow::Result<()> + 's;

/// How `load` orders its reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockTiming {
    /// The sink needs each item's stock: read inventory before products.
    BeforeProducts,
    /// The sink ignores stock: read inventory alongside products, on another thread.
    Concurrent,
}

/// Reads the whole catalog once, checking it, and hands accepted items to `sink` in file
/// order, batch by batch.
pub fn load(
    config: &Config,
    progress: &Progress,
    timing: StockTiming,
    sink: &mut Sink<'_>,
) -> anyhow::Result<LoadOutcome> {
    let products = Table::new(config, &config.products, "products.csv")?;
    let inventory_table = Table::new(config, &config.inventory, "inventory.csv")?;
    let locations_table = Table::new(config, &config.locations, "locations.csv")?;
    products.exists_or_required(false)?;
    let has_inventory = inventory_table.exists_or_required(true)?;
    let has_locations = locations_table.exists_or_required(!has_inventory)?;

    let mut findings = Vec::new();
    let mut counts = LoadCounts::default();
    let mut locations = Locations::default();
    if has_locations {
        read_locations(&locations_table, &mut locations, &mut findings)?;
        counts.locations = locations.list.len() as u64;
    }
    let locations_ref = &locations;
    let read_stock = || -> anyhow::Result<(Inventory, Vec<Finding>, u64)> {
        let mut inventory = Inventory::default();
        let mut inventory_findings = Vec::new();
        let mut rows = 0;
        if has_inventory {
            read_inventory(
                &inventory_table,
                locations_ref,
                &mut inventory,
                &mut inventory_findings,
                &mut rows,
            )?;
        }
        Ok((inventory, inventory_findings, rows))
    };

    enum Stock<T, H> {
        Ready(T),
        Pending(H),
    }
    let (inventory, skus) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let stock = match timing {
            StockTiming::BeforeProducts => Stock::Ready(read_stock()?),
            StockTiming::Concurrent => Stock::Pending(scope.spawn(read_stock)),
        };
        let no_stock = Inventory::default();
        let stock_source = match &stock {
            Stock::Ready((inventory, _, _)) => inventory,
            Stock::Pending(_) => &no_stock,
        };
        progress.start("products", file_len(&products.path));
        let skus = read_products(
            config,
            &products,
            stock_source,
            locations_ref,
            &mut findings,
            &mut counts,
            progress,
            sink,
        )?;
        progress.finish();
        let inventory = match stock {
            Stock::Ready(done) => done,
            Stock::Pending(handle) => handle
                .join()
                .map_err(|_| anyhow::anyhow!("the inventory reader panicked"))??,
        };
        Ok((inventory, skus))
    })?;
    let (inventory, inventory_findings, inventory_rows) = inventory;
    findings.extend(inventory_findings);
    counts.inventory_rows = inventory_rows;

    for (key, entry) in &inventory.entries {
        if !skus.contains_key(key) {
            let (start, end) = entry.text_at;
            let sku = &inventory.sku_text[start as usize..end as usize];
            findings.push(
                Finding::new(
                    &rules::UNKNOWN_INVENTORY_SKU,
                    &inventory_table.label,
                    format!(
                        "SKU `{sku}` has {} inventory row(s) but no product row",
                        entry.rows
                    ),
                )
                .line(entry.first_line)
                .field("sku")
                .sku(sku),
            );
        }
    }
    // Hash-map order must not leak into reports: same catalog, same output.
    let file_rank = |file: &str| {
        [
            &products.label,
            &inventory_table.label,
            &locations_table.label,
        ]
        .iter()
        .position(|label| &***label == file)
        .unwrap_or(3)
    };
    findings.sort_by(|a, b| {
        (file_rank(&a.file), a.line, a.rule).cmp(&(file_rank(&b.file), b.line, b.rule))
    });
    Ok(LoadOutcome {
        findings,
        counts,
        locations,
    })
}

fn read_locations(
    table: &Table,
    locations: &mut Locations,
    findings: &mut Vec<Finding>,
) -> anyhow::Result<()> {
    let reader = table.open()?;
    let map = &table.config.columns;
    let path = &table.path;
    // Resolved against the first batch's header: a JSON Lines table has none before it.
    let mut columns: Option<LocationColumns> = None;
    table::stream(reader, BATCH_ROWS, |batch| {
        if columns.is_none() {
            let header = &batch.header;
            columns = Some(LocationColumns {
                id: resolve(map, header, "location_id", true, path)?.unwrap_or(0),
                kind: resolve(map, header, "kind", false, path)?,
                name: resolve(map, header, "name", false, path)?,
                store_code: resolve(map, header, "store_code", false, path)?,
            });
        }
        if let Some(columns) = &columns {
            locations.add_batch(batch, columns, &table.label, findings)?;
        }
        Ok(())
    })
}

#[allow(clippy::too_many_arguments)]
fn read_products(
    config: &Config,
    products: &Table,
    inventory: &Inventory,
    locations: &Locations,
    findings: &mut Vec<Finding>,
    counts: &mut LoadCounts,
    progress: &Progress,
    sink: &mut Sink<'_>,
) -> anyhow::Result<KeyMap<u128, SkuEntry>> {
    let reader = products.open()?;
    let plan_input = PlanInput {
        table: &products.config,
        path: &products.path,
        label: Arc::clone(&products.label),
        required: &config.required,
        default_currency: config
            .defaults
            .currency
            .as_deref()
            .and_then(Currency::parse),
        time_zone: &config.time_zone,
        strict: products.format != TableFormat::JsonLines,
    };
    let mut plan = ProductPlan::new(&plan_input, reader.header())?;
    let mut skus: KeyMap<u128, SkuEntry> = KeyMap::default();
    let mut groups: KeyMap<u128, Vec<(u64, u64, u64)>> = KeyMap::default();
    let file_bytes = file_len(&products.path);
    table::stream(reader, BATCH_ROWS, |batch| {
        if skus.is_empty() {
            skus.reserve(estimate_rows(batch, file_bytes));
        }
        if !Arc::ptr_eq(plan.header(), &batch.header) {
            plan = ProductPlan::new(&plan_input, &batch.header)?;
        }
        findings.extend(batch.findings.iter().cloned());
        counts.rejected_rows += batch.findings.len() as u64;
        counts.product_rows += (batch.rows.len() + batch.findings.len()) as u64;
        let converted: Vec<(Converted<'_>, Option<RowKeys>, Vec<Finding>)> = batch
            .rows
            .par_iter()
            .map(|row| {
                let mut row_findings = Vec::new();
                let converted = convert(&plan, row, &mut row_findings);
                let keys = converted.variant.as_ref().map(RowKeys::of);
                (converted, keys, row_findings)
            })
            .collect();
        let mut converted = converted;
        // Per row: None = left out, Some(true) = a further currency row of a SKU.
        let mut keep: Vec<Option<bool>> = vec![None; converted.len()];
        for (index, (row, keys, row_findings)) in converted.iter_mut().enumerate() {
            findings.append(row_findings);
            let (Some(variant), Some(keys)) = (&row.variant, keys.take()) else {
                counts.rejected_rows += 1;
                continue;
            };
            let verdict = check_across_rows(
                variant,
                keys,
                &mut skus,
                &mut groups,
                &plan_input.label,
                findings,
                counts,
            );
            keep[index] = verdict.filter(|_| !row.has_errors);
            if keep[index].is_none() {
                counts.rejected_rows += 1;
            }
        }
        // Items point into `converted`: moving half-kilobyte variants around again would
        // cost a batch-sized copy.
        let items: Vec<CatalogItem<'_>> = converted
            .iter()
            .zip(&keep)
            .filter_map(|((row, _, _), keep)| Some((row.variant.as_ref()?, (*keep)?)))
            .map(|(variant, other_currency_row)| CatalogItem {
                variant,
                stock: inventory.stock(variant.sku),
                other_currency_row,
            })
            .collect();
        sink(&items, locations)?;
        if let Some(last) = batch.rows.last() {
            progress.set(last.byte);
        }
        Ok(())
    })?;
    Ok(skus)
}

/// Rows in the whole file, judged by the first batch's bytes per row (a little over, so
/// tables sized by it rarely grow).
fn estimate_rows(first: &table::Batch, file_bytes: u64) -> usize {
    let (Some(head), Some(tail)) = (first.rows.first(), first.rows.last()) else {
        return 0;
    };
    let rows = first.rows.len() as u64;
    let per_row = (tail.byte.saturating_sub(head.byte) / rows.saturating_sub(1).max(1)).max(1);
    usize::try_from(file_bytes / per_row + file_bytes / per_row / 16).unwrap_or(0)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Duplicate SKUs and indistinct variants. Returns None when the row must be left out,
/// Some(true) for a further currency row of a SKU already seen.
fn check_across_rows(
    variant: &Variant<'_>,
    keys: RowKeys,
    skus: &mut KeyMap<u128, SkuEntry>,
    groups: &mut KeyMap<u128, Vec<(u64, u64, u64)>>,
    label: &Arc<str>,
    findings: &mut Vec<Finding>,
    counts: &mut LoadCounts,
) -> Option<bool> {
    match skus.entry(keys.sku) {
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(SkuEntry {
                line: variant.line,
                identity: keys.identity,
                currency: currency_keys(variant).next().unwrap_or(0),
                more_currencies: (variant.prices.len() > 1)
                    .then(|| currency_keys(variant).skip(1).collect()),
            });
            counts.variants += 1;
        }
        std::collections::hash_map::Entry::Occupied(mut slot) => {
            let entry = slot.get_mut();
            let first = entry.line;
            let repeated = currency_keys(variant).any(|c| entry.has_currency(c));
            let message = if repeated {
                Some(format!(
                    "SKU `{}` repeats line {first} with the same currency",
                    variant.sku
                ))
            } else if entry.identity != keys.identity {
                Some(format!(
                    "SKU `{}` repeats line {first} in another currency, but its group, GTIN or variant attributes differ, so it is not a price row of the same variant",
                    variant.sku
                ))
            } else {
                None
            };
            if let Some(message) = message {
                findings.push(
                    Finding::new(&rules::DUPLICATE_SKU, label, message)
                        .line(variant.line)
                        .field("sku")
                        .sku(variant.sku),
                );
                return None;
            }
            // Another currency's row for a variant already seen: its group was checked then.
            let mut more = entry
                .more_currencies
                .take()
                .map_or_else(Vec::new, Vec::from);
            more.extend(currency_keys(variant));
            entry.more_currencies = Some(more.into());
            return Some(true);
        }
    }
    if !variant.group_id.is_empty() {
        let siblings = groups.entry(keys.group).or_default();
        let sku = keys.sku as u64;
        if let Some(&(_, first_line, _)) = siblings
            .iter()
            .find(|&&(other, _, other_sku)| other == keys.attributes && other_sku != sku)
        {
            findings.push(
                Finding::new(
                    &rules::INDISTINCT_VARIANTS,
                    label,
                    format!(
                        "variant `{}` of group `{}` has the same colour, size, material, pattern, gender and age group as the variant on line {first_line}",
                        variant.sku, variant.group_id
                    ),
                )
                .line(variant.line)
                .field("group_id")
                .sku(variant.sku),
            );
        }
        siblings.push((keys.attributes, variant.line, sku));
    }
    Some(false)
}

fn currency_key(currency: Currency) -> u32 {
    let mut bytes = [0u8; 4];
    bytes[..3].copy_from_slice(currency.code().as_bytes());
    u32::from_le_bytes(bytes)
}

/// One inventory row, read on a worker thread.
struct InventoryRow<'a> {
    line: u64,
    sku: &'a str,
    key: u128,
    location: u16,
    quantity: Option<u32>,
}

fn read_inventory(
    table: &Table,
    locations: &Locations,
    inventory: &mut Inventory,
    findings: &mut Vec<Finding>,
    rows_read: &mut u64,
) -> anyhow::Result<()> {
    let reader = table.open()?;
    let map = &table.config.columns;
    let path = &table.path;
    // Resolved against the first batch's header: a JSON Lines table has none before it.
    let mut columns: Option<(usize, usize, usize)> = None;
    let label = &table.label;
    let file_bytes = file_len(&table.path);
    table::stream(reader, BATCH_ROWS, |batch| {
        let (sku_column, location_column, quantity_column) = match columns {
            Some(columns) => columns,
            None => {
                let header = &batch.header;
                let resolved = (
                    resolve(map, header, "sku", true, path)?.unwrap_or(0),
                    resolve(map, header, "location_id", true, path)?.unwrap_or(0),
                    resolve(map, header, "quantity", true, path)?.unwrap_or(0),
                );
                columns = Some(resolved);
                resolved
            }
        };
        if inventory.levels.is_empty() {
            // Growing by doubling would touch twice the memory and copy it all along; the
            // SKU table is sized by the first batch's rows per SKU.
            let rows = estimate_rows(batch, file_bytes);
            inventory.levels.reserve(rows);
            let distinct = batch
                .rows
                .chunk_by(|a, b| a.record.get(sku_column) == b.record.get(sku_column))
                .count()
                .max(1);
            inventory
                .entries
                .reserve(rows / (batch.rows.len() / distinct).max(1));
        }
        findings.extend(batch.findings.iter().cloned());
        *rows_read += (batch.rows.len() + batch.findings.len()) as u64;
        let parsed: Vec<(Option<InventoryRow<'_>>, Option<Finding>)> = batch
            .rows
            .par_iter()
            .map(|row| {
                // JSON Lines rows read before a key first appeared are shorter.
                let cell = |index: usize| {
                    std::str::from_utf8(row.record.get(index).unwrap_or_default()).map(str::trim)
                };
                let (Ok(sku), Ok(location_id), Ok(quantity_text)) = (
                    cell(sku_column),
                    cell(location_column),
                    cell(quantity_column),
                ) else {
                    let finding =
                        Finding::new(&rules::INVALID_UTF8, label, "row is not valid UTF-8")
                            .line(row.line);
                    return (None, Some(finding));
                };
                let finding = |rule, field, message: String| {
                    Finding::new(rule, label, message)
                        .line(row.line)
                        .field(field)
                        .sku(sku)
                };
                if sku.is_empty() {
                    let problem = finding(
                        &rules::MISSING_REQUIRED,
                        "sku",
                        "inventory row has no SKU".into(),
                    );
                    return (None, Some(problem));
                }
                let Some(location) = locations.index_of(location_id) else {
                    let problem = finding(
                        &rules::UNKNOWN_LOCATION,
                        "location_id",
                        format!("location `{location_id}` is not in the locations file"),
                    );
                    return (None, Some(problem));
                };
                let (quantity, problem) = match quantity_text.parse::<i64>() {
                    Ok(quantity) if quantity < 0 => (
                        None,
                        Some(finding(
                            &rules::NEGATIVE_STOCK,
                            "quantity",
                            format!("quantity {quantity} at `{location_id}` is below zero"),
                        )),
                    ),
                    Ok(quantity) => match u32::try_from(quantity) {
                        Ok(quantity) => (Some(quantity), None),
                        Err(_) => (
                            None,
                            Some(finding(
                                &rules::INVALID_NUMBER,
                                "quantity",
                                format!(
                                    "quantity {quantity} at `{location_id}` is implausibly large"
                                ),
                            )),
                        ),
                    },
                    Err(_) => (
                        None,
                        Some(finding(
                            &rules::INVALID_NUMBER,
                            "quantity",
                            format!("quantity `{quantity_text}` is not a whole number"),
                        )),
                    ),
                };
                let row = InventoryRow {
                    line: row.line,
                    sku,
                    key: sku_key(sku),
                    location,
                    quantity,
                };
                (Some(row), problem)
            })
            .collect();
        let mut rows = Vec::with_capacity(parsed.len());
        for (row, problem) in parsed {
            findings.extend(problem);
            rows.extend(row);
        }
        // A SKU's rows come together, so each run of them costs one map lookup.
        for run in rows.chunk_by(|a, b| a.key == b.key) {
            let first = &run[0];
            let entry = match inventory.entries.entry(first.key) {
                std::collections::hash_map::Entry::Occupied(slot) => slot.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let start = inventory.sku_text.len() as u32;
                    inventory.sku_text.push_str(first.sku);
                    slot.insert(StockEntry {
                        start: inventory.levels.len(),
                        len: 0,
                        first_line: first.line,
                        rows: 0,
                        text_at: (start, inventory.sku_text.len() as u32),
                    })
                }
            };
            for row in run {
                entry.rows += 1;
                let levels = &inventory.levels[entry.start..entry.start + entry.len as usize];
                if levels.iter().any(|level| level.location == row.location) {
                    let location_id = &locations.get(row.location).id;
                    findings.push(
                        Finding::new(
                            &rules::DUPLICATE_INVENTORY,
                            label,
                            format!(
                                "stock for SKU `{}` at `{location_id}` is already given",
                                row.sku
                            ),
                        )
                        .line(row.line)
                        .field("location_id")
                        .sku(row.sku),
                    );
                    continue;
                }
                // A row with an unreadable quantity counts as no stock at its location (and
                // still makes a repeat of the location a duplicate).
                let level = StockLevel {
                    location: row.location,
                    quantity: row.quantity.unwrap_or(0),
                };
                Inventory::push_level(&mut inventory.levels, entry, level);
            }
        }
        Ok(())
    })
}

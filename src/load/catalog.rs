//! One pass over the catalog: locations, then inventory, then products in parallel batches,
//! with the checks that need more than one row (duplicates, variant groups, stock joins).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::columns::resolve;
use super::keys::{KeyMap, PackedKey, SortedKeys, hash64, hash128, sku_key};
use super::locations::{LocationColumns, Locations};
use super::products::{CatalogColumns, Converted, PlanInput, ProductPlan, convert};
use super::quantity::parse_quantity;
use super::table::{self, LoadError, TableFormat, TableReader};
use crate::config::{Config, RawTable};
use crate::diag::{Finding, Findings};
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
    /// The products table's unmapped columns, for checks of the feeds' settings.
    pub columns: &'a CatalogColumns,
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
    /// Rows of a shop export that are no sellable variant (drafts, grouped products…), by
    /// why; not counted in `product_rows`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub skipped: std::collections::BTreeMap<String, u64>,
}

impl LoadCounts {
    /// The skipped export rows as a summary names them: `3 (2 draft, 1 grouped)`, or
    /// `None` when nothing was skipped.
    pub fn skipped_summary(&self) -> Option<String> {
        if self.skipped.is_empty() {
            return None;
        }
        let total: u64 = self.skipped.values().sum();
        let parts: Vec<String> = self
            .skipped
            .iter()
            .map(|(why, count)| format!("{count} {why}"))
            .collect();
        Some(format!("{total} ({})", parts.join(", ")))
    }
}

pub struct LoadOutcome {
    /// Counted in full; the first of each rule kept, as `config.findings` says.
    pub findings: Findings,
    pub counts: LoadCounts,
    pub locations: Locations,
}

/// What the checks across product rows remember of each SKU. A million of these make one
/// of the biggest tables of a catalog pass, so it stays at 24 bytes.
#[derive(Clone)]
struct SkuEntry {
    /// Line of the first product row with this SKU; 0 (no row has it) for none yet.
    line: u64,
    /// Hash of what makes the variant itself (group, GTIN, variant attributes): rows in
    /// other currencies must agree on it.
    identity: u64,
    currency: u32,
    /// Whether [`ProductChecks::more_currencies`] holds further currencies of this SKU.
    more: bool,
}

/// The tables of the checks across product rows.
#[derive(Default)]
struct ProductChecks {
    /// The SKUs that have inventory, by their position in the inventory's table: with the
    /// stock read first, most SKUs need no hash map slot of their own (a third of the size,
    /// and no random writes across a big table).
    by_stock: Vec<SkuEntry>,
    /// The other SKUs.
    skus: KeyMap<PackedKey, SkuEntry>,
    /// Further currencies of a SKU, for catalogs with one row per currency: few SKUs, so
    /// kept apart instead of a slot in every entry.
    more_currencies: KeyMap<PackedKey, Vec<u32>>,
    /// Per group and variant attributes, the line of the first variant that has them: one
    /// lookup per row, however big the group (a scan of its siblings was quadratic).
    variants: KeyMap<PackedKey, u64>,
}

impl ProductChecks {
    /// Whether a product row had the SKU at `at` in the inventory's table, `key`.
    fn has_product(&self, at: usize, key: &PackedKey) -> bool {
        self.by_stock.get(at).is_some_and(|entry| entry.line != 0) || self.skus.contains_key(key)
    }
}

impl SkuEntry {
    const NONE: SkuEntry = SkuEntry {
        line: 0,
        identity: 0,
        currency: 0,
        more: false,
    };

    fn has_currency(
        &self,
        key: PackedKey,
        more_currencies: &KeyMap<PackedKey, Vec<u32>>,
        currency: u32,
    ) -> bool {
        self.currency == currency
            || (self.more
                && more_currencies
                    .get(&key)
                    .is_some_and(|more| more.contains(&currency)))
    }
}

/// Stock per SKU from the inventory table.
#[derive(Default)]
pub struct Inventory {
    /// SKU -> entry while the table is read; [`Inventory::seal`] moves them to `entries`,
    /// which takes half the memory for the rest of the pass.
    reading: KeyMap<PackedKey, StockEntry>,
    entries: SortedKeys<StockEntry>,
    /// Every SKU's levels, a run per SKU: inventory files list a SKU's rows together, so
    /// one flat buffer replaces a million small vectors.
    levels: Vec<StockLevel>,
    /// By location index: whether a row of the location was read yet; with `locations_seen`,
    /// how far through a file sorted by location the reading is.
    location_seen: Vec<bool>,
    locations_seen: usize,
    /// SKU texts, each after its length (u32, little-endian), kept in one buffer to name
    /// SKUs that have stock but no product row.
    sku_text: Vec<u8>,
}

/// One SKU of the inventory: 24 bytes, a million of them.
struct StockEntry {
    /// The line of its first row. An inventory that loads has fewer than `u32::MAX` levels
    /// (see [`index_u32`]), and so about as few lines.
    first_line: u32,
    /// Where this SKU's run of levels starts in [`Inventory::levels`].
    start: u32,
    len: u32,
    /// Slots of the run: more than `len` once the run was moved with room to grow.
    room: u32,
    rows: u32,
    /// Where this SKU's text starts in [`Inventory::sku_text`].
    text_at: u32,
}

/// Slots for a moved run that is to hold `len` levels, out of `locations` in all, when
/// `seen` locations have had rows so far. In a file sorted by location, a SKU with `len`
/// levels after `seen` of the locations likely ends with `len * locations / seen`: room for
/// that takes one move per SKU where growing by one level per move (each leaving its old
/// run behind) took twenty for twenty stores. Doubling bounds the moves in any other order.
fn room_for(len: usize, locations: usize, seen: usize) -> usize {
    let expected = (len * locations).div_ceil(seen.max(1));
    expected.max(2 * len).min(locations).max(len)
}

fn run_of<'l>(levels: &'l [StockLevel], entry: &StockEntry) -> &'l [StockLevel] {
    let start = entry.start as usize;
    &levels[start..start + entry.len as usize]
}

/// The tables index with u32 to stay small; a catalog past that is far beyond memory anyway,
/// but gets an error rather than wrong stock.
fn index_u32(index: usize, what: &str) -> anyhow::Result<u32> {
    u32::try_from(index)
        .map_err(|_| anyhow::anyhow!("the inventory has more than {} {what}", u32::MAX))
}

impl Inventory {
    pub fn stock(&self, sku: &str) -> &[StockLevel] {
        self.stock_of(sku_key(sku))
    }

    /// The stock of the SKU with this [`sku_key`].
    pub fn stock_of(&self, key: u128) -> &[StockLevel] {
        self.find(key).map_or(&[], |(_, stock)| stock)
    }

    /// The position of the SKU with this [`sku_key`] among the inventory's SKUs, and its
    /// stock.
    fn find(&self, key: u128) -> Option<(usize, &[StockLevel])> {
        let (at, entry) = self.entries.find(key.into())?;
        Some((at, self.levels_of(entry)))
    }

    fn levels_of(&self, entry: &StockEntry) -> &[StockLevel] {
        run_of(&self.levels, entry)
    }

    fn sku_of(&self, entry: &StockEntry) -> &str {
        let at = entry.text_at as usize;
        let len = self.sku_text[at..at + 4]
            .try_into()
            .map_or(0, |len| u32::from_le_bytes(len) as usize);
        // Written from a `&str`, so always UTF-8.
        std::str::from_utf8(&self.sku_text[at + 4..at + 4 + len]).unwrap_or_default()
    }

    fn push_sku(sku_text: &mut Vec<u8>, sku: &str) -> anyhow::Result<u32> {
        let at = index_u32(sku_text.len(), "bytes of SKUs")?;
        let len = index_u32(sku.len(), "bytes in a SKU")?;
        sku_text.extend_from_slice(&len.to_le_bytes());
        sku_text.extend_from_slice(sku.as_bytes());
        Ok(at)
    }

    /// Adds `level` to the SKU's run; `locations` and `seen` as in [`room_for`].
    fn push_level(
        levels: &mut Vec<StockLevel>,
        entry: &mut StockEntry,
        level: StockLevel,
        locations: usize,
        seen: usize,
    ) -> anyhow::Result<()> {
        let (start, len) = (entry.start as usize, entry.len as usize);
        if len < entry.room as usize {
            levels[start + len] = level;
        } else if start + len == levels.len() {
            // The last run grows in place.
            levels.push(level);
            entry.room += 1;
        } else {
            // This SKU's rows are not together in the file: its run moves to the end, with
            // room for the rows still to come.
            let room = room_for(len + 1, locations, seen);
            let new_start = levels.len();
            levels.extend_from_within(start..start + len);
            levels.push(level);
            levels.resize(new_start + room, level);
            entry.start = index_u32(new_start, "stock levels")?;
            entry.room = index_u32(room, "stock levels")?;
        }
        entry.len += 1;
        Ok(())
    }

    /// Slots the levels take, spare room and runs left behind included.
    #[cfg(test)]
    pub(super) fn level_slots(&self) -> usize {
        self.levels.len()
    }

    /// Every SKU's entry, sealed or not; positions are those of the sealed table.
    fn iter(&self) -> impl Iterator<Item = (&PackedKey, &StockEntry)> {
        let sealed = self.entries.iter().map(|(key, entry)| (key, entry));
        sealed.chain(&self.reading)
    }

    /// Ends reading: the entries move into the sorted table lookups use.
    fn seal(&mut self) {
        let reading = std::mem::take(&mut self.reading);
        let mut entries = Vec::with_capacity(reading.len());
        entries.extend(reading);
        self.entries = SortedKeys::new(entries);
    }
}

/// Hashes of one product row for the checks across rows, computed on the worker threads.
struct RowKeys {
    sku: u128,
    /// The SKU's position among the inventory's SKUs, if it has stock.
    stock_at: Option<usize>,
    identity: u64,
    /// The group and the variant attributes together; `None` outside a group.
    variant: Option<u128>,
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
        let in_group = !variant.group_id.is_empty();
        RowKeys {
            sku: sku_key(variant.sku),
            stock_at: None,
            identity: hash64((variant.group_id, variant.gtin, attributes)),
            variant: in_group.then(|| hash128((variant.group_id, attributes))),
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
        let path = config.table_path(raw, default_file);
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
    if has_locations && !has_inventory && inventory_table.config.required != Some(false) {
        // Without its stock, every item of a catalog with locations would go out as out of
        // stock (or, to a channel without such a guard, be listed with quantity 0).
        return Err(LoadError::Layout {
            path: inventory_table.path.clone(),
            message: format!(
                "the inventory table is missing, but `{}` lists stock locations",
                locations_table.label
            ),
            hint: "add the inventory file (sku, location_id, quantity), or set `required = false` under [catalog.inventory] for a catalog without one: the products' `stock` column then gives each SKU's stock".into(),
        }
        .into());
    }

    // One collector per table, joined in a fixed order at the end: the inventory may be
    // read on another thread, and reports must not depend on which finished first.
    let policy = &config.findings;
    let mut findings = Findings::new(policy)?;
    let mut location_findings = Findings::new(policy)?;
    let mut counts = LoadCounts::default();
    let mut locations = Locations::default();
    locations.inventory_table = has_inventory;
    if has_locations {
        read_locations(&locations_table, &mut locations, &mut location_findings)?;
        counts.locations = locations.list.len() as u64;
    }
    let store_prices_table = Table::new(config, &config.store_prices, "store_prices.csv")?;
    if store_prices_table.exists_or_required(true)? {
        read_store_prices(&store_prices_table, &mut locations, &mut location_findings)?;
    }
    let locations_ref = &locations;
    let read_stock = || -> anyhow::Result<(Inventory, Findings, u64)> {
        let mut inventory = Inventory::default();
        let mut inventory_findings = Findings::new(policy)?;
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
        // Only the products read after the stock look it up; read alongside them, the
        // sorted copy would just be more memory while both tables are full.
        if timing == StockTiming::BeforeProducts {
            inventory.seal();
        }
        Ok((inventory, inventory_findings, rows))
    };

    enum Stock<T, H> {
        Ready(T),
        Pending(H),
    }
    let (inventory, checks) = std::thread::scope(|scope| -> anyhow::Result<_> {
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
        let checks = read_products(
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
        Ok((inventory, checks))
    })?;
    let (inventory, mut inventory_findings, inventory_rows) = inventory;
    counts.inventory_rows = inventory_rows;

    for (at, (key, entry)) in inventory.iter().enumerate() {
        if !checks.has_product(at, key) {
            let sku = inventory.sku_of(entry);
            inventory_findings.push(
                Finding::new(
                    &rules::UNKNOWN_INVENTORY_SKU,
                    &inventory_table.label,
                    format!(
                        "SKU `{sku}` has {} inventory row(s) but no product row",
                        entry.rows
                    ),
                )
                .line(u64::from(entry.first_line))
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
    findings.absorb(inventory_findings)?;
    findings.absorb(location_findings)?;
    findings.sort_kept(|a, b| {
        (file_rank(&a.file), a.line, a.rule).cmp(&(file_rank(&b.file), b.line, b.rule))
    });
    Ok(LoadOutcome {
        findings,
        counts,
        locations,
    })
}

fn read_store_prices(
    table: &Table,
    locations: &mut Locations,
    findings: &mut Findings,
) -> anyhow::Result<()> {
    use super::store_prices::{StorePriceColumns, StorePrices, add_batch};
    let reader = table.open()?;
    let map = &table.config.columns;
    let path = &table.path;
    let mut prices = StorePrices::default();
    let mut columns: Option<StorePriceColumns> = None;
    table::stream(reader, BATCH_ROWS, |batch| {
        if columns.is_none() {
            let header = &batch.header;
            let required = |field| -> anyhow::Result<usize> {
                Ok(resolve(map, header, field, true, path)?.unwrap_or(0))
            };
            columns = Some(StorePriceColumns {
                sku: required("sku")?,
                location: required("location_id")?,
                currency: required("currency")?,
                price: required("price")?,
                sale_price: resolve(map, header, "sale_price", false, path)?,
            });
        }
        if let Some(columns) = &columns {
            let mut found = Vec::new();
            add_batch(
                &mut prices,
                locations,
                batch,
                columns,
                &table.label,
                &mut found,
            );
            findings.extend(found);
        }
        Ok(())
    })?;
    locations.store_prices = std::sync::Arc::new(prices);
    Ok(())
}

fn read_locations(
    table: &Table,
    locations: &mut Locations,
    findings: &mut Findings,
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
                pickup_method: resolve(map, header, "pickup_method", false, path)?,
                pickup_sla: resolve(map, header, "pickup_sla", false, path)?,
            });
        }
        if let Some(columns) = &columns {
            let mut found = Vec::new();
            locations.add_batch(batch, columns, &table.label, &mut found)?;
            findings.extend(found);
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
    findings: &mut Findings,
    counts: &mut LoadCounts,
    progress: &Progress,
    sink: &mut Sink<'_>,
) -> anyhow::Result<ProductChecks> {
    let default_currency = config.defaults.currency.as_deref();
    let (reader, table_config) = match products.config.preset {
        None => (products.open()?, products.config.clone()),
        Some(preset) => {
            let (prepared, rows) = super::preset::read(
                preset,
                &products.path,
                &products.config,
                &products.label,
                default_currency,
            )?;
            counts.skipped = prepared.skipped.clone();
            // The user's own mapping names columns of the prepared rows, and wins.
            let mut table = products.config.clone();
            let mut columns = prepared.columns.clone();
            columns.extend(table.columns);
            table.columns = columns;
            table.prices = prepared.prices.clone();
            table.list_separator = Some("|".into());
            let reader = TableReader::prepared(
                &products.path,
                Arc::clone(&products.label),
                &prepared.header,
                rows,
            );
            (reader, table)
        }
    };
    let plan_input = PlanInput {
        table: &table_config,
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
    let mut checks = ProductChecks {
        by_stock: vec![SkuEntry::NONE; inventory.entries.len()],
        ..ProductChecks::default()
    };
    let file_bytes = file_len(&products.path);
    let mut first = true;
    table::stream(reader, BATCH_ROWS, |batch| {
        if std::mem::take(&mut first) {
            let rows = estimate_rows(batch, file_bytes);
            checks
                .skus
                .reserve(rows.saturating_sub(checks.by_stock.len()));
            checks.variants.reserve(rows);
        }
        if !Arc::ptr_eq(plan.header(), &batch.header) {
            plan = ProductPlan::new(&plan_input, &batch.header)?;
        }
        // The batch's findings, in line order, before they go to the collector.
        let mut found: Vec<Finding> = batch.findings.clone();
        counts.rejected_rows += batch.findings.len() as u64;
        counts.product_rows += (batch.rows.len() + batch.findings.len()) as u64;
        // The stock is looked up here, on the workers: a million lookups are a million cache
        // misses, too many for the thread that runs the checks across rows.
        type Row<'b, 'i> = (
            Converted<'b>,
            Option<RowKeys>,
            Vec<Finding>,
            &'i [StockLevel],
        );
        let converted: Vec<Row<'_, '_>> = batch
            .rows
            .par_iter()
            .map(|row| {
                let mut row_findings = Vec::new();
                let converted = convert(&plan, row, batch.cells(row), &mut row_findings);
                let mut keys = converted.variant.as_ref().map(RowKeys::of);
                let mut stock: &[StockLevel] = &[];
                if let Some(keys) = &mut keys
                    && let Some((at, levels)) = inventory.find(keys.sku)
                {
                    keys.stock_at = Some(at);
                    stock = levels;
                }
                (converted, keys, row_findings, stock)
            })
            .collect();
        let mut converted = converted;
        // Per row: None = left out, Some(true) = a further currency row of a SKU.
        let mut keep: Vec<Option<bool>> = vec![None; converted.len()];
        for (index, (row, keys, row_findings, _)) in converted.iter_mut().enumerate() {
            found.append(row_findings);
            let (Some(variant), Some(keys)) = (&row.variant, keys.take()) else {
                counts.rejected_rows += 1;
                continue;
            };
            let verdict = check_across_rows(
                variant,
                keys,
                &mut checks,
                &plan_input.label,
                &mut found,
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
            .filter_map(|((row, _, _, stock), keep)| {
                Some((row.variant.as_ref()?, *stock, (*keep)?))
            })
            .map(|(variant, stock, other_currency_row)| CatalogItem {
                variant,
                stock,
                other_currency_row,
                columns: plan.columns_seen(),
            })
            .collect();
        found.sort_by_key(|finding| (finding.line, finding.rule));
        findings.extend(found);
        sink(&items, locations)?;
        if let Some(last) = batch.rows.last() {
            progress.set(last.byte);
        }
        Ok(())
    })?;
    Ok(checks)
}

/// Rows in the whole file, judged by the first batch's bytes per row (a little over, so
/// tables sized by it rarely grow).
fn estimate_rows(first: &table::Batch, file_bytes: u64) -> usize {
    if first.rows.len() < BATCH_ROWS {
        // A batch stops short only at the end of the file.
        return first.rows.len();
    }
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
    checks: &mut ProductChecks,
    label: &Arc<str>,
    findings: &mut Vec<Finding>,
    counts: &mut LoadCounts,
) -> Option<bool> {
    let sku = PackedKey::from(keys.sku);
    let known = match keys.stock_at {
        Some(at) => checks.by_stock.get_mut(at).filter(|entry| entry.line != 0),
        None => checks.skus.get_mut(&sku),
    };
    match known {
        None => {
            let more = variant.prices.len() > 1;
            if more {
                let further = currency_keys(variant).skip(1).collect();
                checks.more_currencies.insert(sku, further);
            }
            let entry = SkuEntry {
                line: variant.line,
                identity: keys.identity,
                currency: currency_keys(variant).next().unwrap_or(0),
                more,
            };
            match keys.stock_at.and_then(|at| checks.by_stock.get_mut(at)) {
                Some(slot) => *slot = entry,
                None => {
                    checks.skus.insert(sku, entry);
                }
            }
            counts.variants += 1;
        }
        Some(entry) => {
            let first = entry.line;
            let repeated =
                currency_keys(variant).any(|c| entry.has_currency(sku, &checks.more_currencies, c));
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
            checks
                .more_currencies
                .entry(sku)
                .or_default()
                .extend(currency_keys(variant));
            entry.more = true;
            return Some(true);
        }
    }
    // Each SKU gets here once (repeats returned above), so an earlier variant with the same
    // attributes is always another SKU.
    if let Some(variant_key) = keys.variant {
        let slot = checks.variants.entry(PackedKey::from(variant_key));
        if let std::collections::hash_map::Entry::Occupied(first) = &slot {
            let first_line = *first.get();
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
        slot.or_insert(variant.line);
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

/// The locations and the inventory of the catalog `config` points at, read as `load` does.
#[cfg(test)]
pub(super) fn read_inventory_for_test(config: &Config) -> anyhow::Result<(Inventory, Locations)> {
    let table = Table::new(config, &config.inventory, "inventory.csv")?;
    let locations_table = Table::new(config, &config.locations, "locations.csv")?;
    let (mut locations, mut inventory) = (Locations::default(), Inventory::default());
    let mut findings = crate::diag::Findings::new(&config.findings)?;
    let mut rows = 0;
    read_locations(&locations_table, &mut locations, &mut findings)?;
    read_inventory(&table, &locations, &mut inventory, &mut findings, &mut rows)?;
    inventory.seal();
    anyhow::ensure!(
        findings.tally().errors + findings.tally().warnings == 0,
        "findings: {:?}",
        findings.kept()
    );
    Ok((inventory, locations))
}

fn read_inventory(
    table: &Table,
    locations: &Locations,
    inventory: &mut Inventory,
    findings: &mut Findings,
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
            inventory.location_seen = vec![false; locations.list.len()];
            let column = |index| {
                batch
                    .rows
                    .iter()
                    .map(move |row| batch.cells(row).get(index))
            };
            let runs = |index| {
                column(index)
                    .collect::<Vec<_>>()
                    .chunk_by(|a, b| a == b)
                    .count()
            };
            let (sku_runs, location_runs) = (runs(sku_column).max(1), runs(location_column));
            let skus = if location_runs < sku_runs {
                // Sorted by location: the first batch's rows are each another SKU, and a SKU
                // has a row per location at most. Sized by the batch's rows per SKU, the
                // table would take a slot per row.
                rows / locations.list.len().max(1)
            } else {
                rows / (batch.rows.len() / sku_runs).max(1)
            };
            inventory.reading.reserve(skus);
        }
        findings.extend(batch.findings.iter().cloned());
        *rows_read += (batch.rows.len() + batch.findings.len()) as u64;
        // Findings are rare and big (~170 bytes): boxed, they keep the fifteen million
        // parsed rows of a large inventory small to write and move.
        let parsed: Vec<(Option<InventoryRow<'_>>, Option<Box<Finding>>)> = batch
            .rows
            .par_iter()
            .map(|row| -> (Option<InventoryRow<'_>>, Option<Finding>) {
                // JSON Lines rows read before a key first appeared are shorter.
                let cells = batch.cells(row);
                let cell = |index: usize| {
                    std::str::from_utf8(cells.get(index).unwrap_or_default()).map(str::trim)
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
                let (quantity, problem) = match parse_quantity(quantity_text) {
                    Ok(quantity) => (Some(quantity), None),
                    Err(refused) => {
                        let message = format!("quantity at `{location_id}`: {}", refused.reason);
                        (None, Some(finding(refused.rule, "quantity", message)))
                    }
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
            .map(|(row, problem)| (row, problem.map(Box::new)))
            .collect();
        let mut rows = Vec::with_capacity(parsed.len());
        for (row, problem) in parsed {
            findings.extend(problem.map(|problem| *problem));
            rows.extend(row);
        }
        // A SKU's rows come together, so each run of them costs one map lookup.
        for run in rows.chunk_by(|a, b| a.key == b.key) {
            let first = &run[0];
            let entry = match inventory.reading.entry(PackedKey::from(first.key)) {
                std::collections::hash_map::Entry::Occupied(slot) => slot.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => slot.insert(StockEntry {
                    first_line: u32::try_from(first.line).map_err(|_| {
                        anyhow::anyhow!("the inventory has more than {} lines", u32::MAX)
                    })?,
                    start: index_u32(inventory.levels.len(), "stock levels")?,
                    len: 0,
                    room: 0,
                    rows: 0,
                    text_at: Inventory::push_sku(&mut inventory.sku_text, first.sku)?,
                }),
            };
            for row in run {
                entry.rows = entry.rows.saturating_add(1);
                let seen = &mut inventory.location_seen[usize::from(row.location)];
                if !std::mem::replace(seen, true) {
                    inventory.locations_seen += 1;
                }
                let levels = run_of(&inventory.levels, entry);
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
                Inventory::push_level(
                    &mut inventory.levels,
                    entry,
                    level,
                    locations.list.len(),
                    inventory.locations_seen,
                )?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

//! One pass over the catalog: locations, then inventory, then products in parallel batches,
//! with the checks that need more than one row (duplicates, variant groups, stock joins).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::columns::resolve;
use super::locations::{LocationColumns, Locations};
use super::products::{Converted, PlanInput, ProductPlan, convert};
use super::table::{self, LoadError, TableFormat, TableReader};
use crate::config::{Config, RawTable};
use crate::diag::Finding;
use crate::model::{Currency, Variant};
use crate::report::progress::Progress;
use crate::rules;

const BATCH_ROWS: usize = 8192;

/// Stock of one SKU at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    pub location: u16,
    pub quantity: i64,
}

/// A product row that passed every check, with its stock, as handed to the feed stages.
pub struct CatalogItem<'a> {
    pub variant: &'a Variant<'a>,
    pub stock: &'a [StockLevel],
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

#[derive(Default)]
struct SkuEntry {
    /// Line of the first product row with this SKU; 0 while only inventory names it.
    product_line: u64,
    identity: u64,
    currencies: Vec<u64>,
    stock: Vec<StockLevel>,
    first_inventory_line: u64,
    inventory_rows: u32,
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

/// Reads the whole catalog once, checking it, and hands accepted items to `sink` in file
/// order, batch by batch.
pub fn load(
    config: &Config,
    progress: &Progress,
    sink: &mut Sink<'_>,
) -> anyhow::Result<LoadOutcome> {
    let products = Table::new(config, &config.products, "products.csv")?;
    let inventory = Table::new(config, &config.inventory, "inventory.csv")?;
    let locations_table = Table::new(config, &config.locations, "locations.csv")?;
    products.exists_or_required(false)?;
    let has_inventory = inventory.exists_or_required(true)?;
    let has_locations = locations_table.exists_or_required(!has_inventory)?;

    let mut findings = Vec::new();
    let mut counts = LoadCounts::default();
    let mut locations = Locations::default();
    if has_locations {
        let reader = locations_table.open()?;
        let header = Arc::clone(reader.header());
        let map = &locations_table.config.columns;
        let path = &locations_table.path;
        let columns = LocationColumns {
            id: resolve(map, &header, "location_id", true, path)?.unwrap_or(0),
            kind: resolve(map, &header, "kind", false, path)?,
            name: resolve(map, &header, "name", false, path)?,
            store_code: resolve(map, &header, "store_code", false, path)?,
        };
        table::stream(reader, BATCH_ROWS, |batch| {
            locations.add_batch(&batch, &columns, &locations_table.label, &mut findings)?;
            Ok(())
        })?;
        counts.locations = locations.list.len() as u64;
    }

    let hasher = std::collections::hash_map::RandomState::new();
    let mut skus: HashMap<Box<str>, SkuEntry> = HashMap::new();
    if has_inventory {
        let total = file_len(&inventory.path);
        progress.start("inventory", total);
        read_inventory(
            &inventory,
            &locations,
            &mut skus,
            &mut findings,
            &mut counts,
            progress,
        )?;
    }

    let total = file_len(&products.path);
    progress.start("products", total);
    let reader = products.open()?;
    let default_currency = config
        .defaults
        .currency
        .as_deref()
        .and_then(Currency::parse);
    let plan_input = PlanInput {
        table: &products.config,
        path: &products.path,
        label: Arc::clone(&products.label),
        required: &config.required,
        default_currency,
        time_zone: &config.time_zone,
    };
    let mut plan = ProductPlan::new(&plan_input, reader.header())?;
    let mut groups: HashMap<Box<str>, Vec<(u64, u64, u64)>> = HashMap::new();
    let no_stock: &[StockLevel] = &[];
    table::stream(reader, BATCH_ROWS, |batch| {
        if !Arc::ptr_eq(plan.header(), &batch.header) {
            plan = ProductPlan::new(&plan_input, &batch.header)?;
        }
        findings.extend(batch.findings.iter().cloned());
        counts.rejected_rows += batch.findings.len() as u64;
        counts.product_rows += (batch.rows.len() + batch.findings.len()) as u64;
        let converted: Vec<(Converted<'_>, Vec<Finding>)> = batch
            .rows
            .par_iter()
            .map(|row| {
                let mut row_findings = Vec::new();
                let converted = convert(&plan, row, &mut row_findings);
                (converted, row_findings)
            })
            .collect();
        let mut accepted = Vec::with_capacity(converted.len());
        for (converted, row_findings) in converted {
            findings.extend(row_findings);
            let Some(variant) = converted.variant else {
                counts.rejected_rows += 1;
                continue;
            };
            let keep = check_across_rows(
                &variant,
                &hasher,
                &mut skus,
                &mut groups,
                &plan_input.label,
                &mut findings,
                &mut counts,
            );
            if keep && !converted.has_errors {
                accepted.push(variant);
            } else {
                counts.rejected_rows += 1;
            }
        }
        let items: Vec<CatalogItem<'_>> = accepted
            .iter()
            .map(|variant| CatalogItem {
                variant,
                stock: skus.get(variant.sku).map_or(no_stock, |e| &e.stock),
            })
            .collect();
        sink(&items, &locations)?;
        if let Some(last) = batch.rows.last() {
            progress.set(last.byte);
        }
        Ok(())
    })?;
    progress.finish();

    for (sku, entry) in &skus {
        if entry.product_line == 0 {
            findings.push(
                Finding::new(
                    &rules::UNKNOWN_INVENTORY_SKU,
                    &inventory.label,
                    format!(
                        "SKU `{sku}` has {} inventory row(s) but no product row",
                        entry.inventory_rows
                    ),
                )
                .line(entry.first_inventory_line)
                .field("sku")
                .sku(sku),
            );
        }
    }
    // Hash-map order must not leak into reports: same catalog, same output.
    let file_rank = |file: &str| {
        [&products.label, &inventory.label, &locations_table.label]
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

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn hash_of(hasher: &impl BuildHasher, value: impl Hash) -> u64 {
    let mut state = hasher.build_hasher();
    value.hash(&mut state);
    state.finish()
}

/// Duplicate SKUs and indistinct variants. Returns false when the row must be left out.
fn check_across_rows(
    variant: &Variant<'_>,
    hasher: &impl BuildHasher,
    skus: &mut HashMap<Box<str>, SkuEntry>,
    groups: &mut HashMap<Box<str>, Vec<(u64, u64, u64)>>,
    label: &Arc<str>,
    findings: &mut Vec<Finding>,
    counts: &mut LoadCounts,
) -> bool {
    let attributes = (
        variant.color,
        variant.size,
        variant.material,
        variant.pattern,
        variant.gender,
        variant.age_group,
    );
    let identity = hash_of(hasher, (variant.group_id, variant.gtin, attributes));
    let mut currencies: Vec<u64> = variant
        .prices
        .iter()
        .map(|p| currency_key(p.regular.currency))
        .collect();
    if currencies.is_empty() {
        currencies.push(0);
    }
    let entry = match skus.get_mut(variant.sku) {
        Some(entry) => entry,
        None => skus.entry(Box::from(variant.sku)).or_default(),
    };
    if entry.product_line == 0 {
        entry.product_line = variant.line;
        entry.identity = identity;
        entry.currencies = currencies;
        counts.variants += 1;
    } else {
        let first = entry.product_line;
        let repeated = currencies.iter().any(|c| entry.currencies.contains(c));
        let message = if repeated {
            Some(format!(
                "SKU `{}` repeats line {first} with the same currency",
                variant.sku
            ))
        } else if entry.identity != identity {
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
            return false;
        }
        // Another currency's row for a variant already seen: its group was checked then.
        entry.currencies.extend(currencies);
        return true;
    }
    if !variant.group_id.is_empty() {
        let combo = hash_of(hasher, attributes);
        let sku_hash = hash_of(hasher, variant.sku);
        let siblings = match groups.get_mut(variant.group_id) {
            Some(siblings) => siblings,
            None => groups.entry(Box::from(variant.group_id)).or_default(),
        };
        if let Some(&(_, first_line, _)) = siblings
            .iter()
            .find(|&&(other, _, other_sku)| other == combo && other_sku != sku_hash)
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
        siblings.push((combo, variant.line, sku_hash));
    }
    true
}

fn currency_key(currency: Currency) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..3].copy_from_slice(currency.code().as_bytes());
    u64::from_le_bytes(bytes)
}

fn read_inventory(
    inventory: &Table,
    locations: &Locations,
    skus: &mut HashMap<Box<str>, SkuEntry>,
    findings: &mut Vec<Finding>,
    counts: &mut LoadCounts,
    progress: &Progress,
) -> anyhow::Result<()> {
    let reader = inventory.open()?;
    let header = Arc::clone(reader.header());
    let map = &inventory.config.columns;
    let path = &inventory.path;
    let sku_column = resolve(map, &header, "sku", true, path)?.unwrap_or(0);
    let location_column = resolve(map, &header, "location_id", true, path)?.unwrap_or(0);
    let quantity_column = resolve(map, &header, "quantity", true, path)?.unwrap_or(0);
    let label = &inventory.label;
    table::stream(reader, BATCH_ROWS, |batch| {
        findings.extend(batch.findings.iter().cloned());
        counts.inventory_rows += (batch.rows.len() + batch.findings.len()) as u64;
        for row in &batch.rows {
            let cell = |index: usize| std::str::from_utf8(&row.record[index]).map(str::trim);
            let (Ok(sku), Ok(location_id), Ok(quantity_text)) = (
                cell(sku_column),
                cell(location_column),
                cell(quantity_column),
            ) else {
                findings.push(
                    Finding::new(&rules::INVALID_UTF8, label, "row is not valid UTF-8")
                        .line(row.line),
                );
                continue;
            };
            let finding = |rule, field, message: String| {
                Finding::new(rule, label, message)
                    .line(row.line)
                    .field(field)
                    .sku(sku)
            };
            if sku.is_empty() {
                findings.push(finding(
                    &rules::MISSING_REQUIRED,
                    "sku",
                    "inventory row has no SKU".into(),
                ));
                continue;
            }
            let quantity = match quantity_text.parse::<i64>() {
                Ok(quantity) if quantity < 0 => {
                    findings.push(finding(
                        &rules::NEGATIVE_STOCK,
                        "quantity",
                        format!("quantity {quantity} at `{location_id}` is below zero"),
                    ));
                    None
                }
                Ok(quantity) => Some(quantity),
                Err(_) => {
                    findings.push(finding(
                        &rules::INVALID_NUMBER,
                        "quantity",
                        format!("quantity `{quantity_text}` is not a whole number"),
                    ));
                    None
                }
            };
            let Some(location) = locations.index_of(location_id) else {
                findings.push(finding(
                    &rules::UNKNOWN_LOCATION,
                    "location_id",
                    format!("location `{location_id}` is not in the locations file"),
                ));
                continue;
            };
            let entry = match skus.get_mut(sku) {
                Some(entry) => entry,
                None => skus.entry(Box::from(sku)).or_default(),
            };
            if entry.inventory_rows == 0 {
                entry.first_inventory_line = row.line;
            }
            entry.inventory_rows += 1;
            if entry.stock.iter().any(|s| s.location == location) {
                findings.push(finding(
                    &rules::DUPLICATE_INVENTORY,
                    "location_id",
                    format!("stock for SKU `{sku}` at `{location_id}` is already given"),
                ));
                continue;
            }
            if let Some(quantity) = quantity {
                entry.stock.push(StockLevel { location, quantity });
            }
        }
        if let Some(last) = batch.rows.last() {
            progress.set(last.byte);
        }
        Ok(())
    })
}

//! The optional store prices table (`store_prices.csv`): a store's own price and sale price
//! for a SKU where they differ from the online ones. Local inventory feeds send them for
//! that store; every other store, and every other channel, keeps the product's prices.
//!
//! Columns: `sku`, `location_id` (a store in the locations table), `currency` (ISO 4217),
//! `price` and, optionally, `sale_price`. A row without `sale_price` leaves the online sale
//! (if any) in place; a store's sale runs in the product's sale window.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::keys::sku_key;
use super::locations::Locations;
use crate::diag::Finding;
use crate::model::Currency;
use crate::model::money::parse_amount;
use crate::rules;

/// One store's own prices for one SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorePrice {
    pub currency: Currency,
    pub price: Decimal,
    pub sale_price: Option<Decimal>,
}

/// Store prices by SKU key and location index; usually a small, sparse table.
#[derive(Debug, Default)]
pub struct StorePrices {
    by_sku_and_location: HashMap<(u128, u16), StorePrice>,
}

impl StorePrices {
    pub fn is_empty(&self) -> bool {
        self.by_sku_and_location.is_empty()
    }

    pub fn get(&self, sku: &str, location: u16) -> Option<&StorePrice> {
        if self.is_empty() {
            return None;
        }
        self.by_sku_and_location.get(&(sku_key(sku), location))
    }
}

/// Where the table's columns are, by header position.
pub struct StorePriceColumns {
    pub sku: usize,
    pub location: usize,
    pub currency: usize,
    pub price: usize,
    pub sale_price: Option<usize>,
}

/// Reads one batch of rows into `locations.store_prices`; a bad row is reported (file, line,
/// SKU, column) and left out.
pub fn add_batch(
    table: &mut StorePrices,
    locations: &Locations,
    batch: &super::table::Batch,
    columns: &StorePriceColumns,
    label: &Arc<str>,
    findings: &mut Vec<Finding>,
) {
    findings.extend(batch.findings.iter().cloned());
    for row in &batch.rows {
        let cells = batch.cells(row);
        let cell = |index: usize| {
            cells
                .get(index)
                .and_then(|raw| std::str::from_utf8(raw).ok())
                .unwrap_or("")
                .trim()
        };
        let sku = cell(columns.sku);
        let location_id = cell(columns.location);
        let problem = |rule, field: &str, message: String| {
            Finding::new(rule, label, message)
                .line(row.line)
                .sku(sku)
                .field(field.to_owned())
        };
        if sku.is_empty() {
            findings.push(problem(
                &rules::INVALID_VALUE,
                "sku",
                "the SKU is empty".into(),
            ));
            continue;
        }
        let Some(location) = locations.index_of(location_id) else {
            findings.push(problem(
                &rules::UNKNOWN_LOCATION,
                "location_id",
                format!(
                    "store price for `{location_id}`, which is not in the locations table; add \
                     the store or correct the id"
                ),
            ));
            continue;
        };
        let currency_text = cell(columns.currency);
        let Some(currency) = Currency::parse(currency_text) else {
            findings.push(problem(
                &rules::UNKNOWN_CURRENCY,
                "currency",
                format!("currency `{currency_text}` is not an ISO 4217 code such as EUR"),
            ));
            continue;
        };
        let price = match parse_amount(cell(columns.price), currency) {
            Ok(price) if price > Decimal::ZERO => price,
            Ok(price) => {
                findings.push(problem(
                    &rules::INVALID_PRICE,
                    "price",
                    format!("store price {price} is not above zero"),
                ));
                continue;
            }
            Err(err) => {
                findings.push(problem(
                    &rules::INVALID_PRICE,
                    "price",
                    format!("price {err}"),
                ));
                continue;
            }
        };
        let sale_price = match columns.sale_price.map(cell).filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => {
                match parse_amount(text, currency) {
                    Ok(sale) if sale > Decimal::ZERO && sale < price => Some(sale),
                    Ok(sale) => {
                        findings.push(problem(
                        &rules::INVALID_PRICE,
                        "sale_price",
                        format!("store sale price {sale} must be above zero and below the price {price}"),
                    ));
                        continue;
                    }
                    Err(err) => {
                        findings.push(problem(
                            &rules::INVALID_PRICE,
                            "sale_price",
                            format!("sale_price {err}"),
                        ));
                        continue;
                    }
                }
            }
        };
        let entry = StorePrice {
            currency,
            price,
            sale_price,
        };
        match table.by_sku_and_location.entry((sku_key(sku), location)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(entry);
            }
            // As in the inventory: the first row counts.
            std::collections::hash_map::Entry::Occupied(_) => findings.push(problem(
                &rules::DUPLICATE_INVENTORY,
                "location_id",
                format!(
                    "SKU `{sku}` has a second store price for `{location_id}`; the first row counts"
                ),
            )),
        }
    }
}

//! Shopify's product CSV (Products > Export in the Shopify admin).
//!
//! Rows sharing a `Handle` are one product: its first row fills the product columns
//! (Title, Body, Vendor, options' names, Status…), every variant row its `Variant …`
//! columns and option values, and rows with only `Image Src` add images.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64;

use super::Settings;
use super::rows::{Row, Sink};
use super::shop_file::{Records, ShopFile, ShopRecord};
use super::text::{amount_above, is_yes, join_url, lower, variant_attribute};
use crate::config::RawPriceColumns;
use crate::load::table::LoadError;
use crate::model::Field;

/// Columns the preset reads; the export's others stay custom attributes.
pub(super) const COLUMNS: &[&str] = &[
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Type",
    "Published",
    "Status",
    "Gift Card",
    "Option1 Name",
    "Option1 Value",
    "Option1 Linked To",
    "Option2 Name",
    "Option2 Value",
    "Option2 Linked To",
    "Option3 Name",
    "Option3 Value",
    "Option3 Linked To",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Tracker",
    "Variant Inventory Qty",
    "Variant Inventory Policy",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Barcode",
    "Variant Image",
    "Image Src",
    "Image Position",
    "Google Shopping / Google Product Category",
    "Google Shopping / Gender",
    "Google Shopping / Age Group",
    "Google Shopping / MPN",
    "Google Shopping / Condition",
];

/// A Shopify market's price columns, as `markets` names their currency.
struct Market {
    name: String,
    price: String,
    compare_at: String,
    included: String,
    /// The columns the prepared rows hold the market's regular and sale price in.
    regular_column: String,
    sale_column: String,
}

/// Reads the export one product at a time: the rows of one `Handle`, which Shopify writes
/// together, are all a product's variants need.
pub(super) struct Reader {
    file: Arc<ShopFile>,
    settings: Arc<Settings>,
    markets: Vec<Market>,
    /// Columns whose cells are custom attributes.
    unread: Vec<usize>,
    records: Records,
    /// The product being read: its rows are `product[..rows]`; `product[rows]`, when
    /// `ahead` is set, is the first row of the next product.
    product: Vec<ShopRecord>,
    ahead: bool,
    /// Handles of the products read so far (hashed), with where each began, to tell a
    /// handle that comes back after other products.
    seen: HashMap<u64, (u64, u64)>,
}

impl Reader {
    pub(super) fn new(file: Arc<ShopFile>, settings: Arc<Settings>) -> Result<Reader, LoadError> {
        let markets: Vec<Market> = settings
            .markets
            .keys()
            .filter(|market| file.has(&format!("Price / {market}")))
            .map(|market| Market {
                name: market.clone(),
                price: format!("Price / {market}"),
                compare_at: format!("Compare At Price / {market}"),
                included: format!("Included / {market}"),
                regular_column: format!("price / {market}"),
                sale_column: format!("sale_price / {market}"),
            })
            .collect();
        let unread = file.unread_columns(|column| {
            COLUMNS.contains(&column)
                || column.starts_with("Included / ")
                || markets
                    .iter()
                    .any(|m| column == m.price || column == m.compare_at)
        });
        Ok(Reader {
            records: file.records()?,
            file,
            settings,
            markets,
            unread,
            product: Vec::new(),
            ahead: false,
            seen: HashMap::new(),
        })
    }

    /// The price columns of each currency, when the shop sells in several markets.
    pub(super) fn prices(&self) -> Vec<RawPriceColumns> {
        let mut prices = Vec::new();
        if !self.markets.is_empty()
            && let Some(currency) = &self.settings.default_currency
        {
            prices.push(RawPriceColumns {
                currency: currency.clone(),
                price: "price".into(),
                sale_price: Some("sale_price".into()),
            });
            for market in &self.markets {
                prices.push(RawPriceColumns {
                    currency: self.settings.markets[&market.name].clone(),
                    price: market.regular_column.clone(),
                    sale_price: Some(market.sale_column.clone()),
                });
            }
        }
        prices
    }

    pub(super) fn file(&self) -> &ShopFile {
        &self.file
    }

    /// Starts another pass from the first row.
    pub(super) fn restart(&mut self) -> Result<(), LoadError> {
        self.records = self.file.records()?;
        self.ahead = false;
        self.seen.clear();
        Ok(())
    }

    /// Reads one product and sends its variants to `sink`; false at the end of the export.
    pub(super) fn step(&mut self, sink: &mut dyn Sink) -> Result<bool, LoadError> {
        if self.ahead {
            let last = self.product.len() - 1;
            self.product.swap(0, last);
        } else if !self.read_into(0, sink)? {
            return Ok(false);
        }
        self.ahead = false;
        let file = Arc::clone(&self.file);
        let file = &*file;
        let handle_hash = xxh3_64(file.get(&self.product[0], "Handle").as_bytes());
        let mut rows = 1;
        while self.read_into(rows, sink)? {
            let (product, next) = self.product.split_at(rows);
            if file.get(&next[0], "Handle") != file.get(&product[0], "Handle") {
                self.ahead = true;
                break;
            }
            rows += 1;
        }
        self.product.truncate(rows + usize::from(self.ahead));
        let first = &self.product[0];
        match self.seen.entry(handle_hash) {
            Entry::Occupied(earlier) => {
                let (byte, line) = *earlier.get();
                let mut before = ShopRecord::default();
                file.record_at(byte, line, &mut before)?;
                let handle = file.get(first, "Handle");
                // Equal hashes of different handles are told apart by the handle itself.
                if file.get(&before, "Handle") == handle {
                    return Err(file.layout(
                        format!(
                            "the rows of handle `{handle}` start at line {line}, but more of them come at line {} after other products",
                            first.line
                        ),
                        "Shopify writes a product's rows together, its first row holding the product columns: export the products again, or sort the rows by Handle keeping their order (a stable sort)".into(),
                    ));
                }
            }
            Entry::Vacant(slot) => {
                slot.insert((first.byte, first.line));
            }
        }
        let records: Vec<&ShopRecord> = self.product[..rows].iter().collect();
        read_product(
            file,
            &self.settings,
            &self.markets,
            &self.unread,
            file.get(first, "Handle"),
            &records,
            sink,
        );
        Ok(true)
    }

    /// Reads the next row into `product[at]`; false at the end of the export.
    fn read_into(&mut self, at: usize, sink: &mut dyn Sink) -> Result<bool, LoadError> {
        if self.product.len() <= at {
            self.product.resize_with(at + 1, ShopRecord::default);
        }
        self.records.next(&mut self.product[at], sink)
    }
}

fn is_variant_row(file: &ShopFile, record: &ShopRecord) -> bool {
    ["Variant SKU", "Variant Price", "Option1 Value"]
        .iter()
        .any(|column| !file.get(record, column).is_empty())
}

fn read_product(
    file: &ShopFile,
    settings: &Settings,
    markets: &[Market],
    unread: &[usize],
    handle: &str,
    records: &[&ShopRecord],
    sink: &mut dyn Sink,
) {
    let first = records[0];
    let product = |column: &str| file.get(first, column);
    let variants: Vec<&ShopRecord> = records
        .iter()
        .copied()
        .filter(|r| is_variant_row(file, r))
        .collect();
    // Only active products are for sale; drafts and archived ones are counted.
    let status = lower(product("Status"));
    let skip = if file.has("Status") && status != "active" {
        Some(if status.is_empty() {
            "no status".to_owned()
        } else {
            status
        })
    } else if file.has("Published")
        && !product("Published").is_empty()
        && !is_yes(product("Published"))
    {
        Some("unpublished".to_owned())
    } else if is_yes(product("Gift Card")) {
        Some("gift card".to_owned())
    } else {
        None
    };
    if let Some(why) = skip {
        for _ in &variants {
            sink.skip(&why);
        }
        return;
    }
    // Images in their position order; rows without a position keep the file's order.
    let mut images: Vec<(u64, &str)> = records
        .iter()
        .filter(|r| !file.get(r, "Image Src").is_empty())
        .map(|r| {
            let position = file.get(r, "Image Position").parse().unwrap_or(u64::MAX);
            (position, file.get(r, "Image Src"))
        })
        .collect();
    images.sort_by_key(|(position, _)| *position);
    let images: Vec<&str> = images.into_iter().map(|(_, src)| src).collect();
    let option_names: Vec<&str> = (1..=3)
        .map(|i| product(&format!("Option{i} Name")))
        .collect();
    // A product without options has one variant named `Title` / `Default Title`.
    let has_options = variants.len() > 1
        || option_names
            .iter()
            .any(|name| !name.is_empty() && !name.eq_ignore_ascii_case("Title"));
    let link = settings
        .base_url
        .as_deref()
        .map(|base| join_url(base, &format!("products/{handle}")));
    for variant in variants {
        let cell = |column: &str| file.get(variant, column);
        let mut row = Row::new(variant.line, variant.byte);
        row.field(Field::Sku, "Variant SKU", cell("Variant SKU"));
        if has_options {
            row.field(Field::GroupId, "Handle", handle);
        }
        row.field(Field::Title, "Title", product("Title"));
        row.field(Field::Description, "Body (HTML)", product("Body (HTML)"));
        row.field(Field::Brand, "Vendor", product("Vendor"));
        row.field(Field::Gtin, "Variant Barcode", cell("Variant Barcode"));
        row.field(
            Field::Mpn,
            "Google Shopping / MPN",
            product("Google Shopping / MPN"),
        );
        row.derived(
            Field::Condition,
            lower(product("Google Shopping / Condition")),
        );
        let (regular, sale) =
            regular_and_sale(cell("Variant Price"), cell("Variant Compare At Price"));
        row.derived(Field::Price, regular);
        row.derived(Field::SalePrice, sale);
        for market in markets {
            let included = file.get(variant, &market.included);
            if !included.is_empty() && !is_yes(included) {
                continue;
            }
            let (regular, sale) = regular_and_sale(
                file.get(variant, &market.price),
                file.get(variant, &market.compare_at),
            );
            row.custom(&market.regular_column, regular);
            row.custom(&market.sale_column, sale);
        }
        if let Some(link) = &link {
            row.derived(Field::Link, link.clone());
        }
        let own_image = cell("Variant Image");
        let image = if own_image.is_empty() {
            images.first().copied().unwrap_or("")
        } else {
            own_image
        };
        row.derived(Field::ImageLink, image);
        let more: Vec<&str> = images.iter().copied().filter(|src| *src != image).collect();
        row.derived(Field::AdditionalImageLinks, more.join("|"));
        row.field(
            Field::GoogleProductCategory,
            "Google Shopping / Google Product Category",
            product("Google Shopping / Google Product Category"),
        );
        row.field(Field::ProductType, "Type", product("Type"));
        for (i, name) in option_names.iter().enumerate() {
            let value = cell(&format!("Option{} Value", i + 1));
            if name.is_empty() || value.is_empty() || !has_options {
                continue;
            }
            match variant_attribute(name) {
                Some(field) => row.derived(field, value),
                // Kept under the shop's own name, for templates and filters.
                None => row.custom(*name, value),
            }
        }
        row.derived(Field::Gender, lower(product("Google Shopping / Gender")));
        row.derived(
            Field::AgeGroup,
            lower(product("Google Shopping / Age Group")),
        );
        let grams = cell("Variant Grams");
        if !grams.is_empty() && grams != "0" {
            row.derived(Field::Weight, format!("{grams} g"));
        }
        let (tracker, quantity) = (
            cell("Variant Inventory Tracker"),
            cell("Variant Inventory Qty"),
        );
        row.derived(Field::Stock, stock(tracker, quantity));
        if lower(cell("Variant Inventory Policy")) == "continue" {
            // The shop keeps selling the variant when none is left. A Shopify export has
            // no availability date, so availability still follows the stock (see
            // `FeedContext::availability`).
            row.field(Field::BackorderAllowed, "Variant Inventory Policy", "true");
        }
        for (column, value) in file.cells_at(variant, unread) {
            let value = if value.is_empty() {
                file.get(first, column)
            } else {
                value
            };
            row.custom(column, value);
        }
        sink.row(row);
    }
}

/// Regular and sale price from Shopify's price and compare-at price: a compare-at above
/// the price is the regular price and the price the sale price; otherwise the price is
/// the regular one and the compare-at means nothing.
fn regular_and_sale<'a>(price: &'a str, compare_at: &'a str) -> (&'a str, &'a str) {
    if amount_above(compare_at, price) {
        (compare_at, price)
    } else {
        (price, "")
    }
}

/// The stock Shopify tracks; none (sold as listed) when it does not track the variant.
/// Shopify lets a variant oversell below zero: nothing is left to sell then.
fn stock(tracker: &str, quantity: &str) -> String {
    if tracker.is_empty() {
        return String::new();
    }
    match quantity.parse::<i64>() {
        Ok(n) if n < 0 => "0".into(),
        _ => quantity.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_at_above_price_makes_a_sale() {
        assert_eq!(regular_and_sale("19.00", "25.00"), ("25.00", "19.00"));
        assert_eq!(regular_and_sale("19.00", "19.00"), ("19.00", ""));
        assert_eq!(regular_and_sale("19.00", ""), ("19.00", ""));
        assert_eq!(regular_and_sale("19.00", "9.00"), ("19.00", ""));
    }

    #[test]
    fn untracked_stock_is_unknown_and_oversold_stock_zero() {
        assert_eq!(stock("", "5"), "");
        assert_eq!(stock("shopify", "-3"), "0");
        assert_eq!(stock("shopify", "7"), "7");
    }
}

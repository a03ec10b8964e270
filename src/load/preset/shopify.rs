//! Shopify's product CSV (Products > Export in the Shopify admin).
//!
//! Rows sharing a `Handle` are one product: its first row fills the product columns
//! (Title, Body, Vendor, options' names, Status…), every variant row its `Variant …`
//! columns and option values, and rows with only `Image Src` add images.

use std::collections::HashMap;

use super::Settings;
use super::rows::{Prepared, Row, RowsBuilder};
use super::shop_file::{ShopFile, ShopRecord};
use super::text::{amount_above, is_yes, join_url, lower, variant_attribute};
use crate::config::RawPriceColumns;
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
struct Market<'a> {
    name: &'a str,
    price: String,
    compare_at: String,
    included: String,
    /// The columns the prepared rows hold the market's regular and sale price in.
    regular_column: String,
    sale_column: String,
}

pub(super) fn read(file: &ShopFile, settings: &Settings) -> Prepared {
    let mut out = RowsBuilder::default();
    let markets: Vec<Market<'_>> = settings
        .markets
        .iter()
        .filter(|(market, _)| file.has(&format!("Price / {market}")))
        .map(|(market, _)| Market {
            name: market,
            price: format!("Price / {market}"),
            compare_at: format!("Compare At Price / {market}"),
            included: format!("Included / {market}"),
            regular_column: format!("price / {market}"),
            sale_column: format!("sale_price / {market}"),
        })
        .collect();
    if !markets.is_empty()
        && let Some(currency) = &settings.default_currency
    {
        out.prices.push(RawPriceColumns {
            currency: currency.clone(),
            price: "price".into(),
            sale_price: Some("sale_price".into()),
        });
        for market in &markets {
            out.prices.push(RawPriceColumns {
                currency: settings.markets[market.name].clone(),
                price: market.regular_column.clone(),
                sale_price: Some(market.sale_column.clone()),
            });
        }
    }
    let read_columns: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .chain(
            markets
                .iter()
                .flat_map(|m| [m.price.as_str(), m.compare_at.as_str(), m.included.as_str()]),
        )
        .collect();

    // Products by handle, in the order they first appear.
    let mut order: Vec<&str> = Vec::new();
    let mut products: HashMap<&str, Vec<&ShopRecord>> = HashMap::new();
    for record in &file.records {
        let handle = file.get(record, "Handle");
        products
            .entry(handle)
            .or_insert_with(|| {
                order.push(handle);
                Vec::new()
            })
            .push(record);
    }
    for handle in order {
        read_product(
            file,
            settings,
            &markets,
            &read_columns,
            handle,
            &products[handle],
            &mut out,
        );
    }
    out.finish()
}

fn is_variant_row(file: &ShopFile, record: &ShopRecord) -> bool {
    ["Variant SKU", "Variant Price", "Option1 Value"]
        .iter()
        .any(|column| !file.get(record, column).is_empty())
}

fn read_product(
    file: &ShopFile,
    settings: &Settings,
    markets: &[Market<'_>],
    read_columns: &[&str],
    handle: &str,
    records: &[&ShopRecord],
    out: &mut RowsBuilder,
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
            out.skip(&why);
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
                None => row.custom(name, value),
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
        row.derived(
            Field::Stock,
            stock(
                cell("Variant Inventory Tracker"),
                cell("Variant Inventory Qty"),
            ),
        );
        for (column, value) in file.cells(variant) {
            if read_columns.contains(&column) || column.starts_with("Included / ") {
                continue;
            }
            let value = if value.is_empty() {
                file.get(first, column)
            } else {
                value
            };
            row.custom(column, value);
        }
        out.push(row);
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

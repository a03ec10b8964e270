//! WooCommerce's product CSV (Products > Export, WooCommerce's built-in exporter).
//!
//! One row per product: `simple` products are items; a `variable` product is the group of
//! its `variation` rows, which name it in `Parent` (`id:NN` or its SKU) and take what they
//! leave empty from it. `grouped` and `external` products are sold elsewhere or as other
//! products, and drafts and private products are not for sale: all are skipped and counted.

use std::collections::HashMap;

use super::Settings;
use super::rows::{Prepared, Row, RowsBuilder};
use super::shop_file::{ShopFile, ShopRecord};
use super::text::{category_path, join_url, list, sale_date, variant_attribute};
use crate::diag::Finding;
use crate::model::Field;
use crate::rules;

/// Columns the preset reads; the export's others stay custom attributes.
pub(super) const COLUMNS: &[&str] = &[
    "ID",
    "Type",
    "SKU",
    "GTIN, UPC, EAN, or ISBN",
    "Name",
    "Published",
    "Short description",
    "Description",
    "Date sale price starts",
    "Date sale price ends",
    "In stock?",
    "Stock",
    "Sale price",
    "Regular price",
    "Categories",
    "Images",
    "Parent",
    "Brands",
];

pub(super) fn read<'a>(file: &'a ShopFile, settings: &Settings) -> Prepared {
    let mut out = RowsBuilder::default();
    let mut by_id: HashMap<&str, &ShopRecord> = HashMap::new();
    let mut by_sku: HashMap<&str, &ShopRecord> = HashMap::new();
    for record in &file.records {
        let id = file.get(record, "ID");
        if !id.is_empty() {
            by_id.insert(id, record);
        }
        let sku = file.get(record, "SKU");
        if !sku.is_empty() {
            by_sku.entry(sku).or_insert(record);
        }
    }
    let attribute_count = (1..)
        .take_while(|n| file.has(&format!("Attribute {n} name")))
        .count();
    let weight_column = file.header.iter().find(|name| name.starts_with("Weight ("));
    for record in &file.records {
        let kind = kind_of(file.get(record, "Type"));
        let parent = match kind.as_str() {
            "simple" => None,
            "variation" => {
                let reference = file.get(record, "Parent");
                let parent = match reference.strip_prefix("id:") {
                    Some(id) => by_id.get(id.trim()),
                    None => by_sku.get(reference),
                };
                match parent {
                    Some(parent) => Some(*parent),
                    None => {
                        let sku = file.get(record, "SKU");
                        out.findings.push(
                            Finding::new(
                                &rules::ORPHAN_VARIANT,
                                &file.label,
                                format!(
                                    "variation `{}` names parent `{reference}`, which is not in the export (by `id:NN` or SKU)",
                                    if sku.is_empty() { file.get(record, "ID") } else { sku }
                                ),
                            )
                            .line(record.line)
                            .field("group_id")
                            .column(&"Parent".into())
                            .sku(sku),
                        );
                        continue;
                    }
                }
            }
            // The group itself: its variations are the items.
            "variable" => continue,
            other => {
                out.skip(if other.is_empty() { "no type" } else { other });
                continue;
            }
        };
        let published = |r: &'a ShopRecord| -> &'a str { file.get(r, "Published") };
        let parent_status = match parent.map(published) {
            Some("-1") => Some("draft"),
            Some("0") => Some("private"),
            _ => None,
        };
        let own_status = match published(record) {
            "-1" => Some("draft"),
            // A variation with 0 is one the shop switched off.
            "0" if kind == "variation" => Some("disabled variation"),
            "0" => Some("private"),
            _ => None,
        };
        if let Some(why) = parent_status.or(own_status) {
            out.skip(why);
            continue;
        }
        out.push(item(
            file,
            settings,
            record,
            parent,
            attribute_count,
            weight_column,
        ));
    }
    out.finish()
}

/// The product kind of a `Type` cell such as `simple, downloadable, virtual`.
fn kind_of(types: &str) -> String {
    let kinds: Vec<String> = list(types, ',').map(str::to_lowercase).collect();
    ["variation", "variable", "grouped", "external", "simple"]
        .iter()
        .find(|kind| kinds.iter().any(|k| k == *kind))
        .map_or_else(|| kinds.join(", "), |kind| (*kind).to_owned())
}

fn item(
    file: &ShopFile,
    settings: &Settings,
    record: &ShopRecord,
    parent: Option<&ShopRecord>,
    attribute_count: usize,
    weight_column: Option<&String>,
) -> Row {
    let own = |column: &str| file.get(record, column);
    // A variation leaves empty what it shares with its parent.
    let inherited = |column: &str| {
        let value = own(column);
        match parent {
            Some(parent) if value.is_empty() => file.get(parent, column),
            _ => value,
        }
    };
    let mut row = Row::new(record.line, record.byte);
    row.field(Field::Sku, "SKU", own("SKU"));
    if let Some(parent) = parent {
        let group = file.get(parent, "SKU");
        let group = if group.is_empty() {
            format!("id:{}", file.get(parent, "ID"))
        } else {
            group.to_owned()
        };
        row.derived(Field::GroupId, group);
    }
    row.field(Field::Title, "Name", inherited("Name"));
    let description = match inherited("Description") {
        "" => inherited("Short description"),
        text => text,
    };
    // The exporter writes line breaks inside descriptions as the two characters `\n`.
    row.derived(Field::Description, description.replace("\\n", "\n"));
    row.field(Field::Brand, "Brands", inherited("Brands"));
    row.field(
        Field::Gtin,
        "GTIN, UPC, EAN, or ISBN",
        own("GTIN, UPC, EAN, or ISBN"),
    );
    row.field(Field::Price, "Regular price", inherited("Regular price"));
    row.field(Field::SalePrice, "Sale price", own("Sale price"));
    if !own("Sale price").is_empty() {
        let starts = own("Date sale price starts");
        let ends = own("Date sale price ends");
        if !starts.is_empty() {
            row.derived(Field::SaleStart, sale_date(starts, false));
        }
        if !ends.is_empty() {
            row.derived(Field::SaleEnd, sale_date(ends, true));
        }
    }
    if let Some(base) = &settings.base_url {
        // WordPress answers `?post_type=product&p=ID` with a redirect to the product's
        // permalink; the export has no permalink of its own.
        let id = parent.map_or_else(|| own("ID"), |p| file.get(p, "ID"));
        if !id.is_empty() {
            row.derived(
                Field::Link,
                join_url(base, &format!("?post_type=product&p={id}")),
            );
        }
    }
    let images: Vec<&str> = list(inherited("Images"), ',').collect();
    if let Some((first, rest)) = images.split_first() {
        row.derived(Field::ImageLink, *first);
        row.derived(Field::AdditionalImageLinks, rest.join("|"));
    }
    if let Some(first) = list(inherited("Categories"), ',').next() {
        row.derived(Field::ProductType, category_path(first.split('>')));
    }
    for n in 1..=attribute_count {
        let name = own(&format!("Attribute {n} name"));
        let name = if name.is_empty() {
            parent.map_or("", |p| file.get(p, &format!("Attribute {n} name")))
        } else {
            name
        };
        // A variation's value is its one choice; a simple product may list several.
        let values: Vec<&str> = list(own(&format!("Attribute {n} value(s)")), ',').collect();
        if name.is_empty() || values.is_empty() {
            continue;
        }
        let value = values.join("/");
        if name.eq_ignore_ascii_case("brand") {
            if !row.has(Field::Brand) {
                row.derived(Field::Brand, value);
            }
            continue;
        }
        match variant_attribute(name) {
            Some(field) => row.derived(field, value),
            None => row.custom(name, &value),
        }
    }
    if let Some(column) = weight_column {
        let weight = inherited(column);
        let unit = column.trim_start_matches("Weight (").trim_end_matches(')');
        if !weight.is_empty() {
            row.derived(Field::Weight, format!("{weight} {unit}"));
        }
    }
    row.derived(Field::Stock, stock(own("In stock?"), own("Stock")));
    let attribute_column = |column: &str| {
        column.starts_with("Attribute ") || Some(column) == weight_column.map(String::as_str)
    };
    for (column, value) in file.cells(record) {
        if COLUMNS.contains(&column) || attribute_column(column) {
            continue;
        }
        let value = match parent {
            Some(parent) if value.is_empty() => file.get(parent, column),
            _ => value,
        };
        row.custom(column, value);
    }
    row
}

/// The stock of a WooCommerce product: its `Stock` when WooCommerce manages it (below zero
/// when backorders ran it down: nothing is left), 0 when it is marked out of stock, and
/// unknown (sold as listed) when it is in stock or on backorder without a count.
fn stock(in_stock: &str, quantity: &str) -> String {
    match quantity.parse::<i64>() {
        Ok(n) if n < 0 => "0".into(),
        Ok(_) => quantity.to_owned(),
        Err(_) if !quantity.is_empty() => quantity.to_owned(),
        Err(_) if in_stock.trim() == "0" || in_stock.eq_ignore_ascii_case("no") => "0".into(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_kinds_come_from_the_type_list() {
        assert_eq!(kind_of("simple, downloadable, virtual"), "simple");
        assert_eq!(kind_of("variation"), "variation");
        assert_eq!(kind_of("external"), "external");
        assert_eq!(kind_of("subscription"), "subscription");
    }

    #[test]
    fn stock_follows_the_managed_count_then_the_flag() {
        assert_eq!(stock("1", "12"), "12");
        assert_eq!(stock("0", ""), "0");
        assert_eq!(stock("1", ""), "");
        assert_eq!(stock("backorder", "-2"), "0");
    }
}

//! Magento 2's product export (System > Data Transfer > Export, entity "Products").
//!
//! A `configurable` product is the group: its `configurable_variations` name each child
//! (`sku=…,size=…,color=…|…`), and the children, `simple` products usually "Not Visible
//! Individually", are the items, taking from the parent what they leave empty. Rows with a
//! `store_view_code` override the default row for one store view and are not products.

use std::collections::HashMap;

use super::Settings;
use super::rows::{Prepared, Row, RowsBuilder};
use super::shop_file::{ShopFile, ShopRecord};
use super::text::{amount_above, category_path, join_url, list, sale_date, variant_attribute};
use crate::model::Field;

/// Columns the preset reads; the export's others stay custom attributes.
pub(super) const COLUMNS: &[&str] = &[
    "sku",
    "store_view_code",
    "attribute_set_code",
    "product_type",
    "categories",
    "name",
    "description",
    "short_description",
    "product_online",
    "visibility",
    "price",
    "special_price",
    "special_price_from_date",
    "special_price_to_date",
    "url_key",
    "base_image",
    "additional_images",
    "additional_attributes",
    "qty",
    "is_in_stock",
    "configurable_variations",
];

/// A child's configurable parent, and the attributes (`size=…,color=…`) the parent's
/// `configurable_variations` give the child.
type Parent<'a> = (&'a ShopRecord, Vec<(&'a str, &'a str)>);

/// Product types that are sold as they are.
const ITEM_TYPES: &[&str] = &["simple", "virtual", "downloadable"];

pub(super) fn read(file: &ShopFile, settings: &Settings) -> Prepared {
    let mut out = RowsBuilder::default();
    // Child SKU -> its configurable parent and the attributes the parent gives it.
    let mut parents: HashMap<&str, Parent<'_>> = HashMap::new();
    for record in &file.records {
        if !file.get(record, "store_view_code").is_empty()
            || file.get(record, "product_type") != "configurable"
        {
            continue;
        }
        for variation in list(file.get(record, "configurable_variations"), '|') {
            let pairs = key_values(variation);
            if let Some((_, sku)) = pairs.iter().find(|(key, _)| *key == "sku") {
                let attributes = pairs
                    .iter()
                    .copied()
                    .filter(|(key, _)| *key != "sku")
                    .collect();
                parents.insert(sku, (record, attributes));
            }
        }
    }
    let image_base = settings.image_base_url.clone().or_else(|| {
        settings
            .base_url
            .as_deref()
            .map(|base| join_url(base, "media/catalog/product"))
    });
    for record in &file.records {
        if !file.get(record, "store_view_code").is_empty() {
            out.skip("store view row");
            continue;
        }
        let kind = file.get(record, "product_type");
        if kind == "configurable" {
            continue;
        }
        if !ITEM_TYPES.contains(&kind) {
            out.skip(if kind.is_empty() {
                "no product_type"
            } else {
                kind
            });
            continue;
        }
        let parent = parents.get(file.get(record, "sku"));
        // product_online: 1 enabled, 2 disabled; a disabled parent hides its children.
        let disabled = |r: &ShopRecord| file.get(r, "product_online") == "2";
        if disabled(record) || parent.is_some_and(|(p, _)| disabled(p)) {
            out.skip("disabled");
            continue;
        }
        if parent.is_none() && file.get(record, "visibility") == "Not Visible Individually" {
            out.skip("not visible individually");
            continue;
        }
        out.push(item(file, settings, image_base.as_deref(), record, parent));
    }
    out.finish()
}

/// `k=v,k=v` as Magento writes `additional_attributes` and each configurable variation.
/// A value may hold a comma (the multi-select separator): a piece without `=` belongs to
/// the value before it.
fn key_values(text: &str) -> Vec<(&str, &str)> {
    let mut pairs = Vec::new();
    // The key being read and where its value starts.
    let mut current: Option<(&str, usize)> = None;
    let mut at = 0;
    for piece in text.split(',') {
        let start = at;
        at += piece.len() + 1;
        if let Some((key, _)) = piece.split_once('=') {
            if let Some((key, value_start)) = current {
                // Up to the comma before this piece.
                pairs.push((key, text[value_start..start - 1].trim()));
            }
            current = Some((key.trim(), start + key.len() + 1));
        }
    }
    if let Some((key, value_start)) = current {
        pairs.push((key, text[value_start..].trim()));
    }
    pairs
}

fn item(
    file: &ShopFile,
    settings: &Settings,
    image_base: Option<&str>,
    record: &ShopRecord,
    parent: Option<&Parent<'_>>,
) -> Row {
    let own = |column: &str| file.get(record, column);
    let inherited = |column: &str| {
        let value = own(column);
        match parent {
            Some((parent, _)) if value.is_empty() => file.get(parent, column),
            _ => value,
        }
    };
    let mut row = Row::new(record.line, record.byte);
    row.field(Field::Sku, "sku", own("sku"));
    if let Some((parent, _)) = parent {
        row.derived(Field::GroupId, file.get(parent, "sku"));
    }
    row.field(Field::Title, "name", inherited("name"));
    let description = match inherited("description") {
        "" => inherited("short_description"),
        text => text,
    };
    row.field(Field::Description, "description", description);
    let price = own("price");
    row.field(Field::Price, "price", price);
    // Magento charges the lower of price and special price: a special price that is not
    // below the price changes nothing.
    let special = own("special_price");
    if amount_above(price, special) {
        row.field(Field::SalePrice, "special_price", special);
        let from = own("special_price_from_date");
        let to = own("special_price_to_date");
        if !from.is_empty() {
            row.derived(Field::SaleStart, sale_date(from, false));
        }
        if !to.is_empty() {
            row.derived(Field::SaleEnd, sale_date(to, true));
        }
    }
    // Children are not visible on their own: they are sold on the parent's page.
    let url_key = match parent {
        Some((parent, _)) => file.get(parent, "url_key"),
        None => own("url_key"),
    };
    if let Some(base) = &settings.base_url
        && !url_key.is_empty()
    {
        row.derived(Field::Link, join_url(base, &format!("{url_key}.html")));
    }
    let image_url = |path: &str| -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            image_base.map_or_else(|| path.to_owned(), |base| join_url(base, path))
        }
    };
    let base_image = match inherited("base_image") {
        "no_selection" => "",
        path => path,
    };
    if !base_image.is_empty() {
        row.derived(Field::ImageLink, image_url(base_image));
    }
    let more: Vec<String> = list(inherited("additional_images"), ',')
        .filter(|path| *path != base_image)
        .map(image_url)
        .collect();
    row.derived(Field::AdditionalImageLinks, more.join("|"));
    if let Some(first) = list(inherited("categories"), ',').next() {
        // The first part is the root category ("Default Category"), not shown in the shop.
        row.derived(Field::ProductType, category_path(first.split('/').skip(1)));
    }
    let variation = parent
        .map(|(_, attributes)| attributes.as_slice())
        .unwrap_or_default();
    let own_attributes = key_values(own("additional_attributes"));
    let parent_attributes = parent.map_or_else(Vec::new, |(p, _)| {
        key_values(file.get(p, "additional_attributes"))
    });
    for (key, value) in variation
        .iter()
        .chain(&own_attributes)
        .chain(&parent_attributes)
    {
        let field = match key.to_ascii_lowercase().as_str() {
            "manufacturer" | "brand" => Some(Field::Brand),
            "ean" | "gtin" | "upc" | "barcode" => Some(Field::Gtin),
            "mpn" => Some(Field::Mpn),
            "condition" => Some(Field::Condition),
            name => variant_attribute(name),
        };
        match field {
            // The first source wins: the variation, then the product, then its parent.
            Some(field) if !row.has(field) => row.derived(field, *value),
            Some(_) => {}
            None => row.custom(key, value),
        }
    }
    row.derived(Field::Stock, stock(own("is_in_stock"), own("qty")));
    for (column, value) in file.cells(record) {
        if COLUMNS.contains(&column) {
            continue;
        }
        let value = match parent {
            Some((parent, _)) if value.is_empty() => file.get(parent, column),
            _ => value,
        };
        row.custom(column, value);
    }
    row
}

/// Magento writes `qty` with four decimals (`100.0000`); a whole count passes as one, below
/// zero (backorders) as nothing left, and a product marked out of stock has none.
fn stock(in_stock: &str, qty: &str) -> String {
    if in_stock.trim() == "0" {
        return "0".into();
    }
    let qty = qty.trim();
    let whole = match qty.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        _ => qty,
    };
    match whole.parse::<i64>() {
        Ok(n) if n < 0 => "0".into(),
        Ok(n) => n.to_string(),
        // A fraction or text goes on for the loader to report.
        Err(_) => qty.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_split_on_commas_outside_values() {
        assert_eq!(
            key_values("color=Blue,size=M,activity=Yoga,Gym"),
            vec![("color", "Blue"), ("size", "M"), ("activity", "Yoga,Gym")]
        );
        assert_eq!(
            key_values("sku=MH01-XS,size=XS"),
            vec![("sku", "MH01-XS"), ("size", "XS")]
        );
        assert!(key_values("").is_empty());
    }

    #[test]
    fn quantities_lose_their_four_decimals() {
        assert_eq!(stock("1", "100.0000"), "100");
        assert_eq!(stock("0", "100.0000"), "0");
        assert_eq!(stock("1", "-2.0000"), "0");
        assert_eq!(stock("1", "2.5000"), "2.5000");
        assert_eq!(stock("1", ""), "");
    }
}

//! WooCommerce's product CSV (Products > Export, WooCommerce's built-in exporter).
//!
//! One row per product: `simple` products are items; a `variable` product is the group of
//! its `variation` rows, which name it in `Parent` (`id:NN` or its SKU) and take what they
//! leave empty from it. `grouped` and `external` products are sold elsewhere or as other
//! products, and drafts and private products are not for sale: all are skipped and counted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Settings;
use super::parents::{ParentAt, ParentCache};
use super::rows::{Discard, Row, Sink};
use super::shop_file::{Records, ShopFile, ShopRecord};
use super::text::{category_path, join_url, list, sale_date, variant_attribute};
use crate::diag::Finding;
use crate::load::table::LoadError;
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

/// A variation's `Parent`: `id:NN` or the parent's SKU.
enum ParentRef<'a> {
    Id(&'a str),
    Sku(&'a str),
}

impl<'a> ParentRef<'a> {
    fn of(reference: &'a str) -> ParentRef<'a> {
        match reference.strip_prefix("id:") {
            Some(id) => ParentRef::Id(id.trim()),
            None => ParentRef::Sku(reference),
        }
    }
}

/// Where the parents variations name start, found by a first pass that keeps only the
/// names variations use: a variable product's row may come after its variations.
#[derive(Default)]
struct ParentIndex {
    /// By `ID`, the last row of that ID (as a lookup table of every row would keep it).
    by_id: HashMap<Box<str>, Option<ParentAt>>,
    /// By SKU, the first row of that SKU.
    by_sku: HashMap<Box<str>, Option<ParentAt>>,
}

impl ParentIndex {
    fn build(file: &Arc<ShopFile>) -> Result<ParentIndex, LoadError> {
        let mut index = ParentIndex::default();
        let mut record = ShopRecord::default();
        let mut records = file.records()?;
        let mut quiet = Discard;
        while records.next(&mut record, &mut quiet)? {
            if kind_of(file.get(&record, "Type")) != "variation" {
                continue;
            }
            match ParentRef::of(file.get(&record, "Parent")) {
                ParentRef::Id(id) => index.by_id.entry(id.into()).or_default(),
                ParentRef::Sku(sku) => index.by_sku.entry(sku.into()).or_default(),
            };
        }
        let mut records = file.records()?;
        while records.next(&mut record, &mut quiet)? {
            let at = ParentAt {
                byte: record.byte,
                line: record.line,
            };
            let id = file.get(&record, "ID");
            if !id.is_empty()
                && let Some(slot) = index.by_id.get_mut(id)
            {
                *slot = Some(at);
            }
            let sku = file.get(&record, "SKU");
            if !sku.is_empty()
                && let Some(slot) = index.by_sku.get_mut(sku)
                && slot.is_none()
            {
                *slot = Some(at);
            }
        }
        Ok(index)
    }

    fn find(&self, reference: &str) -> Option<ParentAt> {
        match ParentRef::of(reference) {
            ParentRef::Id(id) => self.by_id.get(id).copied().flatten(),
            ParentRef::Sku(sku) => self.by_sku.get(sku).copied().flatten(),
        }
    }
}

/// Reads the export row by row, each variation with its parent at hand.
pub(super) struct Reader {
    file: Arc<ShopFile>,
    settings: Arc<Settings>,
    records: Records,
    record: ShopRecord,
    parents: ParentIndex,
    /// Byte offsets of every parent row, to keep a parent met on the way.
    parent_rows: HashSet<u64>,
    cache: ParentCache<ShopRecord>,
    attribute_count: usize,
    weight_column: Option<String>,
    /// Columns whose cells are custom attributes.
    unread: Vec<usize>,
}

impl Reader {
    pub(super) fn new(file: Arc<ShopFile>, settings: Arc<Settings>) -> Result<Reader, LoadError> {
        let parents = ParentIndex::build(&file)?;
        let parent_rows = parents
            .by_id
            .values()
            .chain(parents.by_sku.values())
            .flatten()
            .map(|at| at.byte)
            .collect();
        let attribute_count = (1..)
            .take_while(|n| file.has(&format!("Attribute {n} name")))
            .count();
        let weight_column = file
            .header
            .iter()
            .find(|name| name.starts_with("Weight ("))
            .cloned();
        let unread = file.unread_columns(|column| {
            COLUMNS.contains(&column)
                || column.starts_with("Attribute ")
                || Some(column) == weight_column.as_deref()
        });
        Ok(Reader {
            records: file.records()?,
            file,
            settings,
            record: ShopRecord::default(),
            parents,
            parent_rows,
            cache: ParentCache::new(),
            attribute_count,
            weight_column,
            unread,
        })
    }

    pub(super) fn file(&self) -> &ShopFile {
        &self.file
    }

    /// Starts another pass from the first row.
    pub(super) fn restart(&mut self) -> Result<(), LoadError> {
        self.records = self.file.records()?;
        self.cache.clear();
        Ok(())
    }

    /// Reads one row and sends what it makes to `sink`; false at the end of the export.
    pub(super) fn step(&mut self, sink: &mut dyn Sink) -> Result<bool, LoadError> {
        if !self.records.next(&mut self.record, sink)? {
            return Ok(false);
        }
        let file = &*self.file;
        let record = &self.record;
        if self.parent_rows.contains(&record.byte) {
            self.cache.offer(record, |parent| parent);
        }
        let kind = kind_of(file.get(record, "Type"));
        let parent = match kind.as_str() {
            "simple" => None,
            "variation" => {
                let reference = file.get(record, "Parent");
                match self.parents.find(reference) {
                    Some(at) => Some(self.cache.get(file, at, |parent| parent)?),
                    None => {
                        let sku = file.get(record, "SKU");
                        sink.finding(
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
                        return Ok(true);
                    }
                }
            }
            // The group itself: its variations are the items.
            "variable" => return Ok(true),
            other => {
                sink.skip(if other.is_empty() { "no type" } else { other });
                return Ok(true);
            }
        };
        let parent_status = match parent.map(|p| file.get(p, "Published")) {
            Some("-1") => Some("draft"),
            Some("0") => Some("private"),
            _ => None,
        };
        let own_status = match file.get(record, "Published") {
            "-1" => Some("draft"),
            // A variation with 0 is one the shop switched off.
            "0" if kind == "variation" => Some("disabled variation"),
            "0" => Some("private"),
            _ => None,
        };
        if let Some(why) = parent_status.or(own_status) {
            sink.skip(why);
            return Ok(true);
        }
        sink.row(item(
            file,
            &self.settings,
            record,
            parent,
            self.attribute_count,
            self.weight_column.as_ref(),
            &self.unread,
        ));
        Ok(true)
    }
}

/// The product kind of a `Type` cell such as `simple, downloadable, virtual`.
fn kind_of(types: &str) -> String {
    let kinds: Vec<String> = list(types, ',').map(str::to_lowercase).collect();
    ["variation", "variable", "grouped", "external", "simple"]
        .iter()
        .find(|kind| kinds.iter().any(|k| k == *kind))
        .map_or_else(|| kinds.join(", "), |kind| (*kind).to_owned())
}

fn item<'r>(
    file: &'r ShopFile,
    settings: &Settings,
    record: &'r ShopRecord,
    parent: Option<&'r ShopRecord>,
    attribute_count: usize,
    weight_column: Option<&String>,
    unread: &'r [usize],
) -> Row<'r> {
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
            None => row.custom(name, value),
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
    for (column, value) in file.cells_at(record, unread) {
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

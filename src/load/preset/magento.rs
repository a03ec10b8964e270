//! Magento 2's product export (System > Data Transfer > Export, entity "Products").
//!
//! A `configurable` product is the group: its `configurable_variations` name each child
//! (`sku=…,size=…,color=…|…`), and the children, `simple` products usually "Not Visible
//! Individually", are the items, taking from the parent what they leave empty. Rows with a
//! `store_view_code` override the default row for one store view and are not products.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64;

use super::Settings;
use super::parents::{ParentAt, ParentCache};
use super::rows::{Discard, Row, Sink};
use super::shop_file::{Records, ShopFile, ShopRecord};
use super::text::{amount_above, category_path, join_url, list, sale_date, variant_attribute};
use crate::load::table::LoadError;
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

/// Product types that are sold as they are.
const ITEM_TYPES: &[&str] = &["simple", "virtual", "downloadable"];

/// A configurable parent as its children need it: its row, and per child SKU the
/// attributes (`size=…,color=…`) its `configurable_variations` give that child.
struct Parent {
    record: ShopRecord,
    children: HashMap<String, Vec<(String, String)>>,
}

impl Parent {
    fn new(file: &ShopFile, record: ShopRecord) -> Parent {
        let mut children = HashMap::new();
        for variation in list(file.get(&record, "configurable_variations"), '|') {
            let pairs = key_values(variation);
            if let Some((_, sku)) = pairs.iter().find(|(key, _)| *key == "sku") {
                let attributes = pairs
                    .iter()
                    .filter(|(key, _)| *key != "sku")
                    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                    .collect();
                // A child listed twice takes its last listing.
                children.insert((*sku).to_owned(), attributes);
            }
        }
        Parent { record, children }
    }
}

/// Which configurable lists each child, from a first pass over the export: the child's
/// SKU hashed, and the parent's number in `parents` (a child the export lists under two
/// parents belongs to the later one). Children often come before their parent.
struct ParentIndex {
    parents: Vec<ParentAt>,
    /// (SKU hash, parent number), sorted.
    children: Vec<(u64, u32)>,
}

impl ParentIndex {
    fn build(file: &Arc<ShopFile>) -> Result<ParentIndex, LoadError> {
        let mut parents = Vec::new();
        let mut children = Vec::new();
        let mut record = ShopRecord::default();
        let mut records = file.records()?;
        while records.next(&mut record, &mut Discard)? {
            if !file.get(&record, "store_view_code").is_empty()
                || file.get(&record, "product_type") != "configurable"
            {
                continue;
            }
            let number = u32::try_from(parents.len()).map_err(|_| {
                file.layout(
                    "more than 4,294,967,295 configurable products".into(),
                    "split the export".into(),
                )
            })?;
            parents.push(ParentAt {
                byte: record.byte,
                line: record.line,
            });
            for sku in Parent::new(file, record.clone()).children.keys() {
                children.push((xxh3_64(sku.as_bytes()), number));
            }
        }
        children.sort_unstable();
        children.dedup();
        Ok(ParentIndex { parents, children })
    }

    /// The parents that may list `sku`, the latest first: every parent whose listed child
    /// hashes the same (nearly always one).
    fn candidates(&self, sku: &str) -> impl Iterator<Item = ParentAt> + '_ {
        let hash = xxh3_64(sku.as_bytes());
        let start = self.children.partition_point(|(h, _)| *h < hash);
        let end = self.children.partition_point(|(h, _)| *h <= hash);
        self.children[start..end]
            .iter()
            .rev()
            .map(|(_, number)| self.parents[*number as usize])
    }
}

/// Reads the export row by row, each child with its configurable parent at hand.
pub(super) struct Reader {
    file: Arc<ShopFile>,
    settings: Arc<Settings>,
    image_base: Option<String>,
    records: Records,
    record: ShopRecord,
    index: ParentIndex,
    parent_rows: HashSet<u64>,
    cache: ParentCache<Parent>,
    /// Columns whose cells are custom attributes.
    unread: Vec<usize>,
}

impl Reader {
    pub(super) fn new(file: Arc<ShopFile>, settings: Arc<Settings>) -> Result<Reader, LoadError> {
        let index = ParentIndex::build(&file)?;
        let parent_rows = index.parents.iter().map(|at| at.byte).collect();
        let unread = file.unread_columns(|column| COLUMNS.contains(&column));
        let image_base = settings.image_base_url.clone().or_else(|| {
            settings
                .base_url
                .as_deref()
                .map(|base| join_url(base, "media/catalog/product"))
        });
        Ok(Reader {
            records: file.records()?,
            file,
            settings,
            image_base,
            record: ShopRecord::default(),
            index,
            parent_rows,
            cache: ParentCache::new(),
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
            self.cache.offer(record, |parent| Parent::new(file, parent));
        }
        if !file.get(record, "store_view_code").is_empty() {
            sink.skip("store view row");
            return Ok(true);
        }
        let kind = file.get(record, "product_type");
        if kind == "configurable" {
            return Ok(true);
        }
        if !ITEM_TYPES.contains(&kind) {
            sink.skip(if kind.is_empty() {
                "no product_type"
            } else {
                kind
            });
            return Ok(true);
        }
        let sku = file.get(record, "sku");
        let mut parent_at = None;
        for at in self.index.candidates(sku) {
            let parent = self
                .cache
                .get(file, at, |parent| Parent::new(file, parent))?;
            if parent.children.contains_key(sku) {
                parent_at = Some(at);
                break;
            }
        }
        let parent = match parent_at {
            Some(at) => {
                let parent = self
                    .cache
                    .get(file, at, |parent| Parent::new(file, parent))?;
                Some((&parent.record, parent.children[sku].as_slice()))
            }
            None => None,
        };
        // product_online: 1 enabled, 2 disabled; a disabled parent hides its children.
        let disabled = |r: &ShopRecord| file.get(r, "product_online") == "2";
        if disabled(record) || parent.is_some_and(|(p, _)| disabled(p)) {
            sink.skip("disabled");
            return Ok(true);
        }
        if parent.is_none() && file.get(record, "visibility") == "Not Visible Individually" {
            sink.skip("not visible individually");
            return Ok(true);
        }
        sink.row(item(
            file,
            &self.settings,
            self.image_base.as_deref(),
            record,
            parent,
            &self.unread,
        ));
        Ok(true)
    }
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

/// A child's parent row and the attributes the parent's listing gives the child.
type ParentOf<'r> = (&'r ShopRecord, &'r [(String, String)]);

fn item<'r>(
    file: &'r ShopFile,
    settings: &Settings,
    image_base: Option<&str>,
    record: &'r ShopRecord,
    parent: Option<ParentOf<'r>>,
    unread: &'r [usize],
) -> Row<'r> {
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
        .map(|(_, attributes)| attributes)
        .unwrap_or_default()
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()));
    let own_attributes = key_values(own("additional_attributes"));
    let parent_attributes = parent.map_or_else(Vec::new, |(p, _)| {
        key_values(file.get(p, "additional_attributes"))
    });
    for (key, value) in variation.chain(own_attributes).chain(parent_attributes) {
        let field = match key.to_ascii_lowercase().as_str() {
            "manufacturer" | "brand" => Some(Field::Brand),
            "ean" | "gtin" | "upc" | "barcode" => Some(Field::Gtin),
            "mpn" => Some(Field::Mpn),
            "condition" => Some(Field::Condition),
            name => variant_attribute(name),
        };
        match field {
            // The first source wins: the variation, then the product, then its parent.
            Some(field) if !row.has(field) => row.derived(field, value),
            Some(_) => {}
            None => row.custom(key, value),
        }
    }
    row.derived(Field::Stock, stock(own("is_in_stock"), own("qty")));
    for (column, value) in file.cells_at(record, unread) {
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

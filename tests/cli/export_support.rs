//! Shared by the export tests: running an export, and an independent model of the catalog and
//! the channel specs, read straight from the files with the csv and toml crates (not through
//! omnifeed's loader), to check feed values against.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::support::{TestEnv, repo_root};

/// Runs `omnifeed export --format json --out OUT ARGS…`, expects exit 0, returns the report.
pub(crate) fn export_json(env: &TestEnv, out: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["export", "--format", "json", "--no-progress", "--out", out];
    all.extend_from_slice(args);
    env.run(&all).expect_code(0).json()
}

/// The report's entry for one feed.
pub(crate) fn feed_report<'r>(report: &'r serde_json::Value, feed: &str) -> &'r serde_json::Value {
    report["feeds"]
        .as_array()
        .expect("feeds array")
        .iter()
        .find(|f| f["feed"] == feed)
        .unwrap_or_else(|| panic!("feed `{feed}` in report:\n{report:#}"))
}

/// The files a feed's report entry lists, resolved against the env folder.
pub(crate) fn feed_files(env: &TestEnv, entry: &serde_json::Value) -> Vec<PathBuf> {
    let files: Vec<PathBuf> = entry["files"]
        .as_array()
        .expect("files array")
        .iter()
        .map(|f| {
            let path = Path::new(f.as_str().expect("file path"));
            if path.is_absolute() {
                path.to_owned()
            } else {
                env.dir.path().join(path)
            }
        })
        .collect();
    assert!(!files.is_empty(), "feed wrote no file: {entry:#}");
    for file in &files {
        assert!(file.is_file(), "listed file {} exists", file.display());
    }
    files
}

pub(crate) fn records(entry: &serde_json::Value) -> usize {
    usize::try_from(entry["records"].as_u64().expect("records")).expect("fits")
}

/// `^\d+\.\d{2} [A-Z]{3}$`
pub(crate) fn is_amount_currency(text: &str) -> bool {
    let Some((amount, currency)) = text.split_once(' ') else {
        return false;
    };
    let Some((units, cents)) = amount.split_once('.') else {
        return false;
    };
    !units.is_empty()
        && units.bytes().all(|b| b.is_ascii_digit())
        && cents.len() == 2
        && cents.bytes().all(|b| b.is_ascii_digit())
        && currency.len() == 3
        && currency.bytes().all(|b| b.is_ascii_uppercase())
}

/// The catalog as plain maps, read with the csv crate.
pub(crate) struct Catalog {
    /// sku -> column -> value (first row of a SKU).
    pub(crate) products: HashMap<String, HashMap<String, String>>,
    /// sku -> location_id -> quantity.
    pub(crate) stock: HashMap<String, HashMap<String, i64>>,
    /// location_id -> (kind, store_code).
    pub(crate) locations: BTreeMap<String, (String, String)>,
}

fn read_table(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).expect("open catalog table");
    let headers = reader.headers().expect("headers").clone();
    reader
        .records()
        .map(|row| {
            let row = row.expect("catalog row");
            headers
                .iter()
                .zip(row.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

impl Catalog {
    pub(crate) fn read(dir: &Path) -> Catalog {
        let mut products = HashMap::new();
        for row in read_table(&dir.join("products.csv")) {
            products.entry(row["sku"].clone()).or_insert(row);
        }
        let mut stock: HashMap<String, HashMap<String, i64>> = HashMap::new();
        for row in read_table(&dir.join("inventory.csv")) {
            let quantity: i64 = row["quantity"].parse().expect("quantity");
            *stock
                .entry(row["sku"].clone())
                .or_default()
                .entry(row["location_id"].clone())
                .or_default() += quantity;
        }
        let locations = read_table(&dir.join("locations.csv"))
            .into_iter()
            .map(|row| {
                (
                    row["location_id"].clone(),
                    (row["kind"].clone(), row["store_code"].clone()),
                )
            })
            .collect();
        Catalog {
            products,
            stock,
            locations,
        }
    }

    pub(crate) fn product(&self, sku: &str) -> &HashMap<String, String> {
        self.products
            .get(sku)
            .unwrap_or_else(|| panic!("SKU `{sku}` from the feed is in the catalog"))
    }

    /// Summed stock over the warehouses.
    pub(crate) fn warehouse_stock(&self, sku: &str) -> i64 {
        self.stock.get(sku).map_or(0, |by_location| {
            by_location
                .iter()
                .filter(|(location, _)| self.locations[*location].0 == "warehouse")
                .map(|(_, quantity)| quantity)
                .sum()
        })
    }

    /// Stock of the store with this store code.
    pub(crate) fn store_stock(&self, sku: &str, store_code: &str) -> i64 {
        let location = self
            .locations
            .iter()
            .find(|(_, (kind, code))| kind == "store" && code == store_code)
            .map(|(id, _)| id)
            .unwrap_or_else(|| panic!("store code `{store_code}` is in locations.csv"));
        self.stock
            .get(sku)
            .and_then(|by_location| by_location.get(location))
            .copied()
            .unwrap_or(0)
    }

    /// `356.18 EUR`: the catalog price with its currency.
    pub(crate) fn price_with_currency(&self, sku: &str) -> String {
        let row = self.product(sku);
        format!("{} {}", row["price"], row["currency"])
    }

    /// The canonical availability the warehouse stock implies.
    pub(crate) fn availability(&self, sku: &str) -> &'static str {
        if self.warehouse_stock(sku) > 0 {
            "in_stock"
        } else {
            "out_of_stock"
        }
    }
}

/// A shipped channel spec, read with the toml crate.
pub(crate) struct Spec(toml::Table);

impl Spec {
    pub(crate) fn shipped(id: &str) -> Spec {
        let path = repo_root().join("channel-specs").join(format!("{id}.toml"));
        let text = std::fs::read_to_string(&path).expect("read channel spec");
        Spec(text.parse().expect("channel spec is TOML"))
    }

    fn fields(&self) -> &[toml::Value] {
        self.0["fields"].as_array().expect("[[fields]]")
    }

    fn field(&self, name: &str) -> Option<&toml::Table> {
        self.fields()
            .iter()
            .filter_map(toml::Value::as_table)
            .find(|f| f["name"].as_str() == Some(name))
    }

    /// The header row a delimited format must have: each field's name, or its spelling for
    /// this format.
    pub(crate) fn header(&self, format: &str) -> Vec<String> {
        self.fields()
            .iter()
            .filter_map(toml::Value::as_table)
            .map(|f| {
                f.get("names")
                    .and_then(|names| names.get(format))
                    .or_else(|| f.get("name"))
                    .and_then(toml::Value::as_str)
                    .expect("field name")
                    .to_owned()
            })
            .collect()
    }

    pub(crate) fn delimiter(&self, format: &str) -> u8 {
        let delimiter = self.0["formats"][format]
            .get("delimiter")
            .and_then(toml::Value::as_str)
            .unwrap_or(",");
        assert_eq!(delimiter.len(), 1, "one-byte delimiter");
        delimiter.as_bytes()[0]
    }

    /// The channel's spelling of a canonical value of `field` (its `map`, else unchanged).
    pub(crate) fn spell(&self, field: &str, canonical: &str) -> String {
        self.field(field)
            .and_then(|f| f.get("map"))
            .and_then(|map| map.get(canonical))
            .and_then(toml::Value::as_str)
            .unwrap_or(canonical)
            .to_owned()
    }

    /// The name of the field whose source is `source` (or named so with no source).
    pub(crate) fn field_from(&self, source: &str) -> Option<String> {
        self.fields()
            .iter()
            .filter_map(toml::Value::as_table)
            .find(|f| {
                f.get("source")
                    .or_else(|| f.get("name"))
                    .and_then(toml::Value::as_str)
                    == Some(source)
                    && f.get("value").is_none()
            })
            .map(|f| f["name"].as_str().expect("name").to_owned())
    }
}

impl Spec {
    /// A group field's `parts`, in the channel's text order.
    pub(crate) fn parts(&self, field: &str) -> Vec<String> {
        self.field(field)
            .and_then(|f| f.get("group_parts"))
            .and_then(toml::Value::as_array)
            .unwrap_or_else(|| panic!("field `{field}` has group_parts"))
            .iter()
            .map(|part| part.as_str().expect("part name").to_owned())
            .collect()
    }
}

/// One shipping group: sub-attribute -> value, empty ones left out.
pub(crate) type ShippingGroup = BTreeMap<String, String>;

/// The groups a feed definition's `[[shipping.rules]]` give a catalog row, worked out here
/// from the TOML and the row alone: the rules priced in the row's currency, in order, each
/// at 0 when what the shopper pays (the sale price, if any) is at or above its
/// `free_above`. Rules whose area the channel's `parts` cannot hold are left out.
pub(crate) fn expected_shipping(
    feed: &toml::Table,
    row: &HashMap<String, String>,
    parts: &[String],
) -> Vec<ShippingGroup> {
    use rust_decimal::Decimal;
    let decimal = |text: &str| Decimal::from_str_exact(text).expect("decimal");
    // `"4.95 EUR"`, or a bare TOML number in the feed's currency.
    let split = |value: &toml::Value| match value {
        toml::Value::String(text) => {
            let (amount, currency) = text.split_once(' ').expect("price with currency");
            (decimal(amount), currency.to_owned())
        }
        number => {
            let amount = match number {
                toml::Value::Integer(n) => Decimal::from(*n),
                toml::Value::Float(f) => decimal(&f.to_string()),
                other => panic!("price {other}"),
            };
            let currency = feed["currency"].as_str().expect("feed currency");
            (amount, currency.to_owned())
        }
    };
    let pays = match row.get("sale_price").map(String::as_str) {
        Some(sale) if !sale.is_empty() => decimal(sale),
        _ => decimal(&row["price"]),
    };
    let holds = |name: &str| {
        parts
            .iter()
            .any(|p| p == name || p == "region_or_postal_code")
    };
    let rules = feed["shipping"]["rules"]
        .as_array()
        .expect("[[shipping.rules]]");
    let mut groups = Vec::new();
    for rule in rules.iter().map(|r| r.as_table().expect("rule table")) {
        let text = |key: &str| rule.get(key).and_then(toml::Value::as_str);
        let (price, currency) = split(&rule["price"]);
        if currency != row["currency"] {
            continue;
        }
        let free = rule
            .get("free_above")
            .is_some_and(|limit| pays >= split(limit).0);
        let area = ["region", "postal_code"]
            .into_iter()
            .find_map(|key| text(key).map(|value| (key, value)));
        if area.is_some_and(|(key, _)| !holds(key)) {
            continue;
        }
        let mut group = ShippingGroup::new();
        let mut put = |name: &str, value: String| {
            if parts.iter().any(|p| p == name) {
                group.insert(name.to_owned(), value);
            }
        };
        put("country", text("country").expect("country").to_owned());
        put("service", text("service").expect("service").to_owned());
        let price = if free {
            Decimal::ZERO.round_dp(2)
        } else {
            price
        };
        put("price", format!("{price:.2} {currency}"));
        for key in [
            "min_handling_time",
            "max_handling_time",
            "min_transit_time",
            "max_transit_time",
        ] {
            if let Some(days) = rule.get(key).and_then(toml::Value::as_integer) {
                put(key, days.to_string());
            }
        }
        if let Some((key, value)) = area {
            group.insert(key.to_owned(), value.to_owned());
        }
        groups.push(group);
    }
    groups
}

/// A group as the channel's text form writes it: `parts` joined with `:` (a postal code
/// in the region slot), trailing empty parts left off.
pub(crate) fn shipping_text(group: &ShippingGroup, parts: &[String]) -> String {
    let values: Vec<&str> = parts
        .iter()
        .map(|part| match part.as_str() {
            "region_or_postal_code" => group
                .get("region")
                .or_else(|| group.get("postal_code"))
                .map_or("", String::as_str),
            name => group.get(name).map_or("", String::as_str),
        })
        .collect();
    let used = values
        .iter()
        .rposition(|v| !v.is_empty())
        .map_or(0, |i| i + 1);
    values[..used].join(":")
}

//! Issue "Channel specs as files, feed definitions, and omnifeed export": every file the
//! bundled example writes is read back with an independent parser (roxmltree, feedparser, the
//! csv crate, Python's csv module, serde_json, JSON Schema) and checked field by field against
//! the catalog and the counts the export report gives.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::export_support::{
    Catalog, ShippingGroup, Spec, expected_shipping, export_json, feed_files, feed_report,
    is_amount_currency, records, shipping_text,
};
use crate::support::{TestEnv, python, shared};

const G_NS: &str = "http://base.google.com/ns/1.0";

fn example() -> (TestEnv, serde_json::Value, Catalog) {
    let env = TestEnv::with_example();
    let report = export_json(&env, "out", &[]);
    let catalog = Catalog::read(&env.path("examples/catalog"));
    (env, report, catalog)
}

/// One RSS item as (g: element name -> values).
type RssItem = HashMap<String, Vec<String>>;

fn read_rss(path: &Path) -> Vec<RssItem> {
    let text = std::fs::read_to_string(path).expect("read xml");
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|err| panic!("{} is well-formed XML: {err}", path.display()));
    let rss = doc.root_element();
    assert_eq!(rss.tag_name().name(), "rss");
    assert_eq!(rss.attribute("version"), Some("2.0"));
    assert_eq!(
        rss.lookup_namespace_uri(Some("g")),
        Some(G_NS),
        "prefix g is bound to the Google namespace"
    );
    let channel = rss
        .children()
        .find(|n| n.has_tag_name("channel"))
        .expect("<channel>");
    channel
        .children()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            let mut fields: RssItem = HashMap::new();
            for child in item.children().filter(roxmltree::Node::is_element) {
                assert_eq!(
                    child.tag_name().namespace(),
                    Some(G_NS),
                    "item element <{}> is in the g: namespace",
                    child.tag_name().name()
                );
                fields
                    .entry(child.tag_name().name().to_owned())
                    .or_default()
                    .push(child.text().unwrap_or_default().to_owned());
            }
            fields
        })
        .collect()
}

/// Each item's `<g:shipping>` groups, by `<g:id>`, read with roxmltree: the nested elements
/// in the g: namespace, by name.
fn read_rss_shipping(path: &Path) -> HashMap<String, Vec<ShippingGroup>> {
    let text = std::fs::read_to_string(path).expect("read xml");
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let g = |node: &roxmltree::Node<'_, '_>, name: &str| {
        node.is_element()
            && node.tag_name().namespace() == Some(G_NS)
            && node.tag_name().name() == name
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            let id = item
                .children()
                .find(|n| g(n, "id"))
                .and_then(|n| n.text())
                .expect("g:id")
                .to_owned();
            let groups = item
                .children()
                .filter(|n| g(n, "shipping"))
                .map(|shipping| {
                    shipping
                        .children()
                        .filter(roxmltree::Node::is_element)
                        .map(|part| {
                            assert_eq!(part.tag_name().namespace(), Some(G_NS), "part in g:");
                            let value = part.text().unwrap_or_default();
                            (part.tag_name().name().to_owned(), value.to_owned())
                        })
                        .collect()
                })
                .collect();
            (id, groups)
        })
        .collect()
}

/// The example feed definition `feeds/NAME.toml`, read with the toml crate.
fn feed_definition(env: &TestEnv, name: &str) -> toml::Table {
    env.read(&format!("feeds/{name}.toml"))
        .parse()
        .expect("feed definition is TOML")
}

fn one<'i>(item: &'i RssItem, name: &str) -> &'i str {
    let values = item
        .get(name)
        .unwrap_or_else(|| panic!("item has <g:{name}>: {item:?}"));
    assert_eq!(values.len(), 1, "one <g:{name}> in {item:?}");
    &values[0]
}

#[test]
fn google_rss_reads_back_with_roxmltree_and_matches_the_catalog() {
    let (env, report, catalog) = example();
    let entry = feed_report(&report, "google-shopping");
    let mut items = Vec::new();
    for file in feed_files(&env, entry) {
        items.extend(read_rss(&file));
    }
    assert_eq!(items.len(), records(entry), "items in the XML = records");
    assert!(!items.is_empty());
    let mut ids = BTreeSet::new();
    for item in &items {
        let id = one(item, "id");
        assert!(!id.is_empty());
        assert!(ids.insert(id.to_owned()), "id {id} appears once");
        let price = one(item, "price");
        assert!(is_amount_currency(price), "g:price `{price}` for {id}");
        assert_eq!(price, catalog.price_with_currency(id), "price of {id}");
        assert_eq!(
            one(item, "availability"),
            catalog.availability(id),
            "availability of {id} (warehouse stock {})",
            catalog.warehouse_stock(id)
        );
        assert_eq!(one(item, "title"), catalog.product(id)["title"]);
        assert_eq!(one(item, "link"), catalog.product(id)["link"]);
    }
    // Every catalog SKU is in the feed: it has no filters and the example has no errors.
    assert_eq!(ids.len(), catalog.products.len());
    // Shipping: nested <g:shipping> groups, the feed's rules in each item's currency, free
    // above the threshold; the example has free, paid and postal-code groups.
    let definition = feed_definition(&env, "google-shopping");
    let parts = Spec::shipped("google-merchant").parts("shipping");
    let mut shipping = HashMap::new();
    for file in feed_files(&env, entry) {
        shipping.extend(read_rss_shipping(&file));
    }
    let mut prices = BTreeSet::new();
    for id in &ids {
        let expected = expected_shipping(&definition, catalog.product(id), &parts);
        assert!(!expected.is_empty(), "{id} gets shipping");
        assert_eq!(shipping[id], expected, "g:shipping of {id}");
        prices.extend(expected.iter().map(|g| g["price"].starts_with("0.00 ")));
    }
    assert_eq!(prices.len(), 2, "free and paid shipping both occur");
    assert!(
        shipping
            .values()
            .flatten()
            .any(|g| g.contains_key("postal_code")),
        "a postal-code rule is written as g:postal_code"
    );
    // Both availability values occur, so the check above is not vacuous.
    let availability: BTreeSet<&str> = items.iter().map(|i| one(i, "availability")).collect();
    assert_eq!(
        availability,
        BTreeSet::from(["in_stock", "out_of_stock"]),
        "example has items in and out of stock"
    );
}

const FEEDPARSER: &str = r#"
import json, sys
import feedparser
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    if d.bozo:
        sys.exit("feedparser: %s is not well-formed: %r" % (path, d.bozo_exception))
    for e in d.entries:
        print(json.dumps([e.get("g_id"), e.get("g_price"), e.get("g_availability"), e.get("g_title")]))
"#;

/// feedparser flattens nested elements into the entry (`g_country`, `g_service`, …, the
/// last group's value winning), which is what it can tell about `<g:shipping>`.
const FEEDPARSER_SHIPPING: &str = r#"
import json, sys
import feedparser
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    if d.bozo:
        sys.exit("feedparser: %s is not well-formed: %r" % (path, d.bozo_exception))
    for e in d.entries:
        print(json.dumps([e.get("g_id"), "g_shipping" in e, e.get("g_country"), e.get("g_service"), e.get("g_postal_code"), e.get("g_max_transit_time")]))
"#;

#[test]
fn google_rss_shipping_reads_back_with_feedparser() {
    let (env, report, catalog) = example();
    let entry = feed_report(&report, "google-shopping");
    let files = feed_files(&env, entry);
    let args: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let definition = feed_definition(&env, "google-shopping");
    let parts = Spec::shipped("google-merchant").parts("shipping");
    let mut seen = 0;
    for line in python(FEEDPARSER_SHIPPING, &args).lines() {
        let (id, has_shipping, country, service, postal_code, max_transit): (
            String,
            bool,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = serde_json::from_str(line).expect("script prints JSON");
        let expected = expected_shipping(&definition, catalog.product(&id), &parts);
        let last = expected.last().expect("every item gets shipping");
        assert!(has_shipping, "feedparser sees g:shipping in {id}");
        assert_eq!(
            country.as_deref(),
            last.get("country").map(String::as_str),
            "{id}"
        );
        assert_eq!(
            service.as_deref(),
            last.get("service").map(String::as_str),
            "{id}"
        );
        let postal = expected.iter().find_map(|g| g.get("postal_code"));
        assert_eq!(postal_code.as_ref(), postal, "{id}: g:postal_code");
        assert_eq!(max_transit.as_ref(), last.get("max_transit_time"), "{id}");
        seen += 1;
    }
    assert_eq!(seen, records(entry), "feedparser entries = records");
}

#[test]
fn google_rss_reads_back_with_feedparser() {
    let (env, report, catalog) = example();
    let entry = feed_report(&report, "google-shopping");
    let files = feed_files(&env, entry);
    let args: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = python(FEEDPARSER, &args);
    let entries: Vec<[Option<String>; 4]> = out
        .lines()
        .map(|line| serde_json::from_str(line).expect("script prints JSON"))
        .collect();
    assert_eq!(
        entries.len(),
        records(entry),
        "feedparser entries = records"
    );
    let mut xml_items = Vec::new();
    for file in &files {
        xml_items.extend(read_rss(file));
    }
    for ([id, price, availability, title], item) in entries.iter().zip(&xml_items) {
        let id = id.as_deref().expect("feedparser sees g:id");
        assert_eq!(id, one(item, "id"), "same item order as roxmltree");
        let price = price.as_deref().expect("feedparser sees g:price");
        assert!(is_amount_currency(price), "g:price `{price}`");
        assert_eq!(price, catalog.price_with_currency(id));
        assert_eq!(availability.as_deref(), Some(catalog.availability(id)));
        assert_eq!(title.as_deref(), Some(one(item, "title")));
    }
}

/// Python's csv module reading the file with the given delimiter; rows as JSON.
const PY_CSV: &str = r#"
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.reader(f, delimiter=sys.argv[2]):
        print(json.dumps(row))
"#;

fn read_delimited(path: &Path, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(path)
        .expect("open feed");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|err| panic!("{}: {err}", path.display()))
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn delimited_feeds_read_back_with_csv_crate_and_python_csv() {
    let (env, report, catalog) = example();
    let mut checked = BTreeSet::new();
    let mut shipped = BTreeSet::new();
    for entry in report["feeds"].as_array().expect("feeds") {
        let format = entry["format"].as_str().expect("format");
        if format != "csv" && format != "tsv" {
            continue;
        }
        let feed = entry["feed"].as_str().expect("feed");
        let spec = Spec::shipped(entry["channel"].as_str().expect("channel"));
        let delimiter = spec.delimiter(format);
        let per_store = feed == "google-local-inventory";
        let mut total = 0;
        for file in feed_files(&env, entry) {
            let (header, rows) = read_delimited(&file, delimiter);
            assert_eq!(header, spec.header(format), "{feed}: header row");
            // Python's csv module sees the same table.
            let delimiter_arg = PathBuf::from((delimiter as char).to_string());
            let python_rows: Vec<Vec<String>> = python(PY_CSV, &[&file, &delimiter_arg])
                .lines()
                .map(|line| serde_json::from_str(line).expect("JSON row"))
                .collect();
            assert_eq!(python_rows[0], header, "{feed}: python header");
            assert_eq!(python_rows[1..], rows[..], "{feed}: python rows");
            let column = |name: &str| {
                header
                    .iter()
                    .position(|h| h == name)
                    .unwrap_or_else(|| panic!("{feed}: column {name}"))
            };
            let id = column(&spec.field_from("sku").expect("a field from sku"));
            let price = column("price");
            let availability = spec.field_from("availability").map(|name| column(&name));
            // Shipping in the channel's text form: groups joined with `,`, parts with `:`.
            let shipping = header.iter().position(|h| h == "shipping").map(|index| {
                let definition = feed_definition(&env, feed);
                (index, definition, spec.parts("shipping"))
            });
            for row in &rows {
                if let Some((index, definition, parts)) = &shipping {
                    let expected: Vec<String> =
                        expected_shipping(definition, catalog.product(&row[id]), parts)
                            .iter()
                            .map(|group| shipping_text(group, parts))
                            .collect();
                    assert!(!expected.is_empty(), "{feed}: {} gets shipping", row[id]);
                    assert_eq!(
                        row[*index],
                        expected.join(","),
                        "{feed}: shipping of {}",
                        row[id]
                    );
                    shipped.insert(feed.to_owned());
                }
                assert_eq!(row.len(), header.len(), "{feed}: row width");
                let sku = &row[id];
                assert!(!sku.is_empty(), "{feed}: row has an id");
                assert_eq!(
                    row[price],
                    catalog.price_with_currency(sku),
                    "{feed}: price of {sku}"
                );
                if let (Some(availability), false) = (availability, per_store) {
                    assert_eq!(
                        row[availability],
                        spec.spell("availability", catalog.availability(sku)),
                        "{feed}: availability of {sku}"
                    );
                }
            }
            total += rows.len();
        }
        assert_eq!(total, records(entry), "{feed}: rows = records");
        checked.insert(feed.to_owned());
    }
    assert_eq!(
        checked,
        BTreeSet::from(
            [
                "google-local-inventory",
                "meta-catalog",
                "microsoft-shopping",
                "pinterest",
                "tiktok"
            ]
            .map(str::to_owned)
        ),
        "every delimited example feed was read back"
    );
    assert_eq!(
        shipped,
        BTreeSet::from(["meta-catalog", "microsoft-shopping"].map(str::to_owned)),
        "the example feeds with shipping rules carry them in their text form"
    );
}

#[test]
fn local_inventory_quantities_are_store_stock_minus_the_feed_buffer() {
    let (env, report, catalog) = example();
    let feed = env.read("feeds/google-local-inventory.toml");
    let buffer: i64 = feed.parse::<toml::Table>().expect("feed is TOML")["stock"]["buffer"]
        .as_integer()
        .expect("example feed sets a buffer");
    assert!(buffer > 0, "the example holds units back");
    let entry = feed_report(&report, "google-local-inventory");
    let mut seen = 0;
    let mut held_back = 0;
    for file in feed_files(&env, entry) {
        let (header, rows) = read_delimited(&file, b'\t');
        let column = |name: &str| header.iter().position(|h| h == name).expect(name);
        let (store, id, quantity) = (column("store_code"), column("id"), column("quantity"));
        for row in rows {
            let stock = catalog.store_stock(&row[id], &row[store]);
            let expected = (stock - buffer).max(0);
            assert_eq!(
                row[quantity].parse::<i64>().expect("integer quantity"),
                expected,
                "store {} SKU {}: stock {stock} minus buffer {buffer}",
                row[store],
                row[id]
            );
            held_back += i64::from(stock > 0);
            seen += 1;
        }
    }
    assert_eq!(seen, records(entry));
    assert!(held_back > 0, "some stores have stock, so the buffer shows");
}

#[test]
fn jsonl_feed_reads_back_line_by_line() {
    let (env, report, catalog) = example();
    let entry = feed_report(&report, "openai");
    let spec = Spec::shipped("openai");
    let mut lines = 0;
    for file in feed_files(&env, entry) {
        // OpenAI takes gzipped files only, so the spec gzips them by default (#15).
        assert!(
            file.to_string_lossy().ends_with(".jsonl.gz"),
            "{}",
            file.display()
        );
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&file).expect("open jsonl.gz")),
            &mut text,
        )
        .expect("read jsonl.gz");
        for line in text.lines() {
            let item: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|err| panic!("line {line}: {err}"));
            let sku = item["item_id"].as_str().expect("item_id");
            assert_eq!(item["price"], catalog.price_with_currency(sku), "{sku}");
            assert_eq!(
                item["availability"],
                spec.spell("availability", catalog.availability(sku)),
                "{sku}"
            );
            assert_eq!(item["title"], catalog.product(sku)["title"]);
            lines += 1;
        }
    }
    assert_eq!(lines, records(entry), "lines = records");
}

const PY_JSONSCHEMA: &str = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
for path in sys.argv[2:]:
    jsonschema.Draft7Validator(schema).validate(json.load(open(path)))
print("ok")
"#;

#[test]
fn amazon_feed_validates_against_the_listings_feed_schema() {
    let (env, report, catalog) = example();
    let entry = feed_report(&report, "amazon-listings");
    let schema_path = shared("reference/amazon-listings-feed-schema/listings-feed-schema-v2.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("schema"))
            .expect("schema is JSON");
    let validator = jsonschema::draft7::new(&schema).expect("schema compiles");
    let files = feed_files(&env, entry);
    let mut messages = 0;
    for file in &files {
        let document: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("read json"))
                .expect("one JSON document");
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        for (index, message) in document["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .enumerate()
        {
            assert_eq!(message["messageId"], index + 1, "running message ids");
            let sku = message["sku"].as_str().expect("sku");
            let row = catalog.product(sku);
            assert_eq!(row["currency"], "EUR", "the feed keeps EUR items only");
            assert_eq!(row["condition"], "new", "the feed keeps new items only");
            messages += 1;
        }
    }
    assert_eq!(messages, records(entry), "messages = records");
    // Python's jsonschema agrees.
    let mut args = vec![schema_path.as_path()];
    args.extend(files.iter().map(PathBuf::as_path));
    assert_eq!(python(PY_JSONSCHEMA, &args).trim(), "ok");
}

//! Issue #13: shop presets read their exports as a stream, one product at a time, and
//! make exactly the feed the whole-file reader made before.
//!
//! Each shop fixture is scaled up into a larger generated export (ten renamed copies of
//! every product) in the orders that test the streaming: WooCommerce variations and
//! Magento children spread round-robin over more parents than the reader keeps at once,
//! with every parent row after all its children, so parents are read back from the file;
//! Shopify and Magento with CRLF line ends (parents are found again by byte offset). The
//! Google feed and the findings must equal the goldens in `tests/fixtures/shops/streamed/`,
//! written by the whole-file reader (commit 8063aaf) from
//! the same generated exports. To write them again from a build (after a deliberate change
//! to the feed): `OMNIFEED_WRITE_GOLDEN=1 cargo test --test cli preset_streaming`, and
//! `OMNIFEED_GOLDEN_BIN=PATH` to run another omnifeed binary.

use std::collections::BTreeMap;

use crate::support::{TestEnv, repo_root};

/// Copies of each product in the generated exports.
const COPIES: usize = 10;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures/shops").join(name)).expect("read fixture")
}

/// The export's header (with a byte order mark when it had one) and records.
fn parse(bytes: &[u8]) -> (bool, csv::StringRecord, Vec<csv::StringRecord>) {
    let bom = bytes.starts_with(b"\xef\xbb\xbf");
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = reader.headers().expect("header").clone();
    let records = reader
        .records()
        .map(|record| record.expect("fixture record"))
        .collect();
    (bom, header, records)
}

fn write_csv(
    bom: bool,
    header: &csv::StringRecord,
    records: &[csv::StringRecord],
    terminator: csv::Terminator,
) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(b"\xef\xbb\xbf");
    }
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(terminator)
        .from_writer(&mut out);
    writer.write_record(header).expect("write header");
    for record in records {
        writer.write_record(record).expect("write record");
    }
    writer.flush().expect("flush");
    drop(writer);
    out
}

/// `record` with `edit(column, value)` applied to every cell.
fn edited(
    header: &csv::StringRecord,
    record: &csv::StringRecord,
    edit: impl Fn(&str, &str) -> String,
) -> csv::StringRecord {
    record
        .iter()
        .enumerate()
        .map(|(i, value)| edit(header.get(i).unwrap_or(""), value))
        .collect()
}

/// A renamed copy's name: empty stays empty.
fn copy_of(value: &str, copy: usize) -> String {
    if value.is_empty() {
        String::new()
    } else {
        format!("{value}-c{copy}")
    }
}

/// Round-robin over the copies: the first row of every copy, then the second of each…
fn interleave(copies: Vec<Vec<csv::StringRecord>>) -> Vec<csv::StringRecord> {
    let longest = copies.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| copies.iter().filter_map(move |copy| copy.get(i).cloned()))
        .collect()
}

fn shopify_export() -> Vec<u8> {
    let (bom, header, records) = parse(&fixture("shopify_products_export.csv"));
    let mut out = Vec::new();
    for copy in 0..COPIES {
        // Handles stay together, as Shopify writes them.
        out.extend(records.iter().map(|record| {
            edited(&header, record, |column, value| match column {
                "Handle" | "Variant SKU" => copy_of(value, copy),
                _ => value.to_owned(),
            })
        }));
    }
    write_csv(bom, &header, &out, csv::Terminator::CRLF)
}

fn woocommerce_export() -> Vec<u8> {
    let (bom, header, records) = parse(&fixture("woocommerce_product_export.csv"));
    let is_parent = |record: &csv::StringRecord| {
        let kind = header.iter().position(|h| h == "Type").expect("Type");
        record.get(kind).unwrap_or("").contains("variable")
    };
    let mut parents = Vec::new();
    let mut others = Vec::new();
    for copy in 0..COPIES {
        let renamed: Vec<csv::StringRecord> = records
            .iter()
            .map(|record| {
                edited(&header, record, |column, value| match column {
                    "ID" if !value.is_empty() => format!(
                        "{}",
                        value.parse::<u64>().expect("numeric ID") + 1000 * copy as u64
                    ),
                    "SKU" => copy_of(value, copy),
                    "Parent" => match value.strip_prefix("id:") {
                        Some(id) => format!(
                            "id:{}",
                            id.trim().parse::<u64>().expect("numeric parent") + 1000 * copy as u64
                        ),
                        None => copy_of(value, copy),
                    },
                    _ => value.to_owned(),
                })
            })
            .collect();
        parents.extend(renamed.iter().filter(|r| is_parent(r)).cloned());
        others.push(renamed.into_iter().filter(|r| !is_parent(r)).collect());
    }
    // Every variable product after all variations: each is read back when needed.
    let mut out = interleave(others);
    out.extend(parents);
    write_csv(bom, &header, &out, csv::Terminator::Any(b'\n'))
}

fn magento_export() -> Vec<u8> {
    let (bom, header, records) = parse(&fixture("magento2_catalog_product.csv"));
    let kind = header
        .iter()
        .position(|h| h == "product_type")
        .expect("product_type");
    let mut parents = Vec::new();
    let mut others = Vec::new();
    for copy in 0..COPIES {
        let renamed: Vec<csv::StringRecord> = records
            .iter()
            .map(|record| {
                edited(&header, record, |column, value| match column {
                    "sku" | "url_key" => copy_of(value, copy),
                    "configurable_variations" => value
                        .split('|')
                        .map(|variation| {
                            variation
                                .split(',')
                                .map(|pair| match pair.strip_prefix("sku=") {
                                    Some(sku) => format!("sku={}", copy_of(sku, copy)),
                                    None => pair.to_owned(),
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .collect::<Vec<_>>()
                        .join("|"),
                    _ => value.to_owned(),
                })
            })
            .collect();
        let parent = |r: &csv::StringRecord| r.get(kind) == Some("configurable");
        parents.extend(renamed.iter().filter(|r| parent(r)).cloned());
        others.push(renamed.into_iter().filter(|r| !parent(r)).collect());
    }
    let mut out = interleave(others);
    out.extend(parents);
    write_csv(bom, &header, &out, csv::Terminator::CRLF)
}

/// Runs omnifeed (or `OMNIFEED_GOLDEN_BIN`) in the project.
fn run(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let binary = std::env::var("OMNIFEED_GOLDEN_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_omnifeed").to_owned());
    std::process::Command::new(binary)
        .current_dir(env.path(""))
        .args(args)
        .output()
        .expect("run omnifeed")
}

/// A project made by `init` on the fixture, its export then replaced by the generated one.
fn project(fixture_name: &str, export: Vec<u8>, extra: &[&str]) -> TestEnv {
    let env = TestEnv::new();
    let file = format!("export/{fixture_name}");
    env.write(&file, fixture(fixture_name));
    let mut args = vec![
        "init",
        file.as_str(),
        "--channels",
        "google-merchant",
        "--currency",
        "EUR",
        "--country",
        "DE",
        "--language",
        "en",
    ];
    args.extend_from_slice(extra);
    let init = run(&env, &args);
    assert_eq!(init.status.code(), Some(1), "{init:?}");
    env.write(&file, export);
    env
}

/// What the run made: the Google feed, and each finding as `rule line sku field`.
fn outcome(env: &TestEnv) -> (String, String) {
    let validate = run(env, &["validate", "--format", "json"]);
    assert_eq!(validate.status.code(), Some(1), "{validate:?}");
    let report: serde_json::Value =
        serde_json::from_slice(&validate.stdout).expect("validate JSON");
    let mut findings = String::new();
    for finding in report["diagnostics"].as_array().expect("diagnostics") {
        let text = |key: &str| match &finding[key] {
            serde_json::Value::Null => "-".to_owned(),
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        findings.push_str(&format!(
            "{} {} {} {}\n",
            text("rule"),
            text("line"),
            text("sku"),
            text("field")
        ));
    }
    findings.push_str(&format!("summary {}\n", report["summary"]));
    let export = run(env, &["export"]);
    assert_eq!(export.status.code(), Some(1), "{export:?}");
    (
        env.read("out/google-merchant/google-merchant.tsv"),
        findings,
    )
}

fn check(preset: &str, env: &TestEnv) {
    let (feed, findings) = outcome(env);
    let golden = repo_root().join("tests/fixtures/shops/streamed");
    let feed_path = golden.join(format!("{preset}.tsv"));
    let findings_path = golden.join(format!("{preset}.findings"));
    if std::env::var_os("OMNIFEED_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(&golden).expect("golden folder");
        std::fs::write(&feed_path, &feed).expect("write golden feed");
        std::fs::write(&findings_path, &findings).expect("write golden findings");
        return;
    }
    let expected_feed = std::fs::read_to_string(&feed_path).expect("golden feed");
    let expected_findings = std::fs::read_to_string(&findings_path).expect("golden findings");
    let lines = |text: &str| -> BTreeMap<usize, String> {
        text.lines().map(str::to_owned).enumerate().collect()
    };
    if feed != expected_feed {
        let (got, want) = (lines(&feed), lines(&expected_feed));
        let first = (0..got.len().max(want.len()))
            .find(|i| got.get(i) != want.get(i))
            .unwrap_or(0);
        panic!(
            "{preset}: the Google feed differs from the whole-file reader's, first at line {}:\n got: {:?}\nwant: {:?}",
            first + 1,
            got.get(&first),
            want.get(&first)
        );
    }
    assert_eq!(findings, expected_findings, "{preset}: findings differ");
    // The generated export has every product ten times.
    assert!(
        feed.lines().count() > 2 * COPIES,
        "{preset}: {} lines",
        feed.lines().count()
    );
}

#[test]
fn streamed_shopify_export_makes_the_same_feed_as_the_whole_file_reader() {
    let env = project(
        "shopify_products_export.csv",
        shopify_export(),
        &["--base-url", "https://shop.example.com"],
    );
    check("shopify", &env);
}

#[test]
fn streamed_woocommerce_export_makes_the_same_feed_as_the_whole_file_reader() {
    let env = project(
        "woocommerce_product_export.csv",
        woocommerce_export(),
        &["--base-url", "https://woo.example.com"],
    );
    check("woocommerce", &env);
}

#[test]
fn streamed_magento_export_makes_the_same_feed_as_the_whole_file_reader() {
    let env = project(
        "magento2_catalog_product.csv",
        magento_export(),
        &["--base-url", "https://magento.example.com"],
    );
    check("magento2", &env);
}

const SHOPIFY_HEADER: &str = "Handle,Title,Body (HTML),Vendor,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Variant Price,Variant Barcode,Image Src,Status\n";

/// A project reading `export` (a Shopify product CSV) with a Google TSV feed.
fn shopify_project(export: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"export\"\n[catalog.products]\nfile = \"products_export.csv\"\npreset = \"shopify\"\nbase_url = \"https://shop.example.com\"\n[defaults]\ncurrency = \"EUR\"\n",
    );
    env.write(
        "feeds/google.toml",
        crate::support::dir_feed(
            "google-merchant",
            "tsv",
            "country = \"DE\"\nlanguage = \"en\"",
        ),
    );
    env.write(
        "export/products_export.csv",
        format!("{SHOPIFY_HEADER}{export}"),
    );
    env
}

const IMAGE: &str = "https://cdn.example.com/p.jpg";

fn shopify_row(handle: &str, first: bool, sku: &str, extra: &str) -> String {
    let product = if first {
        format!("{handle} tee,Soft.,Acme,Size")
    } else {
        ",,,".to_owned()
    };
    let status = if first { "active" } else { "" };
    format!("{handle},{product},{sku},{sku},{extra},19.00,,{IMAGE},{status}\n")
}

/// Shopify writes a product's rows together. Rows of a handle that come back after other
/// products cannot be joined without holding the whole export: a clear error naming both
/// lines, before anything is checked or written.
#[test]
fn a_shopify_handle_that_comes_back_later_is_an_error_naming_both_lines() {
    let env = shopify_project(&format!(
        "{}{}{}",
        shopify_row("tee", true, "TEE-S", "shopify,3,deny"),
        shopify_row("cap", true, "CAP-M", "shopify,3,deny"),
        shopify_row("tee", false, "TEE-L", "shopify,3,deny"),
    ));
    let run = env.run(&["validate"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("products_export.csv")
            && stderr.contains("handle `tee` start at line 2")
            && stderr.contains("at line 4"),
        "{stderr}"
    );
    assert!(stderr.contains("sort the rows by Handle"), "{stderr}");
    let run = env.run(&["export"]);
    run.expect_code(2);
    let written = std::fs::read_dir(env.path("out"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(written, 0, "nothing written");
}

/// `Variant Inventory Policy = continue`: the shop sells the variant when none is left.
/// The rows carry the catalog field `backorder_allowed = true` (a feed can template on
/// it); availability still follows the stock, since a backorder needs an availability
/// date, which the export does not have.
#[test]
fn shopify_continue_policy_marks_backorder_allowed() {
    let env = shopify_project(&format!(
        "{}{}{}{}{}",
        shopify_row("tee", true, "TEE-S", "shopify,0,continue"),
        shopify_row("tee", false, "TEE-M", "shopify,-2,continue"),
        shopify_row("tee", false, "TEE-L", "shopify,5,continue"),
        shopify_row("tee", false, "TEE-XL", "shopify,0,deny"),
        shopify_row("tee", false, "TEE-XXL", ",0,continue"),
    ));
    env.write(
        "feeds/backorder.toml",
        crate::support::dir_feed(
            "google-merchant",
            "tsv",
            "country = \"DE\"\nlanguage = \"en\"\n[fields]\ncustom_label_0 = \"{{ backorder_allowed }}\"",
        ),
    );
    env.run(&["export"]).expect_code(0);
    let column = |file: &str, name: &str| -> BTreeMap<String, String> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .from_path(env.path(&format!("out/{file}")))
            .expect("feed");
        let header = reader.headers().expect("header").clone();
        let id = header.iter().position(|h| h == "id").expect("id");
        let wanted = header.iter().position(|h| h == name).expect(name);
        reader
            .records()
            .map(|r| {
                let r = r.expect("record");
                (r[id].to_owned(), r[wanted].to_owned())
            })
            .collect()
    };
    let all = column("google.tsv", "availability");
    assert_eq!(all["TEE-S"], "out_of_stock", "{all:?}");
    assert_eq!(all["TEE-M"], "out_of_stock", "{all:?}");
    assert_eq!(all["TEE-L"], "in_stock", "{all:?}");
    assert_eq!(all["TEE-XL"], "out_of_stock", "{all:?}");
    // Untracked: sold as listed.
    assert_eq!(all["TEE-XXL"], "in_stock", "{all:?}");
    let allowed: Vec<String> = column("backorder.tsv", "custom_label_0")
        .into_iter()
        .filter(|(_, flag)| flag == "true")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        allowed,
        ["TEE-L", "TEE-M", "TEE-S", "TEE-XXL"],
        "only the continue rows have backorder_allowed = true"
    );
}

/// A preset reads its export more than once; an export given through a pipe (a FIFO) is
/// copied aside first and read like a file.
#[cfg(unix)]
#[test]
fn a_piped_shop_export_is_read_like_a_file() {
    let env = shopify_project(&shopify_row("tee", true, "TEE-S", "shopify,3,deny"));
    let export = std::fs::read(env.path("export/products_export.csv")).expect("export");
    let file = env.read("export/products_export.csv");
    env.run(&["export"]).expect_code(0);
    let from_file = env.read("out/google.tsv");
    std::fs::remove_file(env.path("export/products_export.csv")).expect("remove");
    std::fs::remove_dir_all(env.path("out")).expect("remove out");
    let fifo = env.path("export/products_export.csv");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let writer = std::thread::spawn(move || std::fs::write(fifo, export).expect("write fifo"));
    env.run(&["export"]).expect_code(0);
    writer.join().expect("writer");
    assert_eq!(env.read("out/google.tsv"), from_file, "{file}");
}

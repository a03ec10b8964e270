//! Issue #15: channel rules as the channels enforce them. For each rule an item the channel
//! takes and one it refuses, through the binary: what the written feed holds, or the
//! finding that leaves the item out.

use std::collections::HashMap;
use std::io::Read;

use crate::support::{TestEnv, dir_feed, table};

/// Every catalog column these tests use; a row gives the ones it needs.
const COLUMNS: &[&str] = &[
    "sku",
    "title",
    "price",
    "currency",
    "link",
    "image_link",
    "description",
    "brand",
    "gtin",
    "mpn",
    "condition",
    "google_product_category",
    "color",
    "size",
    "gender",
    "age_group",
    "availability",
    "availability_date",
    "instore_product_location",
];

/// A products file: every row has a title, price, links and description unless it says
/// otherwise.
fn products(rows: &[&[(&str, &str)]]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).expect("header");
    for row in rows {
        let sku = row
            .iter()
            .find(|(k, _)| *k == "sku")
            .map(|(_, v)| *v)
            .expect("sku");
        let defaults: HashMap<&str, String> = [
            ("title", format!("Item {sku}")),
            ("price", "10.00".to_owned()),
            ("currency", "EUR".to_owned()),
            ("link", format!("https://shop.example.com/p/{sku}")),
            ("image_link", format!("https://cdn.example.com/{sku}.png")),
            ("description", "A plain description".to_owned()),
            ("condition", "new".to_owned()),
        ]
        .into_iter()
        .collect();
        let record: Vec<String> = COLUMNS
            .iter()
            .map(|column| {
                row.iter()
                    .find(|(k, _)| k == column)
                    .map(|(_, v)| (*v).to_owned())
                    .or_else(|| defaults.get(column).cloned())
                    .unwrap_or_default()
            })
            .collect();
        writer.write_record(&record).expect("row");
    }
    String::from_utf8(writer.into_inner().expect("flush")).expect("utf-8")
}

fn project(rows: &[&[(&str, &str)]]) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write("cat/products.csv", products(rows));
    env
}

/// (sku, field, severity, message) of the findings with `rule`.
fn findings(report: &serde_json::Value, rule: &str) -> Vec<(String, String, String, String)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            let text = |key: &str| d[key].as_str().unwrap_or_default().to_owned();
            (
                text("sku"),
                text("field"),
                text("severity"),
                text("message"),
            )
        })
        .collect()
}

/// Exports every feed of `env` and returns the JSON report.
fn export(env: &TestEnv, code: i32) -> serde_json::Value {
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(code);
    run.json()
}

/// A GTIN with `body` (all digits but the check digit) and its GS1 check digit.
fn gtin(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

#[test]
fn google_exempts_the_listed_accessories_from_gender_and_age_group() {
    let env = project(&[
        // Keychains (175) and Lanyards (6277): neither gender nor age group needed.
        &[
            ("sku", "KEYCHAIN"),
            ("google_product_category", "175"),
            ("color", "Silver"),
        ],
        &[
            ("sku", "LANYARD"),
            ("google_product_category", "6277"),
            ("color", "Blue"),
        ],
        // Cufflinks (193): exempt from age group only, so gender is still needed.
        &[
            ("sku", "CUFFLINKS-OK"),
            ("google_product_category", "193"),
            ("color", "Gold"),
            ("gender", "male"),
        ],
        &[
            ("sku", "CUFFLINKS-NO-GENDER"),
            ("google_product_category", "193"),
            ("color", "Gold"),
        ],
        // A handbag (Apparel & Accessories, not exempt) needs both.
        &[
            ("sku", "HANDBAG"),
            ("google_product_category", "3032"),
            ("color", "Black"),
        ],
    ]);
    env.write("feeds/google.toml", dir_feed("google-merchant", "tsv", ""));
    let report = export(&env, 1);
    let feed = table(&env.read("out/google.tsv"), b'\t', "id");
    for sku in ["KEYCHAIN", "LANYARD", "CUFFLINKS-OK"] {
        assert!(feed.contains_key(sku), "{sku} is in the feed: {feed:?}");
    }
    assert_eq!(feed["KEYCHAIN"]["gender"], "");
    assert_eq!(feed["CUFFLINKS-OK"]["age_group"], "");
    let missing: Vec<(String, String)> = findings(&report, "feed.missing-required")
        .into_iter()
        .map(|(sku, field, severity, _)| {
            assert_eq!(severity, "error");
            (sku, field)
        })
        .collect();
    assert_eq!(
        missing,
        [
            ("CUFFLINKS-NO-GENDER".to_owned(), "gender".to_owned()),
            ("HANDBAG".to_owned(), "gender".to_owned()),
            ("HANDBAG".to_owned(), "age_group".to_owned()),
        ]
    );
}

#[test]
fn google_refuses_restricted_and_coupon_gtin_prefixes_naming_the_restriction() {
    let accepted = "4006381333931";
    let restricted = gtin("200123456789"); // EAN-13 starting with 2
    let upc_restricted = gtin("40012345678"); // UPC 4… is GTIN-13 04…
    let upc_nine = gtin("99012345678"); // UPC 9… is GTIN-13 09…, a prefix Google does not list
    let coupon_ean = gtin("981234567890"); // EAN-13 98…
    let upc_coupon = gtin("51234567890"); // UPC 5… is GTIN-13 05…
    let env = project(&[
        &[("sku", "OK"), ("gtin", accepted), ("brand", "Acme")],
        &[("sku", "R2"), ("gtin", &restricted), ("brand", "Acme")],
        &[("sku", "R04"), ("gtin", &upc_restricted), ("brand", "Acme")],
        &[("sku", "UPC9"), ("gtin", &upc_nine), ("brand", "Acme")],
        &[("sku", "C98"), ("gtin", &coupon_ean), ("brand", "Acme")],
        &[("sku", "C05"), ("gtin", &upc_coupon), ("brand", "Acme")],
    ]);
    env.write("feeds/google.toml", dir_feed("google-merchant", "tsv", ""));
    env.write("feeds/meta.toml", dir_feed("meta-catalog", "csv", ""));
    let report = export(&env, 1);
    let feed = table(&env.read("out/google.tsv"), b'\t', "id");
    let mut written: Vec<&str> = feed.keys().map(String::as_str).collect();
    written.sort_unstable();
    assert_eq!(written, ["OK", "UPC9"]);
    assert_eq!(feed["OK"]["gtin"], accepted);
    let refused = findings(&report, "feed.invalid-value");
    let message = |sku: &str| {
        refused
            .iter()
            .find(|(s, field, severity, _)| s == sku && field == "gtin" && severity == "error")
            .map(|(_, _, _, message)| message.clone())
            .unwrap_or_else(|| panic!("{sku} refused: {refused:?}"))
    };
    for sku in ["R2", "R04"] {
        let text = message(sku);
        assert!(
            text.contains("restricted-circulation") && text.contains("Google refuses"),
            "{text}"
        );
    }
    for sku in ["C98", "C05"] {
        let text = message(sku);
        assert!(
            text.contains("coupon") && text.contains("Google refuses"),
            "{text}"
        );
    }
    // Meta states no such restriction: every item goes out there.
    let meta = table(&env.read("out/meta.csv"), b',', "id");
    assert_eq!(meta.len(), 6, "{meta:?}");
}

#[test]
fn google_colour_takes_three_parts_of_forty_characters_without_commas() {
    let long = "A".repeat(41);
    let env = project(&[
        &[("sku", "THREE"), ("color", "Red/Green/Blue")],
        &[("sku", "FOUR"), ("color", "Red/Green/Blue/Black")],
        &[("sku", "COMMA"), ("color", "Red, Green")],
        &[("sku", "LONG"), ("color", &format!("Red/{long}"))],
    ]);
    env.write("feeds/google.toml", dir_feed("google-merchant", "tsv", ""));
    let report = export(&env, 1);
    let feed = table(&env.read("out/google.tsv"), b'\t', "id");
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed["THREE"]["color"], "Red/Green/Blue");
    let refused = findings(&report, "feed.invalid-value");
    let about = |sku: &str, needle: &str| {
        assert!(
            refused.iter().any(|(s, field, severity, message)| s == sku
                && field == "color"
                && severity == "error"
                && message.contains(needle)),
            "{sku}: {needle} in {refused:?}"
        );
    };
    about("FOUR", "4 parts joined by `/`; at most 3");
    about("COMMA", "holds `,`");
    about("LONG", "41 characters; each part takes 1 to 40");
}

#[test]
fn google_refuses_an_availability_date_more_than_a_year_ahead() {
    // Counted from the run's time, which `--now` sets.
    let env = project(&[
        &[
            ("sku", "SOON"),
            ("availability", "preorder"),
            ("availability_date", "2027-05-31T12:00:00Z"),
        ],
        &[
            ("sku", "LATE"),
            ("availability", "preorder"),
            ("availability_date", "2027-06-03T00:00:00Z"),
        ],
    ]);
    env.write("feeds/google.toml", dir_feed("google-merchant", "tsv", ""));
    let run = env.run(&[
        "export",
        "--format",
        "json",
        "--now",
        "2026-06-01T00:00:00Z",
    ]);
    run.expect_code(1);
    let report = run.json();
    let feed = table(&env.read("out/google.tsv"), b'\t', "id");
    assert_eq!(feed.len(), 1, "{feed:?}");
    assert_eq!(feed["SOON"]["availability"], "preorder");
    assert!(feed["SOON"]["availability_date"].starts_with("2027-05-31"));
    let refused = findings(&report, "feed.invalid-value");
    assert!(
        refused
            .iter()
            .any(|(sku, field, severity, message)| sku == "LATE"
                && field == "availability_date"
                && severity == "error"
                && message.contains("more than 365 days ahead")
                && message.contains("up to 2027-06-01")),
        "{refused:?}"
    );
    // A year later the same date is near enough.
    let run = env.run(&["export", "--now", "2027-01-01T00:00:00Z"]);
    run.expect_code(0);
    assert_eq!(table(&env.read("out/google.tsv"), b'\t', "id").len(), 2);
}

/// A local inventory project: store A has stock, store B has none, for every item.
fn stores_project(rows: &[&[(&str, &str)]]) -> TestEnv {
    let env = project(rows);
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nA,store,Store A,store-a\nB,store,Store B,store-b\n",
    );
    let mut inventory = String::from("sku,location_id,quantity\n");
    for row in rows {
        let sku = row.iter().find(|(k, _)| *k == "sku").expect("sku").1;
        inventory.push_str(&format!("{sku},A,3\n{sku},B,0\n"));
    }
    env.write("cat/inventory.csv", inventory);
    env
}

/// (store code, id) -> record of a local inventory TSV.
fn local_records(text: &str) -> HashMap<(String, String), HashMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("record");
            let row: HashMap<String, String> = header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            ((row["store_code"].clone(), row["id"].clone()), row)
        })
        .collect()
}

#[test]
fn availability_maps_never_leak_a_value_the_channel_refuses() {
    let date = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * 20))
        .expect("date")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let env = stores_project(&[
        &[
            ("sku", "BACK"),
            ("availability", "backorder"),
            ("availability_date", &date),
        ],
        &[
            ("sku", "PRE"),
            ("availability", "preorder"),
            ("availability_date", &date),
        ],
        // The web shop is sold out; store A still has three on the shelf.
        &[("sku", "GONE"), ("availability", "out_of_stock")],
    ]);
    env.write("feeds/pinterest.toml", dir_feed("pinterest", "csv", ""));
    env.write("feeds/bing.toml", dir_feed("microsoft-merchant", "tsv", ""));
    env.write(
        "feeds/local.toml",
        dir_feed("google-local-inventory", "tsv", ""),
    );
    export(&env, 0);

    let pinterest = table(&env.read("out/pinterest.csv"), b',', "id");
    assert_eq!(pinterest["BACK"]["availability"], "preorder");
    assert_eq!(pinterest["PRE"]["availability"], "preorder");
    assert_eq!(pinterest["GONE"]["availability"], "out of stock");
    let bing = table(&env.read("out/bing.tsv"), b'\t', "id");
    assert_eq!(bing["BACK"]["availability"], "preorder");

    let local = local_records(&env.read("out/local.tsv"));
    let availability =
        |store: &str, sku: &str| local[&(store.to_owned(), sku.to_owned())]["availability"].clone();
    // A store with stock sells it, whatever the web shop says; a preorder waits for release.
    assert_eq!(availability("store-a", "GONE"), "in_stock");
    assert_eq!(availability("store-a", "BACK"), "in_stock");
    assert_eq!(availability("store-b", "GONE"), "out_of_stock");
    assert_eq!(availability("store-b", "BACK"), "out_of_stock");
    assert_eq!(availability("store-a", "PRE"), "out_of_stock");
    let allowed = [
        "in_stock",
        "limited_availability",
        "on_display_to_order",
        "out_of_stock",
    ];
    assert!(
        local
            .values()
            .all(|row| allowed.contains(&row["availability"].as_str())),
        "{local:?}"
    );
}

#[test]
fn an_unconfirmed_enum_keeps_the_item_but_never_sends_a_value_outside_its_list() {
    let env = project(&[&[("sku", "S1")], &[("sku", "S2"), ("gender", "female")]]);
    // Pinterest's gender is unconfirmed: a template that writes a value off its list.
    env.write(
        "feeds/pinterest.toml",
        dir_feed(
            "pinterest",
            "csv",
            "[fields]\ngender = \"{% if gender %}{{ gender }}{% else %}women{% endif %}\"",
        ),
    );
    let report = export(&env, 0);
    let feed = table(&env.read("out/pinterest.csv"), b',', "id");
    assert_eq!(feed["S1"]["gender"], "", "`women` is not sent");
    assert_eq!(feed["S2"]["gender"], "female");
    let warned = findings(&report, "feed.invalid-value");
    assert!(
        warned
            .iter()
            .any(|(sku, field, severity, message)| sku == "S1"
                && field == "gender"
                && severity == "warning"
                && message.contains("not sent")),
        "{warned:?}"
    );
}

#[test]
fn local_inventory_counts_the_store_location_in_bytes() {
    let env = stores_project(&[
        &[
            ("sku", "ASCII"),
            ("instore_product_location", "Aisle 7, shelf 3"),
        ],
        // 20 characters, 23 bytes in UTF-8.
        &[
            ("sku", "UMLAUT"),
            ("instore_product_location", "Gänge 7 über Regal ö"),
        ],
    ]);
    env.write(
        "feeds/local.toml",
        dir_feed("google-local-inventory", "tsv", ""),
    );
    let report = export(&env, 1);
    let local = local_records(&env.read("out/local.tsv"));
    assert!(local.keys().all(|(_, sku)| sku == "ASCII"), "{local:?}");
    assert_eq!(
        local[&("store-a".to_owned(), "ASCII".to_owned())]["instore_product_location"],
        "Aisle 7, shelf 3"
    );
    let refused = findings(&report, "feed.too-long");
    assert!(
        refused
            .iter()
            .any(|(sku, field, severity, message)| sku == "UMLAUT"
                && field == "instore_product_location"
                && severity == "error"
                && message.contains("23 bytes in UTF-8; the limit is 20 bytes")),
        "{refused:?}"
    );
}

#[test]
fn tiktok_images_must_be_jpeg_or_png_urls() {
    let env = project(&[
        &[("sku", "PNG"), ("brand", "Acme")],
        &[
            ("sku", "JPEG"),
            ("brand", "Acme"),
            ("image_link", "https://cdn.example.com/a.JPEG?w=800"),
        ],
        &[
            ("sku", "WEBP"),
            ("brand", "Acme"),
            ("image_link", "https://cdn.example.com/a.webp"),
        ],
    ]);
    env.write("feeds/tiktok.toml", dir_feed("tiktok", "csv", ""));
    let report = export(&env, 0);
    let flagged: Vec<(String, String)> = findings(&report, "feed.invalid-value")
        .into_iter()
        .map(|(sku, field, severity, message)| {
            assert!(message.contains(".jpeg, .jpg, .png"), "{message}");
            // image_link is unconfirmed for TikTok: a warning, the item stays.
            assert_eq!(severity, "warning");
            (sku, field)
        })
        .collect();
    assert_eq!(flagged, [("WEBP".to_owned(), "image_link".to_owned())]);
}

#[test]
fn meta_needs_one_of_brand_gtin_or_mpn() {
    let env = project(&[
        &[("sku", "BRAND"), ("brand", "Acme")],
        &[("sku", "GTIN"), ("gtin", "4006381333931")],
        &[("sku", "MPN"), ("mpn", "X-1")],
        &[("sku", "NONE")],
    ]);
    env.write("feeds/meta.toml", dir_feed("meta-catalog", "csv", ""));
    let report = export(&env, 1);
    let feed = table(&env.read("out/meta.csv"), b',', "id");
    let mut written: Vec<&str> = feed.keys().map(String::as_str).collect();
    written.sort_unstable();
    assert_eq!(written, ["BRAND", "GTIN", "MPN"]);
    let missing = findings(&report, "feed.missing-required");
    assert_eq!(missing.len(), 1, "{missing:?}");
    let (sku, field, severity, message) = &missing[0];
    assert_eq!(
        (sku.as_str(), field.as_str(), severity.as_str()),
        ("NONE", "brand|gtin|mpn", "error")
    );
    assert!(
        message.contains("at least one of `brand`, `gtin`, `mpn`"),
        "{message}"
    );
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("gzip");
    text
}

#[test]
fn openai_feeds_are_gzipped_by_default_and_carry_the_market() {
    let env = project(&[&[("sku", "S1"), ("brand", "Acme")]]);
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[defaults]\ncountry = \"US\"\n",
    );
    env.write(
        "feeds/openai.toml",
        dir_feed("openai", "jsonl", "[fields]\nseller_name = \"Acme Store\""),
    );
    export(&env, 0);
    let files = env.files("out");
    assert_eq!(
        files
            .keys()
            .filter(|name| !name.starts_with('.'))
            .collect::<Vec<_>>(),
        ["openai.jsonl.gz"],
        "a gzipped file under a stable name"
    );
    let text = gunzip(&files["openai.jsonl.gz"]);
    let item: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON line");
    assert_eq!(item["target_countries"], serde_json::json!(["US"]));
    assert_eq!(item["store_country"], "US");
    assert_eq!(item["is_eligible_checkout"], false);
    assert_eq!(item["is_eligible_search"], true);

    // A feed can still ask for a plain file and set the flag itself.
    env.write(
        "feeds/openai.toml",
        dir_feed(
            "openai",
            "csv",
            "gzip = false\n[fields]\nseller_name = \"Acme Store\"\nis_eligible_checkout = \"false\"",
        ),
    );
    export(&env, 0);
    let csv = table(&env.read("out/openai.csv"), b',', "item_id");
    assert_eq!(csv["S1"]["target_countries"], "US");
    assert_eq!(csv["S1"]["is_eligible_checkout"], "false");
}

#[test]
fn amazon_types_the_identifier_by_gtin_length_and_issue_locale_is_optional() {
    let upc = gtin("03600029145");
    let ean = "4006381333931";
    let gtin14 = gtin("1400638133393");
    let env = project(&[
        &[("sku", "UPC"), ("gtin", &upc)],
        &[("sku", "EAN"), ("gtin", ean)],
        &[("sku", "GTIN14"), ("gtin", &gtin14)],
        &[("sku", "NONE")],
    ]);
    let feed = |params: &str| {
        format!(
            "channel = \"amazon-listings\"\ncurrency = \"EUR\"\n[params]\nseller_id = \"S\"\nmarketplace_id = \"M\"\nlanguage_tag = \"en_US\"\n{params}[fields]\nproductType = \"PRODUCT\"\n[destination]\nkind = \"dir\"\npath = \"out\"\n"
        )
    };
    env.write("feeds/amazon.toml", feed(""));
    export(&env, 0);
    let document: serde_json::Value =
        serde_json::from_str(&env.read("out/amazon.json")).expect("JSON");
    assert!(
        document["header"].get("issueLocale").is_none(),
        "no issue_locale param, no issueLocale: {}",
        document["header"]
    );
    let identifier = |sku: &str| {
        document["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .find(|m| m["sku"] == sku)
            .map(|m| m["attributes"]["externally_assigned_product_identifier"].clone())
            .unwrap_or_else(|| panic!("{sku} in {document}"))
    };
    for (sku, value, kind) in [
        ("UPC", upc.as_str(), "upc"),
        ("EAN", ean, "ean"),
        ("GTIN14", gtin14.as_str(), "gtin"),
    ] {
        let identifier = identifier(sku);
        assert_eq!(identifier[0]["value"], value, "{identifier}");
        assert_eq!(identifier[0]["type"], kind, "{identifier}");
        assert_eq!(identifier[0]["marketplace_id"], "M", "{identifier}");
    }
    assert!(identifier("NONE").is_null());

    env.write("feeds/amazon.toml", feed("issue_locale = \"de_DE\"\n"));
    export(&env, 0);
    let document: serde_json::Value =
        serde_json::from_str(&env.read("out/amazon.json")).expect("JSON");
    assert_eq!(document["header"]["issueLocale"], "de_DE");
}

/// A channel of the user's own, to try the spec language where no shipped spec uses a
/// construct yet (requirements by country) and to see spec mistakes reported.
const DEMO_SPEC: &str = r#"[channel]
id = "demo"
name = "Demo"
item_key = "id"

[formats.csv]
kind = "delimited"

[[fields]]
name = "id"
source = "sku"
type = "text"
requirement = "required"

[[fields]]
name = "price"
type = "price"
role = "price"

[[fields]]
name = "availability"
type = "enum"
role = "availability"
values = ["in stock", "out of stock", "preorder", "backorder"]
map = { in_stock = "in stock", out_of_stock = "out of stock" }

[[fields]]
name = "energy_label"
source = "custom.energy_label"
type = "text"
requirement = "conditional"
required_when = { country_in = ["AT", "DE"] }
note = "Required for Austria and Germany only."
"#;

#[test]
fn a_requirement_can_hold_in_listed_target_countries_only() {
    let env = project(&[&[("sku", "S1")]]);
    env.write("channel-specs/demo.toml", DEMO_SPEC);
    env.write(
        "feeds/de.toml",
        dir_feed("demo", "csv", "country = \"DE\"\nfile = \"de\""),
    );
    env.write(
        "feeds/fr.toml",
        dir_feed("demo", "csv", "country = \"FR\"\nfile = \"fr\""),
    );
    let report = export(&env, 1);
    assert_eq!(table(&env.read("out/fr.csv"), b',', "id").len(), 1);
    assert!(table(&env.read("out/de.csv"), b',', "id").is_empty());
    let missing = findings(&report, "feed.missing-required");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0].1, "energy_label");
}

#[test]
fn mistakes_in_the_spec_language_are_spec_errors_with_their_line() {
    let cases = [
        // A misspelt condition key: the TOML reader names line and column.
        (
            DEMO_SPEC.replace("country_in", "country_inn"),
            "line 32, column 19",
            "unknown field `country_inn`",
        ),
        // A condition naming a field the spec lacks.
        (
            DEMO_SPEC.replace(
                "required_when = { country_in = [\"AT\", \"DE\"] }",
                "required_when = { empty = \"gtn\" }",
            ),
            "line 27: field `energy_label`: required_when names `gtn`",
            "",
        ),
        (
            DEMO_SPEC.replace("[\"AT\", \"DE\"]", "[\"Germany\"]"),
            "country_in `Germany` is not an ISO 3166-1 alpha-2 code",
            "",
        ),
        (
            DEMO_SPEC.replace(
                "country_in = [\"AT\", \"DE\"]",
                "category_under = [\"166\"], not_category_under = [\"keychains\"]",
            ),
            "not_category_under `keychains` is not a Google taxonomy id",
            "",
        ),
        // An availability the map leaves outside `values` would leak: refused up front.
        (
            DEMO_SPEC.replace("\"preorder\", \"backorder\"]", "\"preorder\"]"),
            "line 20: field `availability`: availability `backorder` would be sent as `backorder`, which is not in `values`",
            "",
        ),
        (
            format!(
                "{DEMO_SPEC}\n[[fields]]\nname = \"image\"\nsource = \"image_link\"\ntype = \"text\"\nurl_endings = [\"png\"]\n"
            ),
            "`url_endings` applies to type `url` only",
            "url_endings lists endings that start with `.`",
        ),
        (
            format!("{DEMO_SPEC}\n[[at_least_one_of]]\nfields = [\"id\", \"brnd\"]\n"),
            "[[at_least_one_of]] #1 names `brnd`",
            "",
        ),
    ];
    for (spec, needle, other) in cases {
        let env = project(&[&[("sku", "S1")]]);
        env.write("channel-specs/demo.toml", &spec);
        env.write("feeds/demo.toml", dir_feed("demo", "csv", ""));
        let run = env.run(&["export"]);
        run.expect_code(2);
        let stderr = run.stderr();
        assert!(
            stderr.contains("channel-specs/demo.toml") && stderr.contains(needle),
            "{needle} in {stderr}"
        );
        assert!(stderr.contains(other), "{other} in {stderr}");
    }
}

//! Issue #13 (points 3 and 4): `omnifeed init` on a shop's own product export, then
//! `validate` and `export` without edits. The fixtures in `tests/fixtures/shops/` follow
//! each shop's documented export layout (multi-line cells, HTML entities, a byte order
//! mark, an Excel-mangled barcode); the expectations below are written by hand from them.

use std::collections::BTreeMap;

use crate::support::{TestEnv, repo_root};

/// One Google item as the TSV feed carries it: attribute -> value.
type Item = BTreeMap<String, String>;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures/shops").join(name)).expect("read fixture")
}

/// Runs `init` on the fixture with a Google feed, checks it, and returns the env.
fn init_project(fixture_name: &str, extra: &[&str]) -> TestEnv {
    let env = TestEnv::new();
    env.write(&format!("export/{fixture_name}"), fixture(fixture_name));
    let file = format!("export/{fixture_name}");
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
    // Each fixture has one Excel-mangled barcode: validate, run by init, finds that error.
    let run = env.run(&args);
    run.expect_code(1);
    assert!(
        run.stderr().contains("wrote omnifeed.toml"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stdout().contains("E+1"),
        "init's validate names the mangled barcode:\n{}",
        run.stdout()
    );
    env
}

/// The mangled barcode is one error, on its row, naming its SKU; nothing else is wrong.
fn expect_barcode_error(env: &TestEnv, line: u64, sku: &str) -> serde_json::Value {
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let errors: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    let gtin: Vec<_> = errors
        .iter()
        .filter(|d| d["rule"] == "invalid-gtin")
        .collect();
    assert_eq!(gtin.len(), 1, "{report:#}");
    assert_eq!(gtin[0]["line"], line, "{report:#}");
    assert_eq!(gtin[0]["sku"], sku);
    assert!(
        gtin[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("scientific notation"),
        "{report:#}"
    );
    report
}

/// Runs `export` and reads the Google TSV back.
fn google_items(env: &TestEnv) -> BTreeMap<String, Item> {
    // Sale windows are evaluated at the run's time: a fixed one inside the exports' windows.
    let run = env.run(&["export", "--now", "2026-11-15T00:00:00Z"]);
    // Exit 1: the item with the mangled barcode is left out; every other one is written.
    run.expect_code(1);
    // Google's TSV quotes a cell holding a quote: read it as the TSV it is.
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(env.path("out/google-merchant/google-merchant.tsv"))
        .expect("open the Google feed");
    let header = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("a TSV record");
            let item: Item = header
                .iter()
                .zip(record.iter())
                .filter(|(_, value)| !value.is_empty())
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect();
            (item["id"].clone(), item)
        })
        .collect()
}

#[track_caller]
fn expect(items: &BTreeMap<String, Item>, id: &str, expected: &[(&str, &str)], absent: &[&str]) {
    let item = items
        .get(id)
        .unwrap_or_else(|| panic!("no item {id} in {:?}", items.keys()));
    for (name, value) in expected {
        assert_eq!(
            item.get(*name).map(String::as_str),
            Some(*value),
            "{id} {name}: {item:#?}"
        );
    }
    for name in absent {
        assert!(!item.contains_key(*name), "{id} has {name}: {item:#?}");
    }
}

const CDN: &str = "https://cdn.shopify.com/s/files/1/0000/0001/products/";

#[test]
fn shopify_export_becomes_a_google_feed_without_edits() {
    let env = init_project(
        "shopify_products_export.csv",
        &["--base-url", "https://shop.example.com"],
    );
    let config = env.read("omnifeed.toml");
    assert!(config.contains("preset = \"shopify\""), "{config}");
    assert!(
        config.contains("# markets = { \"United Kingdom\" = \"CUR\" }"),
        "{config}"
    );
    assert!(
        config.contains("#   Tags"),
        "unread columns listed:\n{config}"
    );

    let report = expect_barcode_error(&env, 8, "SOCK-TRAIL");
    assert_eq!(report["summary"]["skipped"]["draft"], 1, "{report:#}");

    let items = google_items(&env);
    // 8 variant rows: the draft's is skipped, the socks' left out for their barcode.
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        [
            "HOOD-GRY-M",
            "HOOD-NAV-L",
            "HOOD-NAV-M",
            "MUG-ENAMEL",
            "POSTER-GLANZ-A2",
            "POSTER-MATT-A2"
        ]
    );
    let hoodie_images = format!("{CDN}hoodie-grey.jpg,{CDN}hoodie-back.jpg");
    let navy = format!("{CDN}hoodie-navy.jpg");
    expect(
        &items,
        "HOOD-NAV-M",
        &[
            // Compare-at 59 above price 49: 59 regular, 49 sale.
            ("price", "59.00 EUR"),
            ("sale_price", "49.00 EUR"),
            ("item_group_id", "classic-hoodie"),
            ("title", "Classic Hoodie & Pocket"),
            (
                "description",
                "Soft brushed fleece. Café colours – made to last.",
            ),
            ("link", "https://shop.example.com/products/classic-hoodie"),
            ("image_link", &navy),
            ("additional_image_link", &hoodie_images),
            ("availability", "in_stock"),
            ("color", "Navy"),
            ("size", "M"),
            ("gender", "unisex"),
            ("age_group", "adult"),
            ("condition", "new"),
            ("brand", "Northwind"),
            ("gtin", "4006381333931"),
        ],
        &[],
    );
    // Compare-at equal to the price: no sale. Product columns come from the first row.
    expect(
        &items,
        "HOOD-NAV-L",
        &[
            ("price", "59.00 EUR"),
            ("item_group_id", "classic-hoodie"),
            ("title", "Classic Hoodie & Pocket"),
            ("availability", "in_stock"),
        ],
        &["sale_price"],
    );
    // Oversold (-2): out of stock; its own variant image first, the others after it.
    let grey_more = format!("{CDN}hoodie-navy.jpg,{CDN}hoodie-back.jpg");
    let grey = format!("{CDN}hoodie-grey.jpg");
    expect(
        &items,
        "HOOD-GRY-M",
        &[
            ("availability", "out_of_stock"),
            ("image_link", &grey),
            ("additional_image_link", &grey_more),
            ("color", "Grey"),
        ],
        &["sale_price"],
    );
    // One variant, `Default Title`: no group; stock not tracked: sold as listed.
    let mug = format!("{CDN}mug.jpg");
    expect(
        &items,
        "MUG-ENAMEL",
        &[
            ("price", "14.50 EUR"),
            ("availability", "in_stock"),
            ("image_link", &mug),
        ],
        &["item_group_id", "additional_image_link", "color", "size"],
    );
    // German option names: `Größe` is the size; `Stil` no channel attribute.
    expect(
        &items,
        "POSTER-GLANZ-A2",
        &[
            ("size", "A2"),
            ("item_group_id", "poster"),
            ("price", "27.00 EUR"),
        ],
        &["color"],
    );
}

#[test]
fn shopify_market_prices_become_a_second_currency() {
    let env = init_project(
        "shopify_products_export.csv",
        &["--base-url", "https://shop.example.com"],
    );
    let config = env.read("omnifeed.toml").replace(
        "# markets = { \"United Kingdom\" = \"CUR\" }",
        "markets = { \"United Kingdom\" = \"GBP\" }",
    );
    env.write("omnifeed.toml", config);
    env.write(
        "feeds/google-uk.toml",
        "channel = \"google-merchant\"\nformat = \"tsv\"\ncountry = \"GB\"\ncurrency = \"GBP\"\n[destination]\nkind = \"dir\"\npath = \"out/google-uk\"\n",
    );
    env.run(&["export", "google-uk"]).expect_code(1);
    let text = env.read("out/google-uk/google-uk.tsv");
    let header: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split('\t')
        .collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let rows: BTreeMap<&str, (&str, &str)> = text
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            (
                cells[0],
                (cells[column("price")], cells[column("sale_price")]),
            )
        })
        .collect();
    // Included in the UK market with a UK compare-at above the UK price: a UK sale; the
    // grey hoodie is not included in that market, the others have no UK price.
    assert_eq!(
        rows,
        BTreeMap::from([
            ("HOOD-NAV-M", ("50.00 GBP", "42.00 GBP")),
            ("HOOD-NAV-L", ("50.00 GBP", "")),
        ])
    );
}

#[test]
fn woocommerce_export_becomes_a_google_feed_without_edits() {
    // No --base-url: the shop's address is guessed from the upload URLs, and said so.
    let env = init_project("woocommerce_product_export.csv", &[]);
    let config = env.read("omnifeed.toml");
    assert!(config.contains("preset = \"woocommerce\""), "{config}");
    assert!(
        config.contains("base_url = \"https://woo.example.com\"")
            && config.contains("guessed from the image URLs"),
        "{config}"
    );

    let report = expect_barcode_error(&env, 11, "woo-scarf");
    let orphans: Vec<_> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["rule"] == "orphan-variant")
        .collect();
    assert_eq!(orphans.len(), 1, "{report:#}");
    assert_eq!(orphans[0]["line"], 12);
    assert_eq!(orphans[0]["sku"], "woo-lost-variation");
    assert_eq!(
        report["summary"]["skipped"],
        serde_json::json!({"disabled variation": 1, "draft": 1, "external": 1, "grouped": 1}),
        "{report:#}"
    );

    let items = google_items(&env);
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        ["woo-cap", "woo-hoodie-blue-s", "woo-hoodie-red-m"]
    );
    let uploads = "https://woo.example.com/wp-content/uploads/2026/10/";
    let blue = format!("{uploads}hoodie-blue.jpg");
    expect(
        &items,
        "woo-hoodie-blue-s",
        &[
            ("item_group_id", "woo-hoodie"),
            ("price", "45.00 EUR"),
            ("sale_price", "39.00 EUR"),
            // The last day of the sale counts whole: it ends as the next day starts.
            (
                "sale_price_effective_date",
                "2026-11-01T00:00+0000/2026-12-01T00:00+0000",
            ),
            ("link", "https://woo.example.com/?post_type=product&p=10"),
            ("image_link", &blue),
            ("availability", "in_stock"),
            ("color", "Blue"),
            ("size", "S"),
            ("brand", "Woo Apparel"),
            ("product_type", "Clothing > Hoodies"),
            (
                "description",
                "Organic cotton hoodie. Printed logo – \"classic\" fit. Second line of the same cell.",
            ),
        ],
        &["additional_image_link"],
    );
    // `Parent` by SKU; out of stock.
    expect(
        &items,
        "woo-hoodie-red-m",
        &[
            ("item_group_id", "woo-hoodie"),
            ("availability", "out_of_stock"),
            ("color", "Red"),
            ("size", "M"),
        ],
        &["sale_price"],
    );
    // A simple product: no group; in stock without a managed count.
    expect(
        &items,
        "woo-cap",
        &[
            ("price", "18.00 EUR"),
            ("availability", "in_stock"),
            ("material", "Cotton"),
            ("link", "https://woo.example.com/?post_type=product&p=20"),
        ],
        &["item_group_id", "sale_price"],
    );
}

#[test]
fn magento2_export_becomes_a_google_feed_without_edits() {
    let env = init_project(
        "magento2_catalog_product.csv",
        &["--base-url", "https://luma.example.com/"],
    );
    assert!(env.read("omnifeed.toml").contains("preset = \"magento2\""));
    let report = expect_barcode_error(&env, 12, "24-MB03");
    assert_eq!(
        report["summary"]["skipped"],
        serde_json::json!({"bundle": 1, "disabled": 1, "not visible individually": 1, "store view row": 1}),
        "{report:#}"
    );

    let items = google_items(&env);
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        ["24-MB01", "MH01-XS-Black", "MH01-XS-Gray"]
    );
    let media = "https://luma.example.com/media/catalog/product";
    let gray_more = format!("{media}/m/h/mh01-gray_alt1_1.jpg,{media}/m/h/mh01-gray_back_1.jpg");
    expect(
        &items,
        "MH01-XS-Gray",
        &[
            ("item_group_id", "MH01"),
            ("price", "52.00 EUR"),
            ("sale_price", "45.00 EUR"),
            (
                "sale_price_effective_date",
                "2026-10-01T00:00+0000/2027-01-01T00:00+0000",
            ),
            // Children are sold on their parent's page.
            ("link", "https://luma.example.com/chaz-kangeroo-hoodie.html"),
            ("image_link", &format!("{media}/m/h/mh01-gray_main_1.jpg")),
            ("additional_image_link", &gray_more),
            ("availability", "out_of_stock"),
            ("color", "Gray"),
            ("size", "XS"),
            ("material", "Fleece"),
            ("brand", "Luma"),
            ("product_type", "Men > Tops > Hoodies & Sweatshirts"),
            (
                "description",
                "Ideal for cold-weather training or work outdoors, the Chaz Hoodie promises superior warmth & comfort. Two-tone gray heather hoodie. Drawstring-adjustable hood.",
            ),
        ],
        &[],
    );
    expect(
        &items,
        "MH01-XS-Black",
        &[
            ("item_group_id", "MH01"),
            ("availability", "in_stock"),
            ("color", "Black"),
            ("image_link", &format!("{media}/m/h/mh01-black_main_1.jpg")),
        ],
        &["sale_price"],
    );
    expect(
        &items,
        "24-MB01",
        &[
            ("price", "34.00 EUR"),
            ("link", "https://luma.example.com/joust-duffle-bag.html"),
            ("availability", "in_stock"),
            ("description", "The sporty Joust Duffle Bag can't be beat."),
            ("product_type", "Gear > Bags"),
        ],
        &["item_group_id", "additional_image_link"],
    );
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let env = TestEnv::new();
    env.write(
        "products.csv",
        "sku;Name;Preis;currency\nA-1;Mug;9.50;EUR\n",
    );
    env.write("omnifeed.toml", "# mine\n");
    let run = env.run(&["init", "--channels", "google-merchant"]);
    run.expect_code(2);
    assert!(run.stderr().contains("--force"), "{}", run.stderr());
    assert_eq!(env.read("omnifeed.toml"), "# mine\n");
    assert!(!env.path("feeds").exists());

    env.run(&["init", "--channels", "google-merchant", "--force"])
        .expect_code(0);
    let config = env.read("omnifeed.toml");
    // The guesses, each with its reason.
    assert!(config.contains("delimiter = \";\""), "{config}");
    assert!(config.contains("title = \"Name\""), "{config}");
    assert!(config.contains("price = \"Preis\""), "{config}");
    assert!(
        config.contains("`Preis` is a common name for price"),
        "{config}"
    );
    assert!(env.path("feeds/google-merchant.toml").exists());
}

#[test]
fn init_refuses_unknown_channels_and_missing_currency_before_writing() {
    let env = TestEnv::new();
    env.write("products.csv", "sku,title,price\nA-1,Mug,9.50\n");
    let run = env.run(&["init", "--channels", "google-merchnt"]);
    run.expect_code(2);
    assert!(run.stderr().contains("google-merchant"), "{}", run.stderr());
    let run = env.run(&["init"]);
    run.expect_code(2);
    assert!(run.stderr().contains("--currency"), "{}", run.stderr());
    assert!(!env.path("omnifeed.toml").exists());
}

#[test]
fn preset_setting_mistakes_are_config_errors_naming_the_setting() {
    let env = TestEnv::new();
    env.write(
        "catalog/products.csv",
        fixture("shopify_products_export.csv"),
    );
    let cases = [
        // A misspelt preset: the config line and the three names.
        ("[catalog.products]\npreset = \"shopfy\"\n", "shopify"),
        (
            "[catalog.products]\npreset = \"shopify\"\nbase_url = \"shop.example.com\"\n",
            "base_url",
        ),
        (
            "[catalog.products]\npreset = \"shopify\"\nmarkets = { \"United Kingdom\" = \"GBP\" }\n",
            "[defaults] currency",
        ),
        (
            "[catalog.inventory]\npreset = \"shopify\"\n",
            "[catalog.products]",
        ),
        (
            "[catalog.products]\npreset = \"magento2\"\n[defaults]\ncurrency = \"EUR\"\n",
            "`attribute_set_code`",
        ),
    ];
    for (config, expected) in cases {
        env.write(
            "omnifeed.toml",
            format!("[catalog]\ndir = \"catalog\"\n{config}"),
        );
        let run = env.run(&["validate"]);
        run.expect_code(2);
        assert!(
            run.stderr().contains(expected),
            "{config}\n{}",
            run.stderr()
        );
    }
}

//! Issue #14.4: markets. One feed definition fans out to several countries, each with its
//! own output file and state key; texts come from `FIELD_LANG` columns with the base column
//! as fallback; prices are the catalog's own in the market's currency, else converted only
//! with the feed's rates file (half-even to the currency's minor units); an item with
//! neither is rejected with a finding naming the SKU, the market and the currency.

use std::collections::HashMap;

use crate::support::{TestEnv, table};

const HEADER: &str = "sku,title,title_de,title_fr,description,description_fr,brand,condition,price_eur,sale_eur,price_chf,link,image_link\n";

/// Prices per currency in columns: EUR always, CHF for some SKUs.
const CONFIG: &str = r#"[catalog]
dir = "cat"
[catalog.inventory]
required = false
[catalog.products]
prices = [{ currency = "EUR", price = "price_eur", sale_price = "sale_eur" },
          { currency = "CHF", price = "price_chf" }]
[defaults]
time_zone = "Europe/Berlin"
"#;

fn project(markets: &str, rates: Option<&str>) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write(
        "cat/products.csv",
        format!(
            "{HEADER}\
             MUG,Mug,Becher,Tasse,Stoneware mug,Tasse en grès,Contoso,new,20.00,,21.50,https://s.example.com/mug,https://c.example.com/mug.jpg\n\
             CUP,Cup,,Gobelet,Paper cup,,Contoso,new,10.00,8.00,,https://s.example.com/cup,https://c.example.com/cup.jpg\n\
             PEN,Pen,Stift,,Ink pen,,Contoso,new,2.50,,,https://s.example.com/pen,https://c.example.com/pen.jpg\n"
        ),
    );
    if let Some(rates) = rates {
        env.write("rates.csv", rates);
    }
    let rates_line = if rates.is_some() {
        "rates = \"rates.csv\"\n"
    } else {
        ""
    };
    env.write(
        "feeds/google.toml",
        format!(
            "channel = \"google-merchant\"\nformat = \"tsv\"\n{rates_line}{markets}\n[destination]\nkind = \"dir\"\npath = \"out\"\n"
        ),
    );
    env
}

type Rows = HashMap<String, HashMap<String, String>>;

/// (id -> column -> value) of a TSV feed.
fn tsv(text: &str) -> Rows {
    table(text, b'\t', "id")
}

const THREE: &str = r#"markets = ["DE", "AT", { country = "CH", language = "fr", id = "ch-fr" }]"#;
const RATES: &str = "from,to,rate\nEUR,CHF,0.93125\n";

#[test]
fn one_definition_writes_a_file_per_market_in_its_language_and_currency() {
    let env = project(THREE, Some(RATES));
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    let feeds: Vec<&str> = report["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .map(|feed| feed["feed"].as_str().expect("feed id"))
        .collect();
    assert_eq!(feeds, ["google.de", "google.at", "google.ch-fr"]);
    let names: Vec<String> = env.files("out").into_keys().collect();
    for name in ["google-de.tsv", "google-at.tsv", "google-ch-fr.tsv"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }

    let de = tsv(&env.read("out/google-de.tsv"));
    // German titles where the catalog has them, the base title where `title_de` is empty.
    assert_eq!(de["MUG"]["title"], "Becher");
    assert_eq!(de["CUP"]["title"], "Cup");
    assert_eq!(de["PEN"]["title"], "Stift");
    assert_eq!(de["MUG"]["description"], "Stoneware mug");
    assert_eq!(de["MUG"]["price"], "20.00 EUR");
    assert_eq!(de["CUP"]["sale_price"], "8.00 EUR");
    let at = tsv(&env.read("out/google-at.tsv"));
    assert_eq!(at["MUG"]["title"], "Becher");
    assert_eq!(at["PEN"]["price"], "2.50 EUR");

    let ch = tsv(&env.read("out/google-ch-fr.tsv"));
    assert_eq!(ch["MUG"]["title"], "Tasse");
    assert_eq!(ch["MUG"]["description"], "Tasse en grès");
    assert_eq!(ch["PEN"]["title"], "Pen", "no title_fr: the base title");
    // The catalog's own CHF price wins over the rate.
    assert_eq!(ch["MUG"]["price"], "21.50 CHF");
    // Converted: 10.00 * 0.93125 = 9.3125 -> 9.31 (nearest); 8.00 * 0.93125 = 7.45 exactly;
    // 2.50 * 0.93125 = 2.328125 -> 2.33.
    assert_eq!(ch["CUP"]["price"], "9.31 CHF");
    assert_eq!(ch["CUP"]["sale_price"], "7.45 CHF");
    assert_eq!(ch["PEN"]["price"], "2.33 CHF");

    // preview shows where a market's price comes from.
    let text = env
        .run(&["preview", "google.ch-fr", "--sku", "CUP"])
        .stdout();
    assert!(
        text.contains("price: 9.31 CHF (converted from 10.00 EUR at 0.93125, rounded half-even)"),
        "{text}"
    );
    assert!(text.contains("title") && text.contains("Gobelet"), "{text}");
}

#[test]
fn halves_are_rounded_to_even_cents() {
    // 10.00 * 0.93125 = 9.3125 is no half; 10.00 * 0.93150 = 9.315 is one, and goes to the
    // even 9.32; 2.50 * 0.9310 = 2.3275 to the even 2.33, 8.00 * 0.93150 = 7.452 to 7.45.
    let env = project(
        r#"markets = [{ country = "CH", language = "fr" }]"#,
        Some("from,to,rate\nEUR,CHF,0.93150\n"),
    );
    env.run(&["export"]).expect_code(0);
    let ch = tsv(&env.read("out/google-ch.tsv"));
    assert_eq!(ch["CUP"]["price"], "9.32 CHF");
    assert_eq!(ch["CUP"]["sale_price"], "7.45 CHF");
    let env = project(
        r#"markets = [{ country = "CH", language = "fr" }]"#,
        Some("from,to,rate\nEUR,CHF,0.9250\n"),
    );
    env.run(&["export"]).expect_code(0);
    let ch = tsv(&env.read("out/google-ch.tsv"));
    // 10.00 * 0.925 = 9.25 exactly; 2.50 * 0.925 = 2.3125 -> 2.31.
    assert_eq!(ch["CUP"]["price"], "9.25 CHF");
    assert_eq!(ch["PEN"]["price"], "2.31 CHF");
    let env = project(
        r#"markets = [{ country = "CH", language = "fr" }]"#,
        Some("from,to,rate\nEUR,CHF,0.9305\n"),
    );
    env.run(&["export"]).expect_code(0);
    let ch = tsv(&env.read("out/google-ch.tsv"));
    // 2.50 * 0.9305 = 2.32625 -> 2.33; 10.00 * 0.9305 = 9.305: a half, to the even 9.30.
    assert_eq!(ch["CUP"]["price"], "9.30 CHF");
    assert_eq!(ch["PEN"]["price"], "2.33 CHF");
}

#[test]
fn an_item_without_a_price_in_the_markets_currency_or_a_rate_is_rejected_by_name() {
    let env = project(THREE, None);
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let findings: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|f| f["rule"] == "feed.no-price-in-currency")
        .collect();
    let skus: Vec<&str> = findings
        .iter()
        .map(|f| f["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["CUP", "PEN"], "{findings:?}");
    for finding in &findings {
        let message = finding["message"].as_str().unwrap();
        assert!(message.contains("no price in CHF"), "{message}");
        assert!(message.contains("market `ch-fr`"), "{message}");
        assert!(message.contains("no `rates` file"), "{message}");
        assert_eq!(finding["feed"], "google.ch-fr");
        assert_eq!(finding["line"], if finding["sku"] == "CUP" { 3 } else { 4 });
    }
    // The CHF market still gets MUG; the euro markets are untouched.
    let ch = tsv(&env.read("out/google-ch-fr.tsv"));
    assert_eq!(ch.keys().collect::<Vec<_>>(), ["MUG"]);
    assert_eq!(tsv(&env.read("out/google-de.tsv")).len(), 3);

    // A rates file without the pair says so.
    let env = project(THREE, Some("from,to,rate\nEUR,GBP,0.85\n"));
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(1);
    let text = run.stdout();
    assert!(
        text.contains("the rates file has no EUR to CHF rate"),
        "{text}"
    );
    // Human output names the SKU, the market and the currency too.
    let text = env.run(&["export"]).stdout();
    assert!(text.contains("feed.no-price-in-currency"), "{text}");
    assert!(text.contains("CUP"), "{text}");
}

#[test]
fn markets_have_their_own_state_and_can_be_selected_one_by_one() {
    let env = project(THREE, Some(RATES));
    env.run(&["push", "--now", "2026-11-30T10:00:00Z"])
        .expect_code(0);
    // Only the CHF price changes: only the CHF market sees a change.
    let products = env.read("cat/products.csv").replace(",21.50,", ",22.00,");
    env.write("cat/products.csv", products);
    let report = env
        .run(&["diff", "--now", "2026-11-30T11:00:00Z", "--format", "json"])
        .json();
    let changed: HashMap<String, u64> = report["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feed| {
            (
                feed["feed"].as_str().unwrap().to_owned(),
                feed["totals"]["changed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(changed["google.de"], 0);
    assert_eq!(changed["google.at"], 0);
    assert_eq!(changed["google.ch-fr"], 1);

    // One market by name; the definition's name takes them all.
    let report = env
        .run(&["diff", "google.ch-fr", "--format", "json"])
        .json();
    assert_eq!(report["feeds"].as_array().unwrap().len(), 1);
    assert_eq!(report["feeds"][0]["changed"][0]["key"], "MUG");
    let report = env.run(&["diff", "google", "--format", "json"]).json();
    assert_eq!(report["feeds"].as_array().unwrap().len(), 3);
    let run = env.run(&["diff", "google.fr"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("no feed `google.fr`"),
        "{}",
        run.stderr()
    );
    assert!(
        run.stderr().contains("did you mean `google.de`"),
        "{}",
        run.stderr()
    );
    std::fs::remove_dir_all(env.path("out")).unwrap();
    env.run(&["export", "google.de"]).expect_code(0);
    let names: Vec<String> = env.files("out").into_keys().collect();
    assert!(names.iter().any(|n| n == "google-de.tsv"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("google-at")),
        "{names:?}"
    );
}

#[test]
fn market_settings_are_checked_before_anything_is_written() {
    let cases: [(&str, Option<&str>, &[&str]); 6] = [
        (
            "country = \"DE\"\nmarkets = [\"DE\", \"AT\"]",
            None,
            &["`country` and `markets` are both set"],
        ),
        (
            "markets = [\"DE\", \"XX\"]",
            None,
            &["markets[2] `XX`", "not an ISO 3166-1"],
        ),
        (
            "markets = [\"KE\"]",
            None,
            &[
                "markets[1] `KE`",
                "usual language and currency",
                "[[markets]]",
            ],
        ),
        (
            "markets = [\"CH\", { country = \"CH\", language = \"fr\" }]",
            None,
            &["a second market `ch`", "id = \"ch-fr\""],
        ),
        (
            "file = \"google\"\nmarkets = [\"DE\", \"AT\"]",
            None,
            &["two markets write `google`", "{market}"],
        ),
        (
            "markets = [\"CH\"]",
            Some("from,to,rate\nEUR,CHF,0.93\nEUR,CHF,abc\n"),
            &["rates.csv` line 3", "rate `abc` is not a positive decimal"],
        ),
    ];
    for (markets, rates, needles) in cases {
        let env = project(markets, rates);
        let run = env.run(&["export"]);
        run.expect_code(2);
        let stderr = run.stderr();
        assert!(stderr.contains("feeds/google.toml"), "{stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{needle} in {stderr}");
        }
        assert!(!env.path("out").exists(), "nothing written for {markets}");
    }
    // [[markets]] tables read the same.
    let env = project(
        "[[markets]]\ncountry = \"CH\"\nlanguage = \"fr\"\ncurrency = \"EUR\"\nfile = \"gmc-{country}-{language}-{currency}\"\n",
        None,
    );
    env.run(&["export"]).expect_code(0);
    let ch = tsv(&env.read("out/gmc-CH-fr-EUR.tsv"));
    assert_eq!(ch["CUP"]["price"], "10.00 EUR");
    assert_eq!(ch["CUP"]["title"], "Gobelet");
    let env = project("[[markets]]\ncountry = \"CH\"\nlangauge = \"fr\"\n", None);
    let run = env.run(&["export"]);
    run.expect_code(2);
    assert!(run.stderr().contains("langauge"), "{}", run.stderr());
}

//! Issue #15.2: shipping and tax. A feed's `[[shipping.rules]]` and `[[tax.rules]]` reach each
//! channel in its own form (nested elements in RSS, `country:region:service:price` in text),
//! an item's own `shipping_price` wins over them, `shipping_weight` is read with its unit,
//! and Microsoft refuses a German feed without shipping (help 51084) before anything runs.

use crate::support::{TestEnv, dir_feed, table};

const HEADER: &str = "sku,title,description,brand,condition,price,currency,link,image_link,shipping_price,shipping_weight,weight\n";

fn row(sku: &str, price: &str, currency: &str, shipping_price: &str, weight: &str) -> String {
    format!(
        "{sku},Mug {sku},Stoneware mug,Contoso,new,{price},{currency},https://s.example.com/{sku},https://c.example.com/{sku}.jpg,{shipping_price},{weight},\n"
    )
}

/// A project whose catalog has the given rows (after the header, from line 2).
fn project(rows: &[String]) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.inventory]\nrequired = false\n[defaults]\ncountry = \"DE\"\n",
    );
    env.write("cat/products.csv", format!("{HEADER}{}", rows.concat()));
    env
}

const DE_STANDARD: &str = "[[shipping.rules]]\ncountry = \"DE\"\nservice = \"Standard\"\nprice = \"4.95 EUR\"\nfree_above = \"50.00 EUR\"\n";

#[test]
fn a_microsoft_feed_for_germany_needs_shipping_rules_and_then_every_item_carries_them() {
    let env = project(&[
        row("CHEAP", "20.00", "EUR", "", ""),
        row("DEAR", "80.00", "EUR", "", ""),
        row("EXACT", "50.00", "EUR", "", ""),
        row("JUST-BELOW", "49.99", "EUR", "", ""),
    ]);
    env.write(
        "feeds/bing.toml",
        dir_feed("microsoft-merchant", "tsv", "country = \"DE\"\n"),
    );
    let run = env.run(&["export"]);
    run.expect_code(2);
    let stderr = run.stderr();
    for needle in [
        "feeds/bing.toml",
        "microsoft-merchant requires `shipping` for feeds to DE",
        "field `shipping`, rules_required_in = [AT, DE]",
        "help 51084",
        "add [[shipping.rules]] with country = \"DE\"",
    ] {
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
    assert!(!env.path("out").exists(), "nothing was written");

    // Rules for Germany do not cover Austria.
    env.write(
        "feeds/bing.toml",
        dir_feed(
            "microsoft-merchant",
            "tsv",
            &format!("country = \"AT\"\n{DE_STANDARD}"),
        ),
    );
    let stderr = env.run(&["export"]).expect_code(2).stderr();
    assert!(stderr.contains("feeds to AT"), "{stderr}");

    // France needs none: the feed is written without shipping.
    env.write(
        "feeds/bing.toml",
        dir_feed("microsoft-merchant", "tsv", "country = \"FR\"\n"),
    );
    env.run(&["export"]).expect_code(0);
    let rows = table(&env.read("out/bing.tsv"), b'\t', "id");
    assert!(rows.values().all(|row| row["shipping"].is_empty()));

    env.write(
        "feeds/bing.toml",
        dir_feed(
            "microsoft-merchant",
            "tsv",
            &format!("country = \"DE\"\n{DE_STANDARD}"),
        ),
    );
    env.run(&["export"]).expect_code(0);
    let rows = table(&env.read("out/bing.tsv"), b'\t', "id");
    assert_eq!(rows.len(), 4, "every item is written");
    assert_eq!(rows["CHEAP"]["shipping"], "DE::Standard:4.95 EUR");
    assert_eq!(rows["JUST-BELOW"]["shipping"], "DE::Standard:4.95 EUR");
    // At or above free_above, the rule's price is 0.
    assert_eq!(rows["EXACT"]["shipping"], "DE::Standard:0.00 EUR");
    assert_eq!(rows["DEAR"]["shipping"], "DE::Standard:0.00 EUR");
}

#[test]
fn google_text_form_and_an_items_own_shipping_price_winning_over_the_rules() {
    let env = project(&[
        row("CHEAP", "20.00", "EUR", "", ""),
        row("DEAR", "80.00", "EUR", "", ""),
        row("OWN", "80.00", "EUR", "12.50", ""),
        row("DOLLAR", "20.00", "USD", "", ""),
    ]);
    let rules = format!(
        "{DE_STANDARD}[[shipping.rules]]\ncountry = \"DE\"\npostal_code = \"80*\"\nservice = \"Express\"\nprice = \"9.90 EUR\"\nmin_transit_time = 1\nmax_transit_time = 2\n"
    );
    env.write(
        "feeds/google.toml",
        dir_feed(
            "google-merchant",
            "tsv",
            &format!("currency = \"EUR\"\n{rules}"),
        ),
    );
    env.run(&["export"]).expect_code(0);
    let rows = table(&env.read("out/google.tsv"), b'\t', "id");
    let express = |price: &str| format!("DE:80*:Express:{price} EUR:::1:2");
    assert_eq!(
        rows["CHEAP"]["shipping"],
        format!("DE::Standard:4.95 EUR,{}", express("9.90"))
    );
    assert_eq!(
        rows["DEAR"]["shipping"],
        format!("DE::Standard:0.00 EUR,{}", express("9.90"))
    );
    // The item's own price replaces every rule's, free-above included.
    assert_eq!(
        rows["OWN"]["shipping"],
        format!("DE::Standard:12.50 EUR,{}", express("12.50"))
    );
    assert!(!rows.contains_key("DOLLAR"), "the feed sells in EUR only");

    // Without a feed currency the USD item has no rule in its currency: refused, and told so.
    env.write(
        "feeds/google.toml",
        dir_feed("google-merchant", "tsv", &rules),
    );
    let run = env.run(&["export", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let finding = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["sku"] == "DOLLAR" && d["field"] == "shipping")
        .unwrap_or_else(|| panic!("a shipping finding for DOLLAR: {report}"));
    let message = finding["message"].as_str().expect("message");
    assert!(
        message.contains("priced in USD but every [[shipping.rules]] in EUR"),
        "{message}"
    );
    assert_eq!(finding["line"], 5, "{finding}");
    let rows = table(&env.read("out/google.tsv"), b'\t', "id");
    assert!(!rows.contains_key("DOLLAR") && rows.contains_key("CHEAP"));

    // No rules at all: only the item with its own price carries shipping, to the feed's
    // country (Meta's column: country, region, service, price).
    env.write("feeds/google.toml", dir_feed("meta-catalog", "csv", ""));
    env.run(&["export"]).expect_code(0);
    let rows = table(&env.read("out/google.csv"), b',', "id");
    assert_eq!(rows["OWN"]["shipping"], "DE:::12.50 EUR");
    assert_eq!(rows["CHEAP"]["shipping"], "");
}

#[test]
fn shipping_weight_units_are_read_and_a_bad_unit_is_named_with_sku_and_line() {
    let mut fallback = row("FALLBACK", "10.00", "EUR", "", "");
    fallback.insert_str(fallback.len() - 1, "2.00 kg");
    let env = project(&[
        row("KG", "10.00", "EUR", "", "1.5kg"),
        row("OZ", "10.00", "EUR", "", "12 OZ"),
        row("LB", "10.00", "EUR", "", "2 lbs"),
        row("BAD", "10.00", "EUR", "", "3 stone"),
        row("GRAM", "10.00", "EUR", "", "500 g"),
        fallback,
    ]);
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let findings: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["field"] == "shipping_weight")
        .collect();
    assert_eq!(findings.len(), 1, "{report}");
    let finding = findings[0];
    assert_eq!(
        (&finding["sku"], &finding["line"], &finding["rule"]),
        (&"BAD".into(), &5.into(), &"invalid-value".into()),
        "{finding}"
    );
    let message = finding["message"].as_str().expect("message");
    assert!(
        message.contains("unit `stone` is not one of g, kg, lb, oz"),
        "{message}"
    );

    env.write("feeds/google.toml", dir_feed("google-merchant", "tsv", ""));
    env.run(&["export"]).expect_code(1);
    let rows = table(&env.read("out/google.tsv"), b'\t', "id");
    let weight = |sku: &str| rows[sku]["shipping_weight"].as_str();
    assert_eq!(
        [weight("KG"), weight("OZ"), weight("LB"), weight("GRAM")],
        ["1.5 kg", "12 oz", "2 lb", "500 g"]
    );
    assert_eq!(
        weight("FALLBACK"),
        "2.00 kg",
        "the product weight when no parcel weight"
    );
    assert!(
        !rows.contains_key("BAD"),
        "a row with an error goes into no feed"
    );
}

const TAX: &str = "[[tax.rules]]\nregion = \"CA\"\nrate = 8.75\ntax_ship = true\n\n[[tax.rules]]\npostal_code = \"10*\"\nrate = 4\n";

#[test]
fn us_tax_rules_are_nested_in_rss_and_joined_in_tsv() {
    let env = project(&[row("MUG", "20.00", "USD", "", "")]);
    let feed = format!("country = \"US\"\ncurrency = \"USD\"\n{TAX}");
    env.write(
        "feeds/google-xml.toml",
        dir_feed("google-merchant", "xml", &feed),
    );
    env.write(
        "feeds/google-tsv.toml",
        dir_feed("google-merchant", "tsv", &feed),
    );
    env.run(&["export"]).expect_code(0);
    let rows = table(&env.read("out/google-tsv.tsv"), b'\t', "id");
    assert_eq!(rows["MUG"]["tax"], "US:CA:8.75:yes,US:10*:4:no");

    let xml = env.read("out/google-xml.xml");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let groups: Vec<Vec<(String, String)>> = doc
        .descendants()
        .filter(|n| n.has_tag_name(("http://base.google.com/ns/1.0", "tax")))
        .map(|tax| {
            tax.children()
                .filter(roxmltree::Node::is_element)
                .map(|part| {
                    (
                        part.tag_name().name().to_owned(),
                        part.text().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .collect();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        groups,
        vec![
            pairs(&[
                ("country", "US"),
                ("region", "CA"),
                ("rate", "8.75"),
                ("tax_ship", "yes")
            ]),
            pairs(&[
                ("country", "US"),
                ("postal_code", "10*"),
                ("rate", "4"),
                ("tax_ship", "no")
            ]),
        ]
    );
}

#[test]
fn mistakes_in_rules_are_config_errors_naming_their_lines() {
    let env = project(&[row("MUG", "20.00", "EUR", "", "")]);
    let feed = "\
channel = \"google-merchant\"
format = \"tsv\"

[[shipping.rules]]
country = \"US\"
region = \"US-CA\"
price = \"4.95 EUR\"

[[shipping.rules]]
postal_code = \"9#4\"
price = \"4,95 EUR\"

[[shipping.rules]]
service = \"Express: 24h\"
price = \"4.95 EUR\"
min_transit_time = 5
max_transit_time = 2

[[tax.rules]]
country = \"DE\"
region = \"BY\"
rate = 19

[fields]
shipping = \"DE:::4.95 EUR\"
";
    env.write("feeds/google.toml", feed);
    let run = env.run(&["export"]);
    run.expect_code(2);
    let stderr = run.stderr();
    for needle in [
        "line 6: [[shipping.rules]] #1: region `US-CA`: write the subdivision without the country: region = \"CA\"",
        "line 10: [[shipping.rules]] #2: postal_code `9#4` is not a code",
        "line 11: [[shipping.rules]] #2: price `4,95` is not a decimal number",
        "line 14: [[shipping.rules]] #3: service `Express: 24h` holds `:` or `,`",
        "line 16: [[shipping.rules]] #3: min_transit_time 5 is above max_transit_time 2",
        "line 20: [[tax.rules]] #1: country `DE`: [tax] is US sales tax only",
        "[fields] `shipping` is written from the feed's rules in google-merchant's own form; give them as [[shipping.rules]] instead",
    ] {
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
    assert!(!env.path("out").exists(), "nothing was written");
}

#[test]
fn rules_a_channel_cannot_carry_are_named_and_not_sent_as_the_whole_country() {
    let env = project(&[row("MUG", "20.00", "EUR", "", "")]);
    let rules = format!(
        "country = \"DE\"\n{DE_STANDARD}[[shipping.rules]]\ncountry = \"DE\"\npostal_code = \"80*\"\nservice = \"Express\"\nprice = \"9.90 EUR\"\n"
    );
    env.write(
        "feeds/bing.toml",
        dir_feed("microsoft-merchant", "tsv", &rules),
    );
    let run = env.run(&["export"]);
    run.expect_code(0);
    assert!(
        run.stderr().contains(
            "[[shipping.rules]] #2 (postal_code 80*) is not sent: microsoft-merchant's `shipping` has no postal_code"
        ),
        "{}",
        run.stderr()
    );
    let rows = table(&env.read("out/bing.tsv"), b'\t', "id");
    assert_eq!(rows["MUG"]["shipping"], "DE::Standard:4.95 EUR");
}

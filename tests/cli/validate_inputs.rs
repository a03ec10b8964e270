//! `omnifeed validate` on hand-made catalogs: formats, mappings, each rule, exit codes.

use crate::support::{TestEnv, shared};

const HEADER: &str = "sku,group_id,title,description,brand,gtin,mpn,condition,price,currency,sale_price,sale_start,sale_end,link,image_link";

fn row(sku: &str, extra: &str) -> String {
    // Fills the canonical columns; `extra` replaces the tail from `price` on when given.
    let tail = if extra.is_empty() {
        "19.99,EUR,,,,https://shop.example.com/p/1,https://cdn.example.com/1.jpg"
    } else {
        extra
    };
    format!("{sku},,Shirt {sku},<p>Soft</p>,Contoso,4006381333931,M-{sku},new,{tail}")
}

fn locations() -> &'static str {
    "location_id,kind,name,store_code\nWH-MAIN,warehouse,Main,\nSTORE-001,store,Store 1,store-001\n"
}

fn diagnostics(report: &serde_json::Value) -> Vec<(String, u64, String, String)> {
    report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or_default(),
                d["field"].as_str().unwrap_or_default().to_owned(),
                d["sku"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn catalog(env: &TestEnv, rows: &[String]) {
    let mut products = String::from(HEADER);
    for row in rows {
        products.push('\n');
        products.push_str(row);
    }
    products.push('\n');
    env.write("cat/products.csv", products);
    write_locations(env);
}

/// The locations, and an inventory without rows: a catalog with locations needs one.
fn write_locations(env: &TestEnv) {
    env.write("cat/locations.csv", locations());
    env.write("cat/inventory.csv", "sku,location_id,quantity\n");
}

#[test]
fn each_rule_names_line_field_and_sku() {
    let env = TestEnv::new();
    catalog(
        &env,
        &[
            row("A1", ""),
            row(
                "A2",
                "1.999,EUR,,,,https://shop.example.com/p/2,https://cdn.example.com/2.jpg",
            ),
            row(
                "A3",
                "1500.5,JPY,,,,https://shop.example.com/p/3,https://cdn.example.com/3.jpg",
            ),
            row(
                "A4",
                "0,EUR,,,,https://shop.example.com/p/4,https://cdn.example.com/4.jpg",
            ),
            row(
                "A5",
                "20.00,EUR,15.00,2026-12-01T00:00:00+01:00,2026-11-01T00:00:00+01:00,https://shop.example.com/p/5,https://cdn.example.com/5.jpg",
            ),
            row("A6", "20.00,EUR,,,,/p/6,https://cdn.example.com/6.jpg"),
            row("A1", ""),
            row(
                "A8",
                "20.00,€,,,,https://shop.example.com/p/8,https://cdn.example.com/8.jpg",
            ),
        ],
    );
    let run = env.run(&["validate", "--catalog", "cat", "--format", "json"]);
    run.expect_code(1);
    let found = diagnostics(&run.json());
    let expect = [
        ("invalid-price", 3, "price", "A2"),
        ("invalid-price", 4, "price", "A3"),
        ("non-positive-price", 5, "price", "A4"),
        ("invalid-sale-window", 6, "sale_end", "A5"),
        ("invalid-url", 7, "link", "A6"),
        ("duplicate-sku", 8, "sku", "A1"),
        ("unknown-currency", 9, "currency", "A8"),
    ];
    for (rule, line, field, sku) in expect {
        assert!(
            found
                .iter()
                .any(|f| f == &(rule.to_owned(), line, field.to_owned(), sku.to_owned())),
            "missing {rule} at line {line} ({field}, {sku}) in {found:?}"
        );
    }
    assert_eq!(
        found.len(),
        expect.len(),
        "unexpected extra findings: {found:?}"
    );
    let report = run.json();
    let duplicate = report["diagnostics"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["rule"] == "duplicate-sku"))
        .expect("duplicate finding");
    assert!(
        duplicate["message"]
            .as_str()
            .is_some_and(|m| m.contains("line 2")),
        "duplicate names the first row's line: {duplicate}"
    );
}

#[test]
fn mapped_columns_semicolons_and_default_currency() {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        r#"
[catalog]
dir = "daten"
required = ["sku", "title", "price"]

[catalog.products]
file = "artikel.csv"
delimiter = ";"
[catalog.products.columns]
sku = "Artikelnummer"
title = "Name"
price = "Preis"
gtin = "EAN"

[defaults]
currency = "EUR"
"#,
    );
    env.write(
        "daten/artikel.csv",
        "Artikelnummer;Name;Preis;EAN;Lieferzeit\nX-1;Hemd;19,99;4006381333931;2 Tage\nX-2;Hose;29.99;3.65275E+11;3 Tage\n",
    );
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let found = diagnostics(&report);
    assert_eq!(
        found,
        vec![
            ("invalid-price".into(), 2, "price".into(), "X-1".into()),
            ("invalid-gtin".into(), 3, "gtin".into(), "X-2".into()),
        ]
    );
    let gtin = &report["diagnostics"][1];
    assert_eq!(
        gtin["column"], "EAN",
        "the user's own column name is reported"
    );
    assert!(
        gtin["message"]
            .as_str()
            .is_some_and(|m| m.contains("scientific notation"))
    );
}

#[test]
fn bom_crlf_and_multiline_cells_keep_line_numbers_right() {
    let env = TestEnv::new();
    let products = format!(
        "\u{feff}{HEADER}\r\n{}\r\nB2,,\"Two\r\nline title\",\"<p>a\r\nb</p>\",Contoso,,M,new,5.00,EUR,,,,https://s.example.com/2,https://c.example.com/2.jpg\r\n{}\r\n",
        row("B1", ""),
        row(
            "B3",
            "5.00,EUR,,,,https://s.example.com/3,ftp://c.example.com/3.jpg"
        ),
    );
    env.write("cat/products.csv", products);
    write_locations(&env);
    let run = env.run(&["validate", "--catalog", "cat", "--format", "json"]);
    run.expect_code(1);
    // B3 starts on physical line 6: header 1, B1 2, B2 3-5 (two line breaks inside quotes).
    let found = diagnostics(&run.json());
    assert_eq!(
        found,
        vec![("invalid-url".into(), 6, "image_link".into(), "B3".into())]
    );
}

#[test]
fn invalid_utf8_and_ragged_rows_are_reported_not_dropped() {
    let env = TestEnv::new();
    let mut products = format!("{HEADER}\n{}\n", row("C1", "")).into_bytes();
    products.extend_from_slice(b"C2,,Caf\xe9 shirt,d,Contoso,,M,new,5.00,EUR,,,,https://s.example.com/2,https://c.example.com/2.jpg\n");
    products.extend_from_slice(b"C3,,too,few,cells\n");
    env.write("cat/products.csv", products);
    write_locations(&env);
    let run = env.run(&["validate", "--catalog", "cat", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let found = diagnostics(&report);
    assert_eq!(found[0].0, "invalid-utf8");
    assert_eq!(found[0].1, 3);
    assert_eq!(found[0].2, "title");
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("byte 3"))
    );
    assert_eq!(found[1].0, "ragged-row");
    assert_eq!(found[1].1, 4);
    assert_eq!(report["summary"]["product_rows"], 3);
    assert_eq!(report["summary"]["rejected_rows"], 2);
}

#[test]
fn tsv_and_json_lines_inputs() {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.products]\nfile = \"products.jsonl\"\n[catalog.inventory]\nfile = \"stock.tsv\"\n",
    );
    env.write(
        "cat/products.jsonl",
        concat!(
            r#"{"sku":"J1","title":"One","price":19.99,"currency":"EUR","link":"https://s.example.com/1","additional_image_links":["https://c.example.com/a.jpg","https://c.example.com/b.jpg"]}"#,
            "\n\n",
            r#"{"sku":"J2","title":"Two","price":"5","currency":"USD","gtin":"12345"}"#,
            "\n",
            "not json\n",
            r#"{"sku":"J3","title":"Three","price":"5","currency":"USD","color":"Red","late_key":"x"}"#,
            "\n",
        ),
    );
    env.write("cat/stock.tsv", "sku\tlocation_id\tquantity\nJ1\tWH-MAIN\t3\nJ9\tWH-MAIN\t1\nJ1\tNOWHERE\t1\nJ2\tWH-MAIN\t-2\n");
    env.write("cat/locations.csv", locations());
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let found = diagnostics(&run.json());
    let rules: Vec<(&str, u64)> = found.iter().map(|f| (f.0.as_str(), f.1)).collect();
    assert_eq!(
        rules,
        vec![
            ("invalid-gtin", 3),
            ("invalid-json", 4),
            // Inventory rows by line, then SKUs found to have no product row once the
            // products are read (JSON lists findings as they come, see report/findings.rs).
            ("unknown-location", 4),
            ("negative-stock", 5),
            ("unknown-inventory-sku", 3),
        ]
    );
}

#[test]
fn one_row_per_currency_is_not_a_duplicate_but_a_repeat_in_the_same_currency_is() {
    let env = TestEnv::new();
    catalog(
        &env,
        &[
            row("D1", ""),
            row(
                "D1",
                "21.99,USD,,,,https://shop.example.com/p/1,https://cdn.example.com/1.jpg",
            ),
            row(
                "D1",
                "18.99,USD,,,,https://shop.example.com/p/1,https://cdn.example.com/1.jpg",
            ),
        ],
    );
    let run = env.run(&["validate", "--catalog", "cat", "--format", "json"]);
    run.expect_code(1);
    let found = diagnostics(&run.json());
    assert_eq!(
        found,
        vec![("duplicate-sku".into(), 4, "sku".into(), "D1".into())]
    );
}

#[test]
fn wide_price_columns_per_currency() {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        r#"
[catalog]
dir = "cat"
[catalog.products]
prices = [
  { currency = "EUR", price = "price_eur", sale_price = "sale_eur" },
  { currency = "JPY", price = "price_jpy" },
]
"#,
    );
    env.write(
        "cat/products.csv",
        "sku,title,price_eur,sale_eur,price_jpy\nW1,One,10.00,8.00,1500\nW2,Two,10.00,12.00,1500.5\n",
    );
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let found = diagnostics(&run.json());
    assert_eq!(
        found,
        vec![
            ("invalid-price".into(), 3, "price".into(), "W2".into()),
            (
                "sale-not-below-price".into(),
                3,
                "sale_price".into(),
                "W2".into()
            ),
        ]
    );
}

#[test]
fn variants_of_a_group_must_differ() {
    let env = TestEnv::new();
    env.write(
        "cat/products.csv",
        "sku,group_id,title,price,currency,color,size\nV1,G1,Tee,5.00,EUR,Red,M\nV2,G1,Tee,5.00,EUR,Red,L\nV3,G1,Tee,5.00,EUR,Red,M\n",
    );
    let run = env.run(&["validate", "--catalog", "cat", "--format", "json"]);
    run.expect_code(0);
    let found = diagnostics(&run.json());
    assert_eq!(
        found,
        vec![(
            "indistinct-variants".into(),
            4,
            "group_id".into(),
            "V3".into()
        )]
    );
    env.run(&["validate", "--catalog", "cat", "--deny", "warnings"])
        .expect_code(1);
}

#[test]
fn human_output_groups_by_rule_with_source_lines() {
    let env = TestEnv::new();
    let rows: Vec<String> = (0..8)
        .map(|i| {
            row(
                &format!("H{i}"),
                "5.00,EURO,,,,https://s.example.com/1,https://c.example.com/1.jpg",
            )
        })
        .collect();
    catalog(&env, &rows);
    let run = env.run(&["validate", "--catalog", "cat", "--max-per-rule", "2"]);
    run.expect_code(1);
    let out = run.stdout();
    assert!(out.contains("error[unknown-currency]"), "{out}");
    assert!(out.contains("(8 findings)"), "{out}");
    assert!(
        out.contains("cat/products.csv:2 (SKU H0, field currency)"),
        "{out}"
    );
    assert!(out.contains("2 | H0,,Shirt H0"), "source line shown: {out}");
    assert!(out.contains("… and 6 more"), "{out}");
    assert!(
        out.contains("hint: use the three upper-case letters"),
        "{out}"
    );
}

#[test]
fn github_annotations() {
    let env = TestEnv::new();
    catalog(
        &env,
        &[row(
            "G1",
            "5.00,EURO,,,,https://s.example.com/1,https://c.example.com/1.jpg",
        )],
    );
    let run = env.run(&["validate", "--catalog", "cat", "--format", "github"]);
    run.expect_code(1);
    let out = run.stdout();
    assert!(
        out.starts_with(
            "::error file=cat/products.csv,line=2,title=unknown-currency::currency `EURO`"
        ),
        "{out}"
    );
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let env = TestEnv::new();
    let missing = env.run(&["validate", "--catalog", "nowhere"]);
    missing.expect_code(2);
    assert!(
        missing.stderr().contains("nowhere/products.csv"),
        "{}",
        missing.stderr()
    );

    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\ncolour = 1\n");
    let bad_key = env.run(&["validate"]);
    bad_key.expect_code(2);
    assert!(bad_key.stderr().contains("line 3"), "{}", bad_key.stderr());

    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.products.columns]\nsku = \"Artikelnummer\"\n",
    );
    catalog(&env, &[row("U1", "")]);
    let unmapped = env.run(&["validate"]);
    unmapped.expect_code(2);
    assert!(
        unmapped.stderr().contains("`Artikelnummer`"),
        "{}",
        unmapped.stderr()
    );

    env.run(&["validate", "--bogus-flag"]).expect_code(2);
    env.run(&["explain", "no-such-rule"]).expect_code(2);
}

#[test]
fn explain_prints_meaning_and_fix() {
    let env = TestEnv::new();
    let run = env.run(&["explain", "invalid-gtin"]);
    run.expect_code(0);
    assert!(run.stdout().contains("check digit"), "{}", run.stdout());
    let all = env.run(&["explain"]);
    assert!(all.stdout().lines().count() >= 15);
}

#[test]
fn gtin_vectors_are_classified_as_expected() {
    let vectors = std::fs::read_to_string(shared("reference/gtin-vectors/gtin_vectors.tsv"))
        .expect("vectors");
    let mut checked = 0;
    for line in vectors.lines().skip(1) {
        let cells: Vec<&str> = line.split('\t').collect();
        let (value, expected) = (cells[0], cells[1] == "true");
        assert_eq!(
            omnifeed::model::Gtin::parse(value).is_ok(),
            expected,
            "{value} ({})",
            cells.get(3).unwrap_or(&"")
        );
        checked += 1;
    }
    assert_eq!(checked, 51);
}

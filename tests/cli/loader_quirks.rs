//! Reading quirks of real catalog files (issue #9, point 11): line endings, a quote never
//! closed, nameless header cells, UTF-16, a pipe as the catalog.

use crate::support::TestEnv;

const HEADER: &str = "sku,title,price,currency,link,image_link";

/// Three rows; the second has an unknown currency.
fn rows() -> [String; 3] {
    ["A1", "A2", "A3"].map(|sku| {
        let currency = if sku == "A2" { "EURO" } else { "EUR" };
        format!("{sku},Shirt {sku},10.00,{currency},https://s.example.com/{sku},https://c.example.com/{sku}.jpg")
    })
}

fn project(products: &[u8]) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write("cat/products.csv", products);
    env
}

/// (rule, line, sku) of each finding.
fn findings(env: &TestEnv) -> Vec<(String, u64, String)> {
    let run = env.run(&["validate", "--format", "json"]);
    run.json()["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or_default(),
                d["sku"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Issue #9.11: every row was "line 1" with lone `\r` endings, and one line too low with
/// `\r\r\n` (Python's csv module on Windows), and the snippet showed another SKU's row.
#[test]
fn r9_11_line_numbers_and_snippets_agree_for_every_line_ending() {
    for ending in ["\r", "\r\r\n", "\r\n", "\n"] {
        let text = format!("{HEADER}{ending}{}{ending}", rows().join(ending));
        let env = project(text.as_bytes());
        assert_eq!(
            findings(&env),
            [("unknown-currency".to_owned(), 3, "A2".to_owned())],
            "ending {ending:?}"
        );
        let run = env.run(&["validate"]);
        run.expect_code(1);
        let out = run.stdout();
        assert!(
            out.contains("3 | A2,Shirt A2,10.00,EURO"),
            "ending {ending:?}: {out}"
        );
    }
}

/// Issue #9.11: a quote never closed swallowed the rest of the file into one ragged row
/// without saying where the quote opened.
#[test]
fn r9_11_an_unclosed_quote_names_where_it_opened() {
    let [a1, a2, a3] = rows();
    let text = format!(
        "{HEADER}\n{a1}\nB1,\"Shirt B1 with an open quote,10.00,EUR,https://s.example.com/B1,https://c.example.com/B1.jpg\n{a2}\n{a3}\n"
    );
    let env = project(text.as_bytes());
    let run = env.run(&["validate", "--format", "json"]);
    run.expect_code(1);
    let report = run.json();
    let finding = &report["diagnostics"][0];
    assert_eq!(finding["rule"], "ragged-row", "{report}");
    assert_eq!(finding["line"], 3, "{report}");
    let message = finding["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("cell 2 (`title`) on line 3 runs to line 5"),
        "{message}"
    );
}

/// Issue #9.11: a header cell without a name dropped its column silently.
#[test]
fn r9_11_a_nameless_header_cell_is_an_error() {
    let [a1, ..] = rows();
    let env = project(format!("sku,title,,price,currency,link,image_link\n{a1}\n").as_bytes());
    let run = env.run(&["validate"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(stderr.contains("products.csv"), "{stderr}");
    assert!(
        stderr.contains("header cell 3 (after `title`) has no column name"),
        "{stderr}"
    );
}

/// Issue #9.11: UTF-16 files got "not valid UTF-8".
#[test]
fn r9_11_utf16_is_named_as_such() {
    let [a1, ..] = rows();
    let text = format!("{HEADER}\r\n{a1}\r\n");
    let little: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let big: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (bytes, named) in [
        (
            [&[0xFF, 0xFE][..], &little].concat(),
            "UTF-16 (little-endian)",
        ),
        ([&[0xFE, 0xFF][..], &big].concat(), "UTF-16 (big-endian)"),
        (little.clone(), "UTF-16 (little-endian, no byte order mark)"),
    ] {
        let env = project(&bytes);
        let run = env.run(&["validate"]);
        run.expect_code(2);
        let stderr = run.stderr();
        assert!(
            stderr.contains(&format!("the file is {named}, not UTF-8")),
            "{stderr}"
        );
    }
}

/// Issue #9.11: a named pipe as the catalog hung when the human report showed snippets, as
/// it opened the file again.
#[test]
fn r9_11_a_pipe_as_catalog_is_read_once() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    std::fs::create_dir_all(env.path("cat")).expect("cat dir");
    let pipe = env.path("cat/products.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    let text = format!("{HEADER}\n{}\n", rows().join("\n"));
    // Opening a pipe to write waits for its reader; never joined, so a run that does not
    // read it cannot hang the test.
    std::thread::spawn(move || std::fs::write(pipe, text));
    let output = assert_cmd::Command::cargo_bin("omnifeed")
        .expect("binary")
        .current_dir(env.dir.path())
        .args(["validate"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("run omnifeed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[unknown-currency]"), "{stdout}");
}

/// JSON Lines keys are looked up per key, in any order per line; a key given twice keeps
/// its last value.
#[test]
fn json_lines_keys_in_any_order_and_repeated() {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.products]\nfile = \"products.jsonl\"\n",
    );
    env.write(
        "cat/products.jsonl",
        concat!(
            r#"{"sku":"J1","title":"One","price":"5","currency":"EUR","currency":"EURO"}"#,
            "\n",
            r#"{"currency":"USD","price":"5","title":"Two","sku":"J2"}"#,
            "\n",
            r#"{"title":"Three","currency":"XXY","sku":"J3","price":"5"}"#,
            "\n",
        ),
    );
    assert_eq!(
        findings(&env),
        [
            ("unknown-currency".to_owned(), 1, "J1".to_owned()),
            ("unknown-currency".to_owned(), 3, "J3".to_owned()),
        ]
    );
}

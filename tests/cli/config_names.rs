//! Issue #9 point 6: names in feed settings that match nothing are config errors (exit 2)
//! with a did-you-mean, not a feed that silently filters everything out.

use crate::support::TestEnv;

const FEED: &str = "feeds/typo.toml";

fn feed(settings: &str) -> String {
    format!("channel = \"google-merchant\"\nformat = \"tsv\"\n{settings}")
}

/// The example catalog with an unmapped `season` column (a custom attribute).
fn env_with_season() -> TestEnv {
    let env = TestEnv::with_example();
    let products = env.read("examples/catalog/products.csv");
    let mut lines = products.lines();
    let mut out = format!("{},season\n", lines.next().expect("header"));
    for line in lines {
        out.push_str(line);
        out.push_str(",winter\n");
    }
    env.write("examples/catalog/products.csv", out);
    env
}

#[test]
fn a_misspelt_stock_location_is_a_config_error_and_replaces_nothing() {
    let env = TestEnv::with_example();
    env.write(FEED, feed("\n[stock]\nlocations = [\"WH-MAIN\"]\n"));
    env.run(&["export", "typo", "--out", "out"]).expect_code(0);
    let written = env.read("out/typo.tsv");
    assert!(written.lines().count() > 100);

    env.write(FEED, feed("\n[stock]\nlocations = [\"WH-MIAN\"]\n"));
    let run = env.run(&["export", "typo", "--out", "out"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("typo.toml")
            && stderr.contains("[stock] locations")
            && stderr.contains("`WH-MIAN`")
            && stderr.contains("did you mean `WH-MAIN`?"),
        "{stderr}"
    );
    assert_eq!(env.read("out/typo.tsv"), written, "the good feed stays");
}

#[test]
fn a_misspelt_custom_filter_column_is_a_config_error() {
    let env = env_with_season();
    env.write(
        FEED,
        feed("\n[filters]\ncustom = { season = \"winter\" }\n"),
    );
    let run = env.run(&["export", "typo", "--out", "out", "--format", "json"]);
    run.expect_code(0);
    assert!(run.json()["feeds"][0]["items_written"].as_u64() > Some(100));

    env.write(FEED, feed("\n[filters]\ncustom = { seasn = \"winter\" }\n"));
    let run = env.run(&["export", "typo", "--out", "out"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("typo.toml")
            && stderr.contains("[filters] custom")
            && stderr.contains("`seasn`")
            && stderr.contains("did you mean `season`?"),
        "{stderr}"
    );
}

#[test]
fn a_canonical_field_as_custom_filter_says_to_use_the_field_filters() {
    let env = TestEnv::with_example();
    env.write(
        FEED,
        feed("\n[filters]\ncustom = { brand = \"Contoso\" }\n"),
    );
    let run = env.run(&["export", "typo", "--out", "out"]);
    run.expect_code(2);
    assert!(run.stderr().contains("canonical field"), "{}", run.stderr());
}

#[test]
fn diff_checks_the_same_names() {
    let env = TestEnv::with_example();
    env.write(FEED, feed("\n[stock]\nlocations = [\"STORE-01\"]\n"));
    let run = env.run(&["diff", "typo"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("did you mean `STORE-001`?"),
        "{}",
        run.stderr()
    );
}

#[test]
fn country_and_language_codes_are_checked() {
    let env = TestEnv::with_example();
    for (settings, expected) in [
        ("country = \"UK\"\n", "country `UK` is not an ISO 3166-1"),
        ("country = \"de\"\n", "`DE`"),
        ("language = \"EN\"\n", "`en`"),
        ("language = \"english\"\n", "not an ISO 639-1"),
    ] {
        env.write(FEED, feed(settings));
        let run = env.run(&["export", "typo", "--out", "out"]);
        run.expect_code(2);
        let stderr = run.stderr();
        assert!(
            stderr.contains("typo.toml") && stderr.contains(expected),
            "{settings}: {stderr}"
        );
    }
    env.write(FEED, feed("country = \"AT\"\nlanguage = \"de\"\n"));
    env.run(&["export", "typo", "--out", "out"]).expect_code(0);

    let config = env
        .read("omnifeed.toml")
        .replace("country = \"DE\"", "country = \"Germany\"");
    env.write("omnifeed.toml", config);
    let run = env.run(&["validate"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("omnifeed.toml") && run.stderr().contains("[defaults] country"),
        "{}",
        run.stderr()
    );
}

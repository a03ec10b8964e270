//! Templates render from each item's own values, even though outputs are remembered by
//! their inputs across items.

use crate::export_support::{export_json, feed_files, feed_report};
use crate::support::TestEnv;

#[test]
fn every_item_gets_the_template_output_of_its_own_values() {
    let env = TestEnv::with_example();
    env.write(
        "feeds/labels.toml",
        "channel = \"google-merchant\"\nformat = \"tsv\"\n\n[fields]\n\
         custom_label_0 = \"{{ brand }}|{{ availability }}\"\n\
         custom_label_1 = \"{{ price }}|{{ title | length }}\"\n",
    );
    let report = export_json(&env, "out", &["labels"]);
    let files = feed_files(&env, feed_report(&report, "labels"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(&files[0])
        .expect("open feed");
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column `{name}` in {header:?}"))
    };
    let (brand, availability, price, title) = (
        column("brand"),
        column("availability"),
        column("price"),
        column("title"),
    );
    let (label0, label1) = (column("custom_label_0"), column("custom_label_1"));
    let mut rows = 0;
    let mut distinct = std::collections::HashSet::new();
    for row in reader.records() {
        let row = row.expect("row");
        let expected0 = format!("{}|{}", &row[brand], &row[availability]);
        let expected1 = format!("{}|{}", &row[price], row[title].chars().count());
        assert_eq!(&row[label0], expected0, "{row:?}");
        assert_eq!(&row[label1], expected1, "{row:?}");
        distinct.insert(expected1);
        rows += 1;
    }
    assert!(rows >= 200, "{rows} rows");
    // Enough repeats and enough variety for a memo that keys on too little to show.
    assert!(
        distinct.len() > 50 && distinct.len() < rows,
        "{} of {rows}",
        distinct.len()
    );
}

/// A template mistake is the feed definition's, caught when feeds load: exit 2, the message
/// names the file, field and unknown name with a suggestion, and the good feed file written
/// before stays (it was replaced by an empty one, every item rejected; issue #8, point 9).
#[test]
fn a_template_calling_an_unknown_filter_or_reading_an_unknown_value_is_a_config_error() {
    let env = TestEnv::with_example();
    let google = "channel = \"google-merchant\"\nformat = \"tsv\"\n\n[destination]\nkind = \"dir\"\npath = \"out\"\n";
    env.write("feeds/labels.toml", google);
    env.run(&["export", "--no-progress", "labels"])
        .expect_code(0);
    let good = env.read("out/labels.tsv");
    assert!(good.lines().count() > 100);
    for (template, unknown, suggestion) in [
        ("{{ title | upcase }}", "filter `upcase`", "`upper`"),
        ("{{ brnad }} {{ title }}", "`brnad`", "`brand`"),
        ("{{ rnage(3) | join }}", "function `rnage`", "`range`"),
    ] {
        env.write(
            "feeds/labels.toml",
            google.replace(
                "\n\n[destination]",
                &format!("\n\n[fields]\ncustom_label_0 = \"{template}\"\n\n[destination]"),
            ),
        );
        for command in ["export", "diff", "preview"] {
            let mut args = vec![command, "--no-progress", "labels"];
            if command == "preview" {
                args.extend(["--sku", "G0000001-CRI-S"]);
            }
            let run = env.run(&args);
            run.expect_code(2);
            let stderr = run.stderr();
            assert!(
                stderr.contains("labels.toml")
                    && stderr.contains("custom_label_0")
                    && stderr.contains(unknown)
                    && stderr.contains(&format!("did you mean {suggestion}?")),
                "{command} with {template}:\n{stderr}"
            );
        }
        assert_eq!(
            env.read("out/labels.tsv"),
            good,
            "the good feed is not replaced"
        );
    }
}

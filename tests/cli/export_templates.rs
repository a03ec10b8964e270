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

//! One record hash: what a push records is what a later diff compares, whatever the order
//! of the spec's fields.

use crate::support::{TestEnv, repo_root};

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";
const FEED: &str = "channel = \"google-merchant\"\nformat = \"xml\"\n\n[destination]\nkind = \"dir\"\npath = \"out\"\n";

fn totals(env: &TestEnv) -> serde_json::Value {
    let run = env.run(&["diff", "--format", "json", "--no-progress"]);
    run.expect_code(0);
    run.json()["feeds"][0]["totals"].clone()
}

/// A user's copy of the Google spec with its fields listed in reverse order changes no
/// item: before the hash read fields in name order, every item looked changed and a push
/// re-sent the whole catalog.
#[test]
fn reordering_a_specs_fields_changes_no_item() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("feeds/google.toml", FEED);
    env.generate(
        "cat",
        &["--variants", "300", "--stores", "2", "--seed", "3"],
    );
    env.run(&["push", "--no-progress"]).expect_code(0);
    let pushed = totals(&env);
    assert_eq!(pushed["changed"], 0, "{pushed}");
    let items = pushed["unchanged"].as_u64().expect("unchanged");
    assert!(items > 200, "{pushed}");

    let shipped = std::fs::read_to_string(repo_root().join("channel-specs/google-merchant.toml"))
        .expect("shipped spec");
    let mut spec: toml::Table = toml::from_str(&shipped).expect("spec parses");
    let fields = spec
        .get_mut("fields")
        .and_then(|fields| fields.as_array_mut())
        .expect("[[fields]]");
    assert!(fields.len() > 10);
    fields.reverse();
    env.write(
        "channel-specs/google-merchant.toml",
        toml::to_string(&spec).expect("spec serializes"),
    );
    let reordered = totals(&env);
    assert_eq!(
        (
            &reordered["changed"],
            &reordered["added"],
            &reordered["removed"]
        ),
        (&0.into(), &0.into(), &0.into()),
        "{reordered}"
    );
    assert_eq!(reordered["unchanged"], items, "{reordered}");
}

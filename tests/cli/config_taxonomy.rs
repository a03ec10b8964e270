//! The Google taxonomy: the built-in list is older than Google's, so an id it lacks is a
//! warning; a `taxonomy` file in omnifeed.toml makes the current list the judge.

use crate::support::{TestEnv, shared};

/// 2331 (Mini Skirts) is in Google's list of 2021, not in the built-in one of 2019.
const NEWER_CATEGORY: &str = "2331";

fn env_with_mapping(category: &str) -> TestEnv {
    let env = TestEnv::with_example();
    env.write(
        "feeds/skirts.toml",
        format!(
            "channel = \"google-merchant\"\nformat = \"tsv\"\n\n[category_map]\n\"Apparel\" = \"{category}\"\n"
        ),
    );
    env
}

fn use_taxonomy_file(env: &TestEnv) {
    let file = shared("reference/google-product-taxonomy/taxonomy-with-ids.en-US.txt");
    let config = env.read("omnifeed.toml");
    env.write(
        "omnifeed.toml",
        format!("taxonomy = {:?}\n{config}", file.display().to_string()),
    );
}

#[test]
fn a_category_newer_than_the_built_in_list_is_a_warning_not_an_error() {
    let env = env_with_mapping(NEWER_CATEGORY);
    let run = env.run(&["export", "skirts", "--out", "out", "--format", "json"]);
    assert_ne!(run.code(), 2, "{}", run.stderr());
    let stderr = run.stderr();
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("skirts.toml")
            && stderr.contains(NEWER_CATEGORY)
            && stderr.contains("taxonomy = "),
        "{stderr}"
    );
    assert!(run.json()["feeds"][0]["items_written"].as_u64() > Some(0));
}

#[test]
fn with_googles_current_file_the_newer_category_is_known() {
    let env = env_with_mapping(NEWER_CATEGORY);
    use_taxonomy_file(&env);
    let run = env.run(&["export", "skirts", "--out", "out"]);
    assert_ne!(run.code(), 2, "{}", run.stderr());
    assert!(!run.stderr().contains(NEWER_CATEGORY), "{}", run.stderr());
}

#[test]
fn with_googles_current_file_an_unknown_category_is_a_config_error() {
    let env = env_with_mapping("99999999");
    use_taxonomy_file(&env);
    let run = env.run(&["export", "skirts", "--out", "out"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("skirts.toml")
            && stderr.contains("99999999")
            && stderr.contains("taxonomy file"),
        "{stderr}"
    );
}

#[test]
fn a_taxonomy_file_that_cannot_be_read_is_a_config_error() {
    let env = TestEnv::with_example();
    let config = env.read("omnifeed.toml");
    env.write(
        "omnifeed.toml",
        format!("taxonomy = \"missing.txt\"\n{config}"),
    );
    let run = env.run(&["export", "--out", "out"]);
    run.expect_code(2);
    assert!(run.stderr().contains("missing.txt"), "{}", run.stderr());
}

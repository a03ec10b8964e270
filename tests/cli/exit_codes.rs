//! One end-to-end test per exit code (README "Exit codes"), and a closed stdout on every
//! printing command: printing stops quietly and the exit code is still the run's
//! (issue #8, point 1).

use std::path::Path;

use crate::support::{TestEnv, dir_feed};

const HEADER: &str = "sku,title,description,brand,gtin,condition,price,currency,link,image_link";

fn product(sku: &str, price: &str) -> String {
    format!(
        "{sku},Shirt {sku},Soft cotton,Contoso,4006381333931,new,{price},EUR,https://shop.example.com/p/{sku},https://cdn.example.com/{sku}.jpg"
    )
}

/// A project with one Pinterest feed writing into `out/`; `bad_price` puts a row with an
/// unreadable price (an error) into the catalog.
fn project(bad_price: bool) -> TestEnv {
    let env = TestEnv::new();
    let mut products = format!("{HEADER}\n{}\n", product("A1", "19.99"));
    if bad_price {
        products.push_str(&product("B2", "not-a-price"));
        products.push('\n');
    }
    env.write("cat/products.csv", products);
    write_inventory(&env, if bad_price { &["A1", "B2"] } else { &["A1"] });
    write_rest(&env);
    env
}

/// A project whose catalog holds `skus`, each valid.
fn project_with(skus: &[&str]) -> TestEnv {
    let env = TestEnv::new();
    write_products(&env, skus);
    write_rest(&env);
    env
}

fn write_products(env: &TestEnv, skus: &[&str]) {
    let mut products = format!("{HEADER}\n");
    for sku in skus {
        products.push_str(&product(sku, "19.99"));
        products.push('\n');
    }
    env.write("cat/products.csv", products);
    write_inventory(env, skus);
}

/// Five units of each SKU in the one warehouse.
fn write_inventory(env: &TestEnv, skus: &[&str]) {
    let mut inventory = String::from("sku,location_id,quantity\n");
    for sku in skus {
        inventory.push_str(&format!("{sku},WH-MAIN,5\n"));
    }
    env.write("cat/inventory.csv", inventory);
}

fn write_rest(env: &TestEnv) {
    env.write(
        "cat/locations.csv",
        "location_id,kind,name,store_code\nWH-MAIN,warehouse,Main,\n",
    );
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n\n[defaults]\ncountry = \"DE\"\nlanguage = \"de\"\n",
    );
    env.write("feeds/pins.toml", dir_feed("pinterest", "csv", ""));
}

/// Runs each `(args, code)` with its stdout closed (`omnifeed … | true`): it exits with
/// `code` and says nothing of the broken pipe.
#[track_caller]
fn keeps_codes_with_stdout_closed(env: &TestEnv, cases: &[(&[&str], i32)]) {
    for (args, code) in cases {
        let run = env.run_closed_stdout(args);
        let stderr = run.stderr();
        assert_eq!(run.code(), *code, "omnifeed {args:?}\nstderr:\n{stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "omnifeed {args:?} is quiet about the closed pipe:\n{stderr}"
        );
    }
}

#[test]
fn exit_0_when_all_is_well() {
    let env = project(false);
    env.run(&["validate", "--no-progress"]).expect_code(0);
    env.run(&["export", "--no-progress"]).expect_code(0);
    assert!(env.read("out/pins.csv").contains("A1"));
}

#[test]
fn exit_1_when_the_catalog_has_errors_and_export_still_writes_the_valid_items() {
    let env = project(true);
    let run = env.run(&["validate", "--no-progress"]);
    run.expect_code(1);
    assert!(
        run.stdout().contains("B2"),
        "names the SKU:\n{}",
        run.stdout()
    );
    env.run(&["export", "--no-progress"]).expect_code(1);
    let feed = env.read("out/pins.csv");
    assert!(feed.contains("A1") && !feed.contains("B2"), "{feed}");
}

#[test]
fn exit_2_for_a_usage_or_config_mistake_and_nothing_is_written() {
    let env = project(false);
    env.run(&["validate", "--no-progress", "--config", "missing.toml"])
        .expect_code(2);
    let run = env.run(&["export", "--no-progress", "pinz"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("did you mean `pins`"),
        "{}",
        run.stderr()
    );
    env.run(&["export", "--no-progress", "--now", "yesterday"])
        .expect_code(2);
    assert!(!env.path("out").exists(), "a usage error writes nothing");
}

/// Feeds `a` and `c` can be written; `b`'s file name is taken by a folder, so its file
/// cannot be put in place. The report still says which feeds were written.
#[test]
fn exit_3_when_a_feed_file_cannot_be_written_and_the_report_names_the_written_ones() {
    let env = project(false);
    std::fs::remove_file(env.path("feeds/pins.toml")).expect("remove feed");
    for feed in ["a", "b", "c"] {
        env.write(
            &format!("feeds/{feed}.toml"),
            format!(
                "channel = \"pinterest\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"out/{feed}\"\n"
            ),
        );
    }
    std::fs::create_dir_all(env.path("out/b/b.csv/in-the-way")).expect("folder in the way");
    let run = env.run(&["export", "--no-progress"]);
    run.expect_code(3);
    let stdout = run.stdout();
    assert!(
        stdout.contains("wrote out/a/a.csv") && stdout.contains("wrote out/c/c.csv"),
        "the report lists the written feeds:\n{stdout}"
    );
    assert!(
        stdout.contains("NOT WRITTEN") && stdout.contains("`b`"),
        "and the one that was not:\n{stdout}"
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains("cannot write feed `b`") && stderr.contains("written: a, c"),
        "{stderr}"
    );
    assert!(env.read("out/a/a.csv").contains("A1"));
    assert!(env.read("out/c/c.csv").contains("A1"));

    let json = env.run(&["export", "--no-progress", "--format", "json"]);
    json.expect_code(3);
    let feeds = json.json()["feeds"].as_array().expect("feeds").clone();
    let failed: Vec<&str> = feeds
        .iter()
        .filter(|f| f.get("failed").is_some())
        .filter_map(|f| f["feed"].as_str())
        .collect();
    assert_eq!(failed, ["b"], "{feeds:?}");
}

/// Every printing command, its stdout closed before it prints: no panic, no "Broken pipe"
/// error, and the exit code the run would have had anyway.
#[test]
fn a_closed_stdout_keeps_the_exit_code_of_the_run() {
    let env = project(true);
    let cases: &[(&[&str], i32)] = &[
        (&["validate", "--no-progress", "--format", "json"], 1),
        (&["validate", "--no-progress"], 1),
        (&["export", "--no-progress"], 1),
        (&["export", "--no-progress", "--format", "json"], 1),
        (&["preview", "pins", "--sku", "A1", "--no-progress"], 0),
        (&["preview", "pins", "--sku", "NOPE", "--no-progress"], 1),
        (&["channels"], 0),
        (&["channels", "--format", "json"], 0),
        (&["explain"], 0),
        (&["explain", "invalid-gtin"], 0),
    ];
    keeps_codes_with_stdout_closed(&env, cases);
    assert!(
        Path::new(&env.path("out/pins.csv")).exists(),
        "export still wrote its feed"
    );
}

/// A push stopped by a guard is a data outcome: exit 1, also with its stdout closed
/// (`push | true` exited 0).
#[test]
fn exit_1_when_a_guard_stops_a_push_even_with_stdout_closed() {
    let env = project_with(&["A1", "A2", "A3", "A4", "A5"]);
    env.run(&["push", "--no-progress"]).expect_code(0);
    write_products(&env, &["A1"]);
    let run = env.run_closed_stdout(&["push", "--no-progress"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr().contains("guard.removed-share"),
        "{}",
        run.stderr()
    );
    env.run(&["push", "--no-progress"]).expect_code(1);
    env.run(&["diff", "--no-progress", "--exit-code"])
        .expect_code(1);
}

/// A state store that cannot be written is an output failure (it exited 2, as if the
/// user had mistyped a flag).
#[test]
fn exit_3_when_the_state_cannot_be_written() {
    let env = project(false);
    env.write(".omnifeed", "a file where the state folder should be\n");
    let run = env.run(&["push", "--no-progress"]);
    run.expect_code(3);
    assert!(run.stderr().contains(".omnifeed"), "{}", run.stderr());
}

/// `diff`, `push` and `runs` print through the same closed-pipe-proof stdout.
#[test]
fn a_closed_stdout_keeps_the_exit_code_of_diff_push_and_runs() {
    let env = project_with(&["A1", "A2"]);
    let cases: &[(&[&str], i32)] = &[
        (&["diff", "--no-progress", "--format", "json"], 0),
        (&["diff", "--no-progress", "--exit-code"], 1),
        (
            &["diff", "--no-progress", "--exit-code", "--format", "json"],
            1,
        ),
        (&["push", "--no-progress", "--format", "json"], 0),
        (&["diff", "--no-progress", "--exit-code"], 0),
        (&["runs"], 0),
        (&["runs", "--format", "json"], 0),
        (&["runs", "show", "1"], 0),
        (&["runs", "show", "1", "--format", "json"], 0),
        (&["runs", "show", "99"], 2),
    ];
    keeps_codes_with_stdout_closed(&env, cases);
    assert!(
        env.read("out/pins.csv").contains("A2"),
        "the push delivered"
    );
}

/// A push whose one destination cannot be written delivers the other feeds, says which
/// landed, records only those, and exits 3.
#[test]
fn exit_3_when_one_destination_fails_and_the_push_report_names_the_delivered_feeds() {
    let env = project(false);
    env.write(
        "feeds/blocked.toml",
        "channel = \"pinterest\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"blocked/sub\"\n",
    );
    env.write("blocked", "a file where a folder should be\n");
    let run = env.run(&["push", "--no-progress"]);
    run.expect_code(3);
    let stdout = run.stdout();
    assert!(
        stdout.contains("pins: pushed") && stdout.contains("wrote out/pins.csv"),
        "{stdout}"
    );
    assert!(stdout.contains("blocked: failed"), "{stdout}");
    assert!(
        run.stderr().contains("feed `blocked` push failed"),
        "{}",
        run.stderr()
    );
    // The state learnt the delivered feed only.
    env.run(&["diff", "--no-progress", "--exit-code", "pins"])
        .expect_code(0);
    env.run(&["diff", "--no-progress", "--exit-code", "blocked"])
        .expect_code(1);
}

/// A report that cannot be written (stdout on a full disk) is an output failure, said once
/// on stderr: it exited 2 as a usage error, or panicked in `channels` and `explain`.
#[test]
fn exit_3_when_the_report_cannot_be_written() {
    let env = project(false);
    for args in [
        &["validate", "--no-progress", "--format", "json"][..],
        &["channels"],
        &["explain"],
        &["runs"],
    ] {
        let run = env.run_full_stdout(args);
        let stderr = run.stderr();
        assert_eq!(run.code(), 3, "omnifeed {args:?}\n{stderr}");
        assert!(
            stderr.contains("No space left") && !stderr.contains("panicked"),
            "omnifeed {args:?}\n{stderr}"
        );
    }
}

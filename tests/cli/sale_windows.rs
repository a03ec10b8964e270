//! Issue #14.3: sale windows are evaluated at the run's time (`--now`) in the feed's time
//! zone. An expired sale is dropped (the regular price goes out), an active one is sent with
//! its dates, an upcoming one only to channels whose spec says they schedule sales
//! (`sale_effective_dates`); `diff` names the sales that start or end before the next run.

use std::collections::HashMap;

use crate::support::{TestEnv, dir_feed, table};

const HEADER: &str = "sku,title,description,brand,gtin,condition,price,currency,sale_price,sale_start,sale_end,link,image_link\n";

fn row(sku: &str, sale_start: &str, sale_end: &str) -> String {
    format!(
        "{sku},Mug {sku},Stoneware mug,Contoso,,new,20.00,EUR,15.00,{sale_start},{sale_end},https://s.example.com/{sku},https://c.example.com/{sku}.jpg\n"
    )
}

/// A catalog in Berlin time, with a Google TSV feed (which schedules sales by their dates)
/// and a Pinterest CSV feed (which does not).
fn project(rows: &[String]) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.inventory]\nrequired = false\n[defaults]\ncountry = \"DE\"\ntime_zone = \"Europe/Berlin\"\n",
    );
    env.write("cat/products.csv", format!("{HEADER}{}", rows.concat()));
    env.write("feeds/google.toml", dir_feed("google-merchant", "tsv", ""));
    env.write(
        "feeds/pinterest.toml",
        dir_feed("pinterest", "csv", "file = \"pin\"\n"),
    );
    env
}

/// Exports at `now` and returns (Google rows, Pinterest rows).
type Rows = HashMap<String, HashMap<String, String>>;
fn export_at(env: &TestEnv, now: &str) -> (Rows, Rows) {
    env.run(&["export", "--now", now]).expect_code(0);
    (
        table(&env.read("out/google.tsv"), b'\t', "id"),
        table(&env.read("out/pin.csv"), b',', "id"),
    )
}

fn sale_of(rows: &Rows, sku: &str) -> (String, String) {
    let row = &rows[sku];
    (
        row["sale_price"].clone(),
        row.get("sale_price_effective_date")
            .cloned()
            .unwrap_or_default(),
    )
}

#[test]
fn a_sale_is_sent_from_its_first_instant_until_just_before_its_end() {
    // Midnight to midnight in Berlin (UTC+1 in November): 2026-11-26T23:00Z to 2026-11-29T23:00Z.
    let env = project(&[row("BF", "2026-11-27T00:00", "2026-11-30T00:00")]);
    let dates = "2026-11-27T00:00+0100/2026-11-30T00:00+0100";

    // One second before the start: Google gets the sale ahead with its dates, Pinterest the
    // regular price only.
    let (google, pin) = export_at(&env, "2026-11-26T22:59:59Z");
    assert_eq!(google["BF"]["price"], "20.00 EUR");
    assert_eq!(
        sale_of(&google, "BF"),
        ("15.00 EUR".to_owned(), dates.to_owned())
    );
    assert_eq!(pin["BF"]["price"], "20.00 EUR");
    assert_eq!(
        pin["BF"]["sale_price"], "",
        "no upcoming sale for Pinterest"
    );

    // Exactly at the start, written with an offset: both send the sale.
    for now in ["2026-11-27T00:00:00+01:00", "2026-11-26T23:00:00Z"] {
        let (google, pin) = export_at(&env, now);
        assert_eq!(
            sale_of(&google, "BF"),
            ("15.00 EUR".to_owned(), dates.to_owned())
        );
        assert_eq!(pin["BF"]["sale_price"], "15.00 EUR", "{now}");
    }

    // The last second: still on sale.
    let (_, pin) = export_at(&env, "2026-11-29T23:59:59+01:00");
    assert_eq!(pin["BF"]["sale_price"], "15.00 EUR");

    // Exactly at the end: expired everywhere, the regular price goes out alone.
    for now in ["2026-11-30T00:00:00+01:00", "2026-11-29T18:00:00-05:00"] {
        let (google, pin) = export_at(&env, now);
        assert_eq!(google["BF"]["price"], "20.00 EUR");
        assert_eq!(
            sale_of(&google, "BF"),
            (String::new(), String::new()),
            "{now}"
        );
        assert_eq!(pin["BF"]["sale_price"], "", "{now}");
    }
}

#[test]
fn windows_across_daylight_saving_changes_keep_their_wall_clock_times() {
    let env = project(&[
        // Berlin springs forward at 02:00 on 29 March 2026: midnight is +01:00, noon +02:00.
        row("SPRING", "2026-03-29T00:00", "2026-03-29T12:00"),
        // …and falls back at 03:00 on 25 October: midnight is +02:00, noon +01:00.
        row("AUTUMN", "2026-10-25T00:00", "2026-10-25T12:00"),
    ]);
    let (google, _) = export_at(&env, "2026-03-28T23:00:00Z");
    assert_eq!(
        sale_of(&google, "SPRING").1,
        "2026-03-29T00:00+0100/2026-03-29T12:00+0200"
    );
    assert_eq!(
        sale_of(&google, "AUTUMN").1,
        "2026-10-25T00:00+0200/2026-10-25T12:00+0100"
    );
    // Noon on 29 March is 10:00 UTC (a fixed +01:00 would make it 11:00).
    let (_, pin) = export_at(&env, "2026-03-29T09:59:59Z");
    assert_eq!(pin["SPRING"]["sale_price"], "15.00 EUR");
    let (_, pin) = export_at(&env, "2026-03-29T10:00:00Z");
    assert_eq!(pin["SPRING"]["sale_price"], "");
    // Midnight on 25 October is 22:00 UTC the day before; noon is 11:00 UTC.
    let (_, pin) = export_at(&env, "2026-10-24T22:00:00Z");
    assert_eq!(pin["AUTUMN"]["sale_price"], "15.00 EUR");
    let (_, pin) = export_at(&env, "2026-10-24T21:59:59Z");
    assert_eq!(pin["AUTUMN"]["sale_price"], "");
    let (_, pin) = export_at(&env, "2026-10-25T10:59:59Z");
    assert_eq!(pin["AUTUMN"]["sale_price"], "15.00 EUR");
    let (_, pin) = export_at(&env, "2026-10-25T11:00:00Z");
    assert_eq!(pin["AUTUMN"]["sale_price"], "");
}

#[test]
fn a_window_without_an_offset_is_the_feeds_local_time_and_one_with_an_offset_is_one_instant() {
    let env = project(&[
        row("LOCAL", "2026-11-27T00:00", "2026-11-30T00:00"),
        row(
            "FIXED",
            "2026-11-27T00:00:00+01:00",
            "2026-11-30T00:00:00+01:00",
        ),
    ]);
    env.write(
        "feeds/google.toml",
        dir_feed(
            "google-merchant",
            "tsv",
            "time_zone = \"America/New_York\"\n",
        ),
    );
    // 23:30 UTC on 26 November: past midnight in Berlin, 18:30 in New York.
    let (google, _) = export_at(&env, "2026-11-26T23:30:00Z");
    assert_eq!(
        sale_of(&google, "LOCAL").1,
        "2026-11-27T00:00-0500/2026-11-30T00:00-0500",
        "midnight in New York"
    );
    assert_eq!(
        sale_of(&google, "FIXED").1,
        "2026-11-26T18:00-0500/2026-11-29T18:00-0500",
        "Berlin's midnight, written in New York time"
    );
}

#[test]
fn diff_lists_sales_that_change_before_the_next_run() {
    let env = project(&[
        row("ENDS", "2026-11-27T00:00", "2026-11-30T00:00"),
        row("STARTS", "2026-11-30T00:00", "2026-12-07T00:00"),
        row("LATER", "2026-12-24T00:00", "2026-12-27T00:00"),
    ]);
    // 23:00 Berlin on 29 November; the next run at 00:30.
    let now = "2026-11-29T22:00:00Z";
    let run = env.run(&[
        "diff",
        "pinterest",
        "--now",
        now,
        "--next-run",
        "2026-11-29T23:30:00Z",
        "--format",
        "json",
    ]);
    run.expect_code(0);
    let report = run.json();
    let feed = &report["feeds"][0];
    assert_eq!(feed["next_run"], "2026-11-29T23:30:00Z");
    let changes = feed["future_changes"].as_array().expect("future_changes");
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["sku"], "ENDS");
    assert_eq!(changes[0]["change"], "sale_ends");
    assert_eq!(changes[0]["at"], "2026-11-29T23:00:00Z");
    assert_eq!(changes[0]["before"], "15.00 EUR");
    assert_eq!(changes[0]["after"], "20.00 EUR");
    assert_eq!(changes[1]["sku"], "STARTS");
    assert_eq!(changes[1]["change"], "sale_starts");
    assert_eq!(changes[1]["before"], "20.00 EUR");
    assert_eq!(changes[1]["after"], "15.00 EUR");

    // Human output names them at the feed's local time.
    let run = env.run(&[
        "diff",
        "pinterest",
        "--now",
        now,
        "--next-run",
        "2026-11-29T23:30:00Z",
    ]);
    let text = run.stdout();
    assert!(
        text.contains("before the next run (2026-11-30 00:30 +01:00): 2 sale changes"),
        "{text}"
    );
    assert!(
        text.contains("ENDS: sale ends 2026-11-30 00:00 +01:00: 15.00 EUR → 20.00 EUR"),
        "{text}"
    );

    // The next run from `[sync] every`: 30 minutes after 23:00 is before either change.
    let config = env.read("omnifeed.toml");
    env.write(
        "omnifeed.toml",
        format!("{config}[sync]\nevery = \"30m\"\n"),
    );
    let report = env
        .run(&["diff", "pinterest", "--now", now, "--format", "json"])
        .json();
    assert_eq!(report["feeds"][0]["next_run"], "2026-11-29T22:30:00Z");
    assert_eq!(report["feeds"][0]["future_changes"], serde_json::json!([]));
    env.write("omnifeed.toml", format!("{config}[sync]\nevery = \"2h\"\n"));
    let report = env
        .run(&["diff", "pinterest", "--now", now, "--format", "json"])
        .json();
    assert_eq!(
        report["feeds"][0]["future_changes"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Without a schedule there is no next run to speak of.
    env.write("omnifeed.toml", &config);
    let report = env
        .run(&["diff", "pinterest", "--now", now, "--format", "json"])
        .json();
    assert!(report["feeds"][0].get("future_changes").is_none());

    // A bad schedule is a config error, a bad --next-run a usage error.
    env.write(
        "omnifeed.toml",
        format!("{config}[sync]\nevery = \"soon\"\n"),
    );
    let run = env.run(&["diff", "--now", now]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("[sync] every `soon`"),
        "{}",
        run.stderr()
    );
    env.write("omnifeed.toml", &config);
    let run = env.run(&["diff", "--now", now, "--next-run", "tomorrow"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("--next-run `tomorrow`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn now_is_global_and_checked() {
    let env = project(&[row("A", "2026-11-27T00:00", "2026-11-30T00:00")]);
    // Before the subcommand, too.
    env.run(&["--now", "2026-11-28T00:00:00Z", "export"])
        .expect_code(0);
    assert!(env.read("out/pin.csv").contains("15.00 EUR"));
    let run = env.run(&["export", "--now", "Friday"]);
    run.expect_code(2);
    assert!(run.stderr().contains("--now `Friday`"), "{}", run.stderr());
    // preview reads the same clock.
    let run = env.run(&[
        "preview",
        "pinterest",
        "--sku",
        "A",
        "--now",
        "2026-12-01T00:00:00Z",
    ]);
    run.expect_code(0);
    let text = run.stdout();
    assert!(
        text.contains("price: 20.00 EUR (catalog), sale 15.00 EUR from 2026-11-27T00:00+01:00 until 2026-11-30T00:00+01:00 at 2026-12-01T01:00+01:00: expired: not sent"),
        "{text}"
    );
    assert!(
        text.contains("sale_price") && text.contains("(empty)"),
        "{text}"
    );
    let text = env
        .run(&[
            "preview",
            "pinterest",
            "--sku",
            "A",
            "--now",
            "2026-11-26T12:00:00Z",
        ])
        .stdout();
    assert!(
        text.contains("upcoming: not sent yet, the channel has no effective dates"),
        "{text}"
    );
    let text = env
        .run(&[
            "preview",
            "google",
            "--sku",
            "A",
            "--now",
            "2026-11-26T12:00:00Z",
        ])
        .stdout();
    assert!(
        text.contains("upcoming: sent ahead, the channel schedules it by its dates"),
        "{text}"
    );
}

/// The future changes are the prices the feed will send: after its `price_adjust`. A flash
/// sale that opens and closes before the next run shows both changes.
#[test]
fn future_changes_carry_the_feeds_price_rule_and_a_short_sale_shows_start_and_end() {
    let env = project(&[
        row("FLASH", "2026-11-29T23:10", "2026-11-29T23:20"),
        row("ENDS", "2026-11-27T00:00", "2026-11-30T00:00"),
    ]);
    env.write(
        "feeds/pinterest.toml",
        dir_feed(
            "pinterest",
            "csv",
            "file = \"pin\"\nprice_adjust = \"+10%\"\n",
        ),
    );
    // 23:00 Berlin on 29 November; the next run at 00:30.
    let report = env
        .run(&[
            "diff",
            "pinterest",
            "--now",
            "2026-11-29T22:00:00Z",
            "--next-run",
            "2026-11-29T23:30:00Z",
            "--format",
            "json",
        ])
        .json();
    let changes: Vec<(String, String, String, String, String)> =
        report["feeds"][0]["future_changes"]
            .as_array()
            .expect("future_changes")
            .iter()
            .map(|c| {
                let text = |name: &str| c[name].as_str().expect(name).to_owned();
                (
                    text("sku"),
                    text("change"),
                    text("at"),
                    text("before"),
                    text("after"),
                )
            })
            .collect();
    let change = |sku: &str, kind: &str, at: &str, before: &str, after: &str| {
        (
            sku.to_owned(),
            kind.to_owned(),
            at.to_owned(),
            before.to_owned(),
            after.to_owned(),
        )
    };
    // 20.00 and 15.00 EUR in the catalog, +10 % in this feed.
    assert_eq!(
        changes,
        vec![
            change(
                "FLASH",
                "sale_starts",
                "2026-11-29T22:10:00Z",
                "22.00 EUR",
                "16.50 EUR"
            ),
            change(
                "FLASH",
                "sale_ends",
                "2026-11-29T22:20:00Z",
                "16.50 EUR",
                "22.00 EUR"
            ),
            change(
                "ENDS",
                "sale_ends",
                "2026-11-29T23:00:00Z",
                "16.50 EUR",
                "22.00 EUR"
            ),
        ]
    );
}

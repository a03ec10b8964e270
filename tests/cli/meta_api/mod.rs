//! `[destination] kind = "meta-catalog-api"` end to end (issue #12): the binary pushes a
//! generated catalog to a local Graph API ([`server`]) that refuses what Meta refuses and
//! injects faults; afterwards the server's items must equal the feed field by field, the
//! state must match the server, and no item was created twice.

pub(crate) mod server;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use self::server::{CATALOG, Fault, GraphServer};
use crate::support::TestEnv;

const TOKEN: &str = "EAAtest-token-Qx81";
const APP_SECRET: &str = "app-secret-Zr5k";

struct Project {
    env: TestEnv,
    server: GraphServer,
}

fn feed(server: &GraphServer, extra: &str) -> String {
    format!(
        "channel = \"meta-catalog\"\nformat = \"csv\"\n\n[destination]\n\
         kind = \"meta-catalog-api\"\ncatalog_id = \"{CATALOG}\"\nendpoint = \"{}\"\n\
         retries = 5\npoll_interval_ms = 20\nrequests_per_minute = 100000\n{extra}",
        server.url()
    )
}

impl Project {
    fn new(variants: u32, extra: &str) -> Project {
        let server = GraphServer::start(TOKEN, Some(APP_SECRET));
        let env = TestEnv::with_generated_catalog(variants);
        env.write("feeds/meta.toml", feed(&server, extra));
        Project { env, server }
    }

    fn run(&self, args: &[&str], token: &str, app_secret: &str) -> crate::support::Run {
        let run = self.env.run_with_env(
            args,
            &[
                ("META_ACCESS_TOKEN", token),
                ("META_APP_SECRET", app_secret),
            ],
        );
        for text in [run.stdout(), run.stderr()] {
            for secret in [token, app_secret, &server::proof(app_secret, token)] {
                assert!(!text.contains(secret), "a secret leaked:\n{text}");
            }
        }
        run
    }

    fn push(&self, token: &str) -> crate::support::Run {
        self.run(
            &["push", "--format", "json", "--no-progress"],
            token,
            APP_SECRET,
        )
    }

    fn diff(&self) -> Value {
        let run = self.env.run(&["diff", "--format", "json", "--no-progress"]);
        run.expect_code(0);
        run.json()["feeds"][0].clone()
    }

    /// The feed as `export` writes it: id -> column -> value, from the CSV file.
    fn expected(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.env.run(&["export", "--no-progress"]).expect_code(0);
        let mut reader =
            csv::Reader::from_path(self.env.path("out/meta.csv")).expect("the feed's CSV");
        let header = reader.headers().expect("header").clone();
        reader
            .records()
            .map(|row| {
                let row = row.expect("row");
                let fields: BTreeMap<String, String> = header
                    .iter()
                    .zip(row.iter())
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .collect();
                (fields["id"].clone(), fields)
            })
            .collect()
    }

    /// The server holds exactly the feed: the same ids, each with the feed's values.
    fn assert_server_holds(&self, expected: &BTreeMap<String, BTreeMap<String, String>>) {
        let state = self.server.state();
        let held: BTreeSet<&String> = state.items.keys().collect();
        let want: BTreeSet<&String> = expected.keys().collect();
        assert_eq!(held, want);
        for (id, fields) in expected {
            let item = &state.items[id];
            let mut seen = BTreeSet::new();
            for (name, value) in fields {
                // Shipping is a group; it is not sent through the API (see the spec).
                if name == "shipping" {
                    continue;
                }
                let sent = item
                    .get(name)
                    .unwrap_or_else(|| panic!("{id}: `{name}` missing in {item:?}"));
                let sent = match sent {
                    Value::Array(list) => list
                        .iter()
                        .map(|v| v.as_str().expect("string"))
                        .collect::<Vec<_>>()
                        .join(","),
                    Value::String(text) => text.clone(),
                    other => panic!("{id}: unexpected {name} = {other}"),
                };
                assert_eq!(&sent, value, "{id}: {name}");
                seen.insert(name.as_str());
            }
            let extra: Vec<&String> = item.keys().filter(|k| !seen.contains(k.as_str())).collect();
            assert!(extra.is_empty(), "{id}: fields not in the feed: {extra:?}");
        }
    }
}

fn keys(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| item["key"].as_str().expect("key").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn no_rejections(diff: &Value) -> bool {
    diff.get("channel_rejected")
        .is_none_or(|r| r.as_array().is_some_and(Vec::is_empty))
}

#[test]
fn a_push_with_faults_and_an_expired_token_then_a_re_run_leaves_the_server_equal_to_the_feed() {
    let project = Project::new(60, "batch_size = 10\nconcurrency = 2\n");
    let expected = project.expected();
    let ids: Vec<String> = expected.keys().cloned().collect();
    {
        let mut state = project.server.state();
        state.in_progress_polls = 2;
        state.faults.extend([
            Fault::TooMany {
                retry_after_seconds: 1,
            },
            Fault::Throttled,
            Fault::ServerError,
            Fault::DropAfterApply,
        ]);
        state
            .rejections
            .insert(ids[0].clone(), "Invalid value for price: too high".into());
        state
            .late_rejections
            .insert(ids[1].clone(), "Image could not be downloaded".into());
        // Six calls and the faulty attempts come first: the token expires with some items
        // still to send.
        state.expire_at_call = Some(9);
    }
    let first = project.push(TOKEN);
    first.expect_code(3);
    let report = first.json();
    let feed = &report["feeds"][0];
    assert_eq!(feed["outcome"], "failed", "{report}");
    assert!(feed["not_sent"].as_u64().expect("not_sent") > 0, "{report}");
    assert!(
        first.stderr().contains("new system-user token"),
        "{}",
        first.stderr()
    );

    // What the state records as accepted is on the server, as the feed has it; the rest
    // (not sent, unanswered, rejected) is pending.
    let diff = project.diff();
    let pending: BTreeSet<String> = diff["added"]
        .as_array()
        .expect("added")
        .iter()
        .map(|i| i["key"].as_str().expect("key").to_owned())
        .collect();
    assert!(pending.len() < ids.len(), "nothing was recorded: {diff}");
    {
        let state = project.server.state();
        for id in ids.iter().filter(|id| !pending.contains(*id)) {
            assert!(
                state.items.contains_key(id),
                "{id} recorded but not on the server"
            );
        }
        for id in ids.iter().filter(|id| !state.items.contains_key(*id)) {
            assert!(
                pending.contains(id),
                "{id} not on the server but not pending"
            );
        }
    }
    let rejected_before = keys(&diff["channel_rejected"]);
    assert!(rejected_before.is_subset(&ids[0..2].iter().cloned().collect()));

    // A new token; the faults are over. The rejected items are still refused: partial.
    let new_token = "EAAtest-token-second-9Pq";
    {
        let mut state = project.server.state();
        state.tokens.insert(new_token.into());
        state.expire_at_call = None;
    }
    let applied_before = project.server.state().applied.len();
    let second = project.push(new_token);
    second.expect_code(1);
    let report = second.json();
    assert_eq!(report["outcome"], "partial", "{report}");
    assert_eq!(
        keys(&report["feeds"][0]["channel_rejections"]),
        ids[0..2].iter().cloned().collect::<BTreeSet<_>>()
    );
    let messages: BTreeSet<String> = report["feeds"][0]["channel_rejections"]
        .as_array()
        .expect("rejections")
        .iter()
        .map(|r| r["message"].as_str().expect("message").to_owned())
        .collect();
    assert_eq!(
        messages,
        BTreeSet::from([
            "Invalid value for price: too high".to_owned(),
            "Image could not be downloaded".to_owned()
        ])
    );
    {
        let state = project.server.state();
        // The re-run sent exactly what was pending, each once.
        let resent: Vec<&String> = state.applied[applied_before..]
            .iter()
            .map(|a| &a.id)
            .collect();
        let unique: BTreeSet<&String> = resent.iter().copied().collect();
        assert_eq!(resent.len(), unique.len(), "sent twice: {resent:?}");
        assert!(unique.iter().all(|id| pending.contains(*id)), "{resent:?}");
        // No item was ever created twice.
        let mut created: HashMap<&str, usize> = HashMap::new();
        for applied in state.applied.iter().filter(|a| a.created) {
            *created.entry(&applied.id).or_default() += 1;
        }
        assert!(created.values().all(|n| *n == 1), "{created:?}");
    }

    // The channel takes the two now: the server holds the feed, the state agrees.
    {
        let mut state = project.server.state();
        state.rejections.clear();
        state.late_rejections.clear();
    }
    project.push(new_token).expect_code(0);
    project.assert_server_holds(&expected);
    let diff = project.diff();
    assert_eq!(diff["totals"]["added"], 0, "{diff}");
    assert_eq!(diff["totals"]["changed"], 0, "{diff}");
    assert!(no_rejections(&diff), "{diff}");
}

#[test]
fn rejections_warnings_slow_handles_split_calls_removals_and_cleared_fields() {
    let project = Project::new(20, "batch_size = 5\n");
    let expected = project.expected();
    let ids: Vec<String> = expected.keys().cloned().collect();
    let reason = "Invalid value for price: too high";
    {
        let mut state = project.server.state();
        state.in_progress_polls = 3;
        state.rejections.insert(ids[0].clone(), reason.into());
        state
            .warnings
            .insert(ids[2].clone(), "Missing recommended field: gtin".into());
        // The first call is "too large": the client splits it and sends the halves.
        state.faults.push_back(Fault::TooLarge);
    }
    let first = project.push(TOKEN);
    first.expect_code(1);
    let report = first.json();
    assert_eq!(report["outcome"], "partial");
    let rejection = &report["feeds"][0]["channel_rejections"][0];
    assert_eq!(rejection["key"], ids[0].as_str());
    assert_eq!(rejection["message"], reason);
    // The warned item is accepted, and its warning is in the report next to it.
    assert_eq!(
        report["feeds"][0]["channel_warnings"],
        serde_json::json!([{ "key": ids[2], "message": "Missing recommended field: gtin" }]),
        "{report}"
    );
    let stderr = first.stderr();
    assert!(
        stderr.contains("the channel accepted 1 items with warnings")
            && stderr.contains(&format!("{}: Missing recommended field: gtin", ids[2])),
        "{stderr}"
    );
    {
        let state = project.server.state();
        assert_eq!(state.items.len(), ids.len() - 1);
        assert!(state.largest_call <= 5);
        // Every handle stayed `started` for three polls before it finished.
        let handles = state.calls - 1;
        assert!(state.polls >= handles * 4, "{} polls", state.polls);
    }

    // `runs show` lists the rejected item with Meta's reason; `diff` shows it pending.
    let run_id = report["run"].to_string();
    let shown = project
        .env
        .run(&["runs", "show", &run_id, "--format", "json"]);
    shown.expect_code(0);
    let rejected = &shown.json()["feeds"][0]["rejected_items"];
    assert_eq!(rejected[0]["key"], ids[0].as_str());
    assert_eq!(rejected[0]["reason"], reason);
    assert_eq!(
        project.diff()["channel_rejected"][0]["key"],
        ids[0].as_str()
    );

    // Three products leave the catalog; one loses its colour: DELETEs, and the colour is
    // cleared at Meta rather than left behind.
    project.server.state().rejections.clear();
    let gone: Vec<String> = ids[3..6].to_vec();
    let faded = ids[6].clone();
    project.env.edit_products(|rows, header| {
        let sku = header.iter().position(|h| h == "sku").expect("sku");
        let color = header.iter().position(|h| h == "color").expect("color");
        rows.retain(|row| !gone.iter().any(|id| id == &row[sku]));
        for row in rows.iter_mut() {
            if row[sku] == *faded {
                *row = row
                    .iter()
                    .enumerate()
                    .map(|(i, v)| if i == color { "" } else { v })
                    .collect();
            }
        }
    });
    let expected = project.expected();
    assert!(!expected[&faded].contains_key("color"));
    project.server.state().applied.clear();
    let removed = project.run(
        &[
            "push",
            "--format",
            "json",
            "--no-progress",
            "--allow-removals",
        ],
        TOKEN,
        APP_SECRET,
    );
    removed.expect_code(0);
    {
        let state = project.server.state();
        let deleted: BTreeSet<&String> = state
            .applied
            .iter()
            .filter(|a| a.method == "DELETE")
            .map(|a| &a.id)
            .collect();
        assert_eq!(deleted, gone.iter().collect());
    }
    project.assert_server_holds(&expected);
    assert!(no_rejections(&project.diff()));
}

#[test]
fn a_wrong_app_secret_or_a_missing_token_stops_the_feed_before_anything_is_recorded() {
    let project = Project::new(5, "");
    let wrong = project.run(
        &["push", "--format", "json", "--no-progress"],
        TOKEN,
        "not-the-app-secret",
    );
    wrong.expect_code(3);
    assert!(
        wrong.stderr().contains("appsecret_proof"),
        "{}",
        wrong.stderr()
    );
    assert!(project.server.state().items.is_empty());
    assert_eq!(project.diff()["totals"]["added"], 5, "nothing was recorded");
    let dry = project.run(
        &["push", "--dry-run", "--no-progress"],
        TOKEN,
        "not-the-app-secret",
    );
    dry.expect_code(3);

    let dry = project.run(&["push", "--dry-run", "--no-progress"], TOKEN, APP_SECRET);
    dry.expect_code(0);
    assert!(
        dry.stdout()
            .contains("the token is accepted with appsecret_proof"),
        "{}",
        dry.stdout()
    );

    project.env.write(
        "feeds/meta.toml",
        feed(
            &project.server,
            "token_env = \"OMNIFEED_TEST_META_TOKEN_NOT_SET\"\n",
        ),
    );
    let missing = project.run(&["push", "--no-progress"], TOKEN, APP_SECRET);
    missing.expect_code(2);
    assert!(
        missing
            .stderr()
            .contains("OMNIFEED_TEST_META_TOKEN_NOT_SET"),
        "{}",
        missing.stderr()
    );
}

#[test]
fn the_local_server_refuses_what_meta_refuses() {
    let server = GraphServer::start(TOKEN, Some(APP_SECRET));
    let base = server.url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let good_item = serde_json::json!({"id": "A1", "title": "T", "description": "D",
        "availability": "in stock", "condition": "new", "price": "9.99 USD",
        "link": "https://shop.example.com/a1", "image_link": "https://cdn.example.com/a1.jpg"});
    let call = |requests: Value, token: &str, proof: Option<String>, version: &str| {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("access_token", token);
        if let Some(proof) = &proof {
            form.append_pair("appsecret_proof", proof);
        }
        form.append_pair("item_type", "PRODUCT_ITEM");
        form.append_pair("allow_upsert", "true");
        form.append_pair("requests", &requests.to_string());
        let body = form.finish();
        let url = format!("{base}/{version}/{CATALOG}/items_batch");
        runtime.block_on(async move {
            let response = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("answer");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON"))
        })
    };
    let proof = || Some(server::proof(APP_SECRET, TOKEN));
    let one = |method: &str, data: Value| serde_json::json!([{"method": method, "data": data}]);
    let item_errors = |answer: &Value| -> Vec<String> {
        answer["validation_status"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["errors"].as_array().cloned().unwrap_or_default())
            .map(|e| e["message"].as_str().expect("message").to_owned())
            .collect()
    };

    let (status, answer) = call(one("CREATE", good_item.clone()), TOKEN, proof(), "v26.0");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["handles"].as_array().map(Vec::len), Some(1));
    assert!(item_errors(&answer).is_empty());

    let (_, answer) = call(
        one("CREATE", good_item.clone()),
        "EAAforged",
        proof(),
        "v26.0",
    );
    assert_eq!(answer["error"]["code"], 190, "wrong token");
    let (_, answer) = call(one("CREATE", good_item.clone()), TOKEN, None, "v26.0");
    assert_eq!(answer["error"]["code"], 100, "no proof");
    let (_, answer) = call(
        one("CREATE", good_item.clone()),
        TOKEN,
        Some(server::proof("other", TOKEN)),
        "v26.0",
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Invalid appsecret_proof")),
        "{answer}"
    );
    let (status, _) = call(one("CREATE", good_item.clone()), TOKEN, proof(), "26");
    assert_eq!(status, 400, "a version without the v");

    let many: Vec<Value> = (0..5001)
        .map(|i| serde_json::json!({"method": "DELETE", "data": {"id": format!("X{i}")}}))
        .collect();
    let (_, answer) = call(Value::Array(many), TOKEN, proof(), "v26.0");
    assert_eq!(answer["error"]["code"], 100, "more than 5,000 requests");

    let mut bad_price = good_item.clone();
    bad_price["id"] = "A2".into();
    bad_price["price"] = "9,99 €".into();
    let mut missing = good_item.clone();
    missing["id"] = "A3".into();
    missing
        .as_object_mut()
        .expect("object")
        .remove("availability");
    let mut unknown = good_item.clone();
    unknown["id"] = "A4".into();
    unknown["colour"] = "red".into();
    for (requests, what) in [
        (one("UPDATE", bad_price), "bad price format"),
        (one("CREATE", missing), "missing required field"),
        (one("CREATE", unknown), "unknown field"),
        (one("UPSERT", good_item.clone()), "unknown method"),
        (one("CREATE", good_item.clone()), "created twice"),
    ] {
        let (status, answer) = call(requests, TOKEN, proof(), "v26.0");
        assert_eq!(status, 200, "{what}: {answer}");
        assert_eq!(item_errors(&answer).len(), 1, "{what}: {answer}");
    }
    assert_eq!(server.state().items.len(), 1);
}

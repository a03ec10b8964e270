//! `[destination] kind = "google-merchant-api"` end to end (issue #11): the binary pushes a
//! generated catalog to a local Merchant API ([`server`]) that refuses what Google refuses
//! and injects faults; afterwards the server's products must equal the feed field by field
//! and the state must match the server.

mod server;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;

use self::server::{Fault, MerchantServer};
use crate::support::TestEnv;

const CLIENT_EMAIL: &str = "omnifeed-test@test-project.iam.gserviceaccount.com";

/// A project whose Google feed goes to a local Merchant API, with a throw-away RSA key
/// generated for this test only.
struct Project {
    env: TestEnv,
    server: MerchantServer,
    private_key: String,
}

fn destination(server: &MerchantServer, extra: &str) -> String {
    format!(
        "[destination]\nkind = \"google-merchant-api\"\naccount = \"123456\"\ndata_source = \"777\"\n\
         credentials_file = \"service-account.json\"\nendpoint = \"{}\"\nretries = 2\n\
         requests_per_second = 10000\n{extra}",
        server.url()
    )
}

impl Project {
    fn new(variants: u32) -> Project {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA test key");
        let server = MerchantServer::start(&key.public_key_pem(), CLIENT_EMAIL);
        let env = TestEnv::new();
        env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
        let key_file = serde_json::json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "test-key-1",
            "private_key": key.serialize_pem(),
            "client_email": CLIENT_EMAIL,
            "token_uri": format!("{}/token", server.url()),
        });
        env.write("service-account.json", key_file.to_string());
        env.write(
            "feeds/google.toml",
            format!(
                "channel = \"google-merchant\"\nformat = \"xml\"\ncountry = \"DE\"\nlanguage = \"de\"\n\n{}",
                destination(&server, "")
            ),
        );
        env.generate(
            "cat",
            &[
                "--variants",
                &variants.to_string(),
                "--stores",
                "2",
                "--seed",
                "11",
            ],
        );
        Project {
            env,
            server,
            private_key: key.serialize_pem(),
        }
    }

    fn push(&self) -> crate::support::Run {
        let run = self.env.run(&["push", "--format", "json", "--no-progress"]);
        self.assert_no_secret(&run);
        run
    }

    fn diff(&self) -> Value {
        let run = self.env.run(&["diff", "--format", "json", "--no-progress"]);
        run.expect_code(0);
        self.assert_no_secret(&run);
        run.json()["feeds"][0].clone()
    }

    /// Neither the private key nor any token the server issued shows in any output.
    fn assert_no_secret(&self, run: &crate::support::Run) {
        let key_body: String = self
            .private_key
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .take(2)
            .collect();
        for text in [run.stdout(), run.stderr()] {
            assert!(
                !text.contains(&key_body[..40]),
                "the private key leaked:\n{text}"
            );
            assert!(!text.contains("ya29."), "an access token leaked:\n{text}");
        }
    }

    /// The feed as `export` writes it: offer id -> attribute -> values, from the RSS file.
    fn expected(&self) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
        self.env.run(&["export", "--no-progress"]).expect_code(0);
        let xml = self.env.read("out/google.xml");
        let doc = roxmltree::Document::parse(&xml).expect("feed XML");
        let mut items = BTreeMap::new();
        for item in doc.descendants().filter(|n| n.has_tag_name("item")) {
            let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for child in item.children().filter(|c| c.is_element()) {
                fields
                    .entry(child.tag_name().name().to_owned())
                    .or_default()
                    .push(child.text().unwrap_or_default().to_owned());
            }
            let id = fields["id"][0].clone();
            items.insert(id, fields);
        }
        items
    }
}

fn set(
    row: &csv::StringRecord,
    header: &csv::StringRecord,
    column: &str,
    value: &str,
) -> csv::StringRecord {
    let index = header.iter().position(|h| h == column).expect("column");
    row.iter()
        .enumerate()
        .map(|(i, v)| if i == index { value } else { v })
        .collect()
}

/// Google's API name of a feed attribute (products_common.proto): camelCase, repeated
/// ones plural.
fn api_name(attribute: &str) -> String {
    match attribute {
        "id" => "offerId".into(),
        "gtin" => "gtins".into(),
        "additional_image_link" => "additionalImageLinks".into(),
        "product_type" => "productTypes".into(),
        _ => {
            let mut out = String::new();
            let mut upper = false;
            for c in attribute.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.push(c.to_ascii_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

fn timestamp(text: &str) -> jiff::Timestamp {
    jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M%z", text)
        .and_then(|t| t.to_timestamp())
        .or_else(|_| text.parse())
        .unwrap_or_else(|err| panic!("{text}: {err}"))
}

/// Compares one product on the server with the feed's attributes, field by field.
fn assert_same_product(offer: &str, feed: &BTreeMap<String, Vec<String>>, input: &Value) {
    assert_eq!(input["offerId"], offer);
    assert_eq!(input["contentLanguage"], "de");
    assert_eq!(input["feedLabel"], "DE");
    let attributes = input["productAttributes"]
        .as_object()
        .expect("productAttributes");
    let mut seen = BTreeSet::new();
    for (attribute, values) in feed {
        if attribute == "id" {
            continue;
        }
        let name = api_name(attribute);
        let sent = attributes
            .get(&name)
            .unwrap_or_else(|| panic!("{offer}: `{attribute}` ({name}) missing in {input}"));
        seen.insert(name.clone());
        let first = &values[0];
        match sent {
            Value::Array(list) => {
                let list: Vec<&str> = list.iter().map(|v| v.as_str().expect("string")).collect();
                assert_eq!(list, *values, "{offer}: {attribute}");
            }
            Value::Bool(flag) => {
                assert_eq!(
                    *flag,
                    matches!(first.as_str(), "yes" | "true"),
                    "{offer}: {attribute}"
                );
            }
            Value::Object(object) if object.contains_key("amountMicros") => {
                let (amount, currency) = first.split_once(' ').expect("price");
                let micros: i64 = object["amountMicros"]
                    .as_str()
                    .expect("string")
                    .parse()
                    .expect("int");
                let expected = (amount.parse::<f64>().expect("amount") * 1e6).round() as i64;
                assert_eq!(micros, expected, "{offer}: {attribute}");
                assert_eq!(object["currencyCode"], currency, "{offer}: {attribute}");
            }
            Value::Object(object) if object.contains_key("startTime") => {
                let (start, end) = first.split_once('/').expect("range");
                for (key, text) in [("startTime", start), ("endTime", end)] {
                    let sent: jiff::Timestamp = object[key]
                        .as_str()
                        .expect("time")
                        .parse()
                        .expect("RFC 3339");
                    assert_eq!(sent, timestamp(text), "{offer}: {attribute}.{key}");
                }
            }
            Value::Object(object) if object.contains_key("unit") => {
                let (value, unit) = first.split_once(' ').expect("measure");
                assert_eq!(
                    object["value"].as_f64(),
                    value.parse::<f64>().ok(),
                    "{offer}: {attribute}"
                );
                assert_eq!(object["unit"], unit, "{offer}: {attribute}");
            }
            Value::String(text) if name == "availabilityDate" => {
                assert_eq!(
                    text.parse::<jiff::Timestamp>().expect("time"),
                    timestamp(first)
                );
            }
            Value::String(text) => {
                let enum_like = text.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                    && first.chars().any(|c| c.is_ascii_lowercase());
                let want = if enum_like {
                    first.to_ascii_uppercase().replace(' ', "_")
                } else {
                    first.clone()
                };
                assert_eq!(*text, want, "{offer}: {attribute}");
            }
            other => panic!("{offer}: unexpected {attribute} = {other}"),
        }
    }
    // Nothing on the server that the feed does not have.
    let extra: Vec<&String> = attributes.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        extra.is_empty(),
        "{offer}: attributes not in the feed: {extra:?}"
    );
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

#[test]
fn a_push_with_faults_and_one_re_run_leaves_the_server_equal_to_the_feed() {
    let project = Project::new(120);
    let expected = project.expected();
    let ids: Vec<String> = expected.keys().cloned().collect();
    {
        let mut state = project.server.state();
        for id in &ids[0..3] {
            state.faults.insert(
                id.clone(),
                VecDeque::from([Fault::TooMany {
                    retry_after_seconds: 1,
                }]),
            );
        }
        for id in &ids[3..6] {
            state
                .faults
                .insert(id.clone(), VecDeque::from([Fault::ServerError]));
        }
        for id in &ids[6..9] {
            state
                .faults
                .insert(id.clone(), VecDeque::from([Fault::DropAfterApply]));
        }
        // More failures than the retries: never answered in this run.
        for id in &ids[9..11] {
            state
                .faults
                .insert(id.clone(), VecDeque::from(vec![Fault::ServerError; 10]));
        }
        for id in &ids[11..13] {
            state
                .rejections
                .insert(id.clone(), "[gtin] Invalid GTIN for this product".into());
        }
    }
    let first = project.push();
    // Items without an answer fail the feed (exit 3); nothing was recorded for them.
    first.expect_code(3);
    let report = first.json();
    let feed = &report["feeds"][0];
    assert_eq!(feed["outcome"], "failed");
    assert_eq!(feed["not_sent"], 2, "{report}");
    assert_eq!(
        keys(&feed["channel_rejections"]),
        ids[11..13].iter().cloned().collect::<BTreeSet<_>>()
    );
    assert!(
        first.stderr().contains("next push sends them again"),
        "{}",
        first.stderr()
    );

    // The state knows exactly what is pending: the unanswered and the rejected items.
    let diff = project.diff();
    assert_eq!(diff["totals"]["added"], 4, "{diff}");
    let pending: BTreeSet<String> = diff["added"]
        .as_array()
        .expect("added")
        .iter()
        .map(|i| i["key"].as_str().expect("key").to_owned())
        .collect();
    assert_eq!(pending, ids[9..13].iter().cloned().collect::<BTreeSet<_>>());
    let rejected = &diff["channel_rejected"];
    assert_eq!(
        keys(rejected),
        ids[11..13].iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        rejected[0]["reason"],
        "INVALID_ARGUMENT: [gtin] Invalid GTIN for this product"
    );

    {
        let mut state = project.server.state();
        state.faults.clear();
        state.rejections.clear();
        state.applied.clear();
    }
    let second = project.push();
    second.expect_code(0);
    {
        let state = project.server.state();
        // The re-run sent exactly what was pending, each once.
        let inserted: Vec<String> = state
            .applied
            .iter()
            .map(|a| {
                assert_eq!(a.method, "INSERT");
                a.name.rsplit('~').next().expect("offer").to_owned()
            })
            .collect();
        let unique: BTreeSet<String> = inserted.iter().cloned().collect();
        assert_eq!(inserted.len(), unique.len(), "inserted twice: {inserted:?}");
        assert_eq!(unique, ids[9..13].iter().cloned().collect::<BTreeSet<_>>());
        // The server holds the feed exactly.
        let names: BTreeSet<String> = state.products.keys().cloned().collect();
        let want: BTreeSet<String> = ids.iter().map(|id| format!("de~DE~{id}")).collect();
        assert_eq!(names, want);
        for (offer, fields) in &expected {
            assert_same_product(offer, fields, &state.products[&format!("de~DE~{offer}")]);
        }
    }
    // And the state agrees with the server.
    let diff = project.diff();
    assert_eq!(diff["totals"]["added"], 0, "{diff}");
    assert_eq!(diff["totals"]["changed"], 0, "{diff}");
    assert!(
        diff.get("channel_rejected")
            .is_none_or(|r| r.as_array().is_some_and(Vec::is_empty)),
        "{diff}"
    );
}

#[test]
fn rejected_items_are_partial_listed_held_back_and_sent_again_once_changed() {
    let project = Project::new(30);
    // Offer ids holding `/` and `~` travel base64url-encoded in resource names.
    project.env.write(
        "feeds/google.toml",
        format!(
            "channel = \"google-merchant\"\nformat = \"xml\"\ncountry = \"DE\"\nlanguage = \"de\"\n\n\
             [fields]\nid = \"{{{{ sku }}}}/x~1\"\n\n{}",
            destination(&project.server, "")
        ),
    );
    let expected = project.expected();
    let ids: Vec<String> = expected.keys().cloned().collect();
    let bad = ids[0].clone();
    let reason = "INVALID_ARGUMENT: [price] Price too high";
    project
        .server
        .state()
        .rejections
        .insert(bad.clone(), "[price] Price too high".into());

    let first = project.push();
    first.expect_code(1);
    let report = first.json();
    assert_eq!(report["outcome"], "partial");
    assert_eq!(
        report["feeds"][0]["channel_rejections"][0]["key"],
        bad.as_str()
    );
    assert_eq!(
        report["feeds"][0]["channel_rejections"][0]["message"],
        reason
    );
    assert!(
        first.stderr().contains(&format!("{bad}: {reason}")),
        "{}",
        first.stderr()
    );
    assert_eq!(project.server.state().products.len(), ids.len() - 1);

    // `runs show` lists the rejected item with the channel's reason.
    let run_id = report["run"].to_string();
    let shown = project
        .env
        .run(&["runs", "show", &run_id, "--format", "json"]);
    shown.expect_code(0);
    let rejected = &shown.json()["feeds"][0]["rejected_items"];
    assert_eq!(rejected[0]["key"], bad.as_str());
    assert_eq!(rejected[0]["reason"], reason);
    let human = project.env.run(&["runs", "show", &run_id]);
    assert!(
        human
            .stdout()
            .contains(&format!("rejected {bad}: {reason}")),
        "{}",
        human.stdout()
    );

    for _ in 0..2 {
        project.push().expect_code(1);
    }
    let diff = project.diff();
    assert_eq!(diff["channel_rejected"][0]["key"], bad.as_str());
    assert_eq!(diff["channel_rejected"][0]["rejections"], 3);
    let human = project.env.run(&["diff", "--no-progress"]);
    assert!(
        human
            .stdout()
            .contains(&format!("{bad}: {reason} (3 runs in a row)")),
        "{}",
        human.stdout()
    );

    // Refused three runs in a row for the same content: held back, not sent.
    project.server.state().applied.clear();
    let held = project.push();
    held.expect_code(1);
    let report = held.json();
    assert_eq!(report["feeds"][0]["held_back"][0]["key"], bad.as_str());
    assert!(held.stderr().contains("held back"), "{}", held.stderr());
    assert!(
        project.server.state().applied.is_empty(),
        "a held-back item was sent"
    );

    // Its content changes: it is sent again (and now accepted).
    let sku = bad.split('/').next().expect("sku").to_owned();
    project.env.edit_products(|rows, header| {
        let sku_col = header.iter().position(|h| h == "sku").expect("sku");
        for row in rows.iter_mut() {
            if &row[sku_col] == sku.as_str() {
                *row = set(row, header, "title", "Fixed title");
            }
        }
    });
    project.server.state().rejections.clear();
    project.push().expect_code(0);
    {
        let state = project.server.state();
        let product = &state.products[&format!("de~DE~{bad}")];
        assert_eq!(product["productAttributes"]["title"], "Fixed title");
    }
    assert!(
        project
            .diff()
            .get("channel_rejected")
            .is_none_or(|r| r.as_array().is_some_and(Vec::is_empty))
    );

    // Removed items are deleted by their encoded names.
    let gone: Vec<String> = ids[1..4].to_vec();
    let gone_skus: Vec<String> = gone
        .iter()
        .map(|id| id.split('/').next().expect("sku").to_owned())
        .collect();
    project.env.edit_products(|rows, header| {
        let sku_col = header.iter().position(|h| h == "sku").expect("sku");
        rows.retain(|row| !gone_skus.iter().any(|sku| sku == &row[sku_col]));
    });
    project.server.state().applied.clear();
    let removed = project.env.run(&[
        "push",
        "--format",
        "json",
        "--no-progress",
        "--allow-removals",
    ]);
    project.assert_no_secret(&removed);
    removed.expect_code(0);
    let state = project.server.state();
    let deleted: BTreeSet<String> = state
        .applied
        .iter()
        .filter(|a| a.method == "DELETE")
        .map(|a| a.name.clone())
        .collect();
    let want: BTreeSet<String> = gone.iter().map(|id| format!("de~DE~{id}")).collect();
    assert_eq!(deleted, want);
    assert_eq!(state.products.len(), ids.len() - 3);
    for name in &want {
        assert!(!state.products.contains_key(name));
    }
}

#[test]
fn refused_credentials_stop_the_feed_and_a_revoked_token_is_replaced() {
    let project = Project::new(10);
    // A key the server does not trust: the token exchange fails before any item is sent.
    let stranger = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let good = project.env.read("service-account.json");
    let mut key: Value = serde_json::from_str(&good).expect("key JSON");
    key["private_key"] = Value::String(stranger.serialize_pem());
    project.env.write("service-account.json", key.to_string());
    let refused = project.push();
    refused.expect_code(3);
    assert!(
        refused.stderr().contains("refused the service account"),
        "{}",
        refused.stderr()
    );
    assert!(!refused.stderr().contains(&stranger.serialize_pem()[40..80]));
    {
        let state = project.server.state();
        assert_eq!(state.requests, 1, "only the token request");
        assert!(state.products.is_empty());
    }
    assert_eq!(
        project.diff()["totals"]["added"],
        10,
        "nothing was recorded"
    );

    // The right key, named by GOOGLE_APPLICATION_CREDENTIALS; every token is revoked after
    // the third request: the client fetches a new one once and carries on.
    project.env.write("service-account.json", &good);
    project.env.write(
        "feeds/google.toml",
        format!(
            "channel = \"google-merchant\"\nformat = \"xml\"\ncountry = \"DE\"\nlanguage = \"de\"\n\n{}",
            destination(&project.server, "").replace("credentials_file = \"service-account.json\"\n", "")
        ),
    );
    project.server.state().revoke_at_request = Some(4);
    let key_path = project.env.path("service-account.json");
    let run = project.env.run_with_env(
        &["push", "--format", "json", "--no-progress"],
        &[(
            "GOOGLE_APPLICATION_CREDENTIALS",
            key_path.to_str().expect("path"),
        )],
    );
    project.assert_no_secret(&run);
    run.expect_code(0);
    let state = project.server.state();
    assert_eq!(state.tokens_issued, 2);
    assert_eq!(state.products.len(), 10);
}

#[test]
fn the_local_server_refuses_what_the_merchant_api_refuses() {
    let project = Project::new(1);
    let base = project.server.url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let token = {
            let key: Value = serde_json::from_str(&project.env.read("service-account.json")).expect("key");
            #[derive(serde::Serialize)]
            struct Claims<'a> {
                iss: &'a str,
                scope: &'a str,
                aud: String,
                iat: u64,
                exp: u64,
            }
            let now = jiff::Timestamp::now().as_second() as u64;
            let claims = Claims {
                iss: CLIENT_EMAIL,
                scope: "https://www.googleapis.com/auth/content",
                aud: format!("{base}/token"),
                iat: now,
                exp: now + 600,
            };
            let signing = jsonwebtoken::EncodingKey::from_rsa_pem(key["private_key"].as_str().expect("pem").as_bytes()).expect("key");
            let jwt = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &signing).expect("jwt");
            let body = format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={jwt}");
            let answer: Value = client
                .post(format!("{base}/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("token")
                .json()
                .await
                .expect("token JSON");
            answer["access_token"].as_str().expect("access_token").to_owned()
        };
        let good = serde_json::json!({
            "offerId": "A1", "contentLanguage": "de", "feedLabel": "DE",
            "productAttributes": {"title": "T", "price": {"amountMicros": "1000000", "currencyCode": "EUR"}, "availability": "IN_STOCK"}
        });
        let insert = format!("{base}/products/v1/accounts/123456/productInputs:insert?dataSource=accounts/123456/dataSources/777");
        let post = |url: String, body: Value, token: String| {
            let client = client.clone();
            async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("answer")
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(post(insert.clone(), good.clone(), token.clone()).await, 200);
        let mut bad = good.clone();
        bad["productAttributes"]["price"]["amountMicros"] = "1.5".into();
        assert_eq!(post(insert.clone(), bad, token.clone()).await, 400, "non-integer amountMicros");
        let mut bad = good.clone();
        bad["productAttributes"]["colour"] = "red".into();
        assert_eq!(post(insert.clone(), bad, token.clone()).await, 400, "unknown field");
        let mut bad = good.clone();
        bad["attributes"] = serde_json::json!({});
        assert_eq!(post(insert.clone(), bad, token.clone()).await, 400, "v1beta's attributes");
        let mut bad = good.clone();
        bad["productAttributes"]["availability"] = "in stock".into();
        assert_eq!(post(insert.clone(), bad, token.clone()).await, 400, "bad enum");
        let without_source = format!("{base}/products/v1/accounts/123456/productInputs:insert");
        assert_eq!(post(without_source, good.clone(), token.clone()).await, 400, "missing dataSource");
        assert_eq!(post(insert.clone(), good.clone(), "ya29.forged".into()).await, 401, "wrong token");
    });
}

#[test]
fn pushes_killed_at_random_points_converge_to_the_feed() {
    let project = Project::new(150);
    project.server.state().delay = std::time::Duration::from_millis(4);
    project.env.write(
        "feeds/google.toml",
        format!(
            "channel = \"google-merchant\"\nformat = \"xml\"\ncountry = \"DE\"\nlanguage = \"de\"\n\n{}",
            destination(&project.server, "concurrency = 4\n")
        ),
    );
    // A fixed xorshift sequence: the kill points vary from round to round, the same in every
    // test run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut applied_per_round = Vec::new();
    for round in 0..6 {
        if round == 3 {
            // The catalog moves on between kills: some prices change.
            project.env.edit_products(|rows, header| {
                let price = header.iter().position(|h| h == "price").expect("price");
                for row in rows.iter_mut().step_by(7) {
                    let old: f64 = row[price].parse().expect("price");
                    *row = set(row, header, "price", &format!("{:.2}", old + 1.0));
                }
            });
        }
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_omnifeed"))
            .current_dir(project.env.dir.path())
            .args(["push", "--no-progress"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start omnifeed");
        let applied_before = project.server.state().applied.len();
        if round % 2 == 0 {
            // Anywhere from start-up to delivery.
            std::thread::sleep(std::time::Duration::from_millis(50 + next() % 1500));
        } else {
            // In the middle of delivery: once the server has applied some of the items.
            let target = applied_before + 1 + (next() % 100) as usize;
            let started = std::time::Instant::now();
            while project.server.state().applied.len() < target
                && started.elapsed() < std::time::Duration::from_secs(60)
                && child.try_wait().expect("child status").is_none()
            {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        // SIGKILL: no chance to clean up.
        let _ = child.kill();
        let _ = child.wait();
        let state = project.server.state();
        applied_per_round.push(state.applied.len());
    }
    eprintln!("requests applied after each kill: {applied_per_round:?}");
    assert!(
        applied_per_round.windows(2).any(|w| w[1] > w[0]),
        "no push was killed during delivery: {applied_per_round:?}"
    );
    let last = project.push();
    last.expect_code(0);
    let expected = project.expected();
    {
        let state = project.server.state();
        let names: BTreeSet<String> = state.products.keys().cloned().collect();
        let want: BTreeSet<String> = expected.keys().map(|id| format!("de~DE~{id}")).collect();
        assert_eq!(names, want);
        for (offer, fields) in &expected {
            assert_same_product(offer, fields, &state.products[&format!("de~DE~{offer}")]);
        }
    }
    let diff = project.diff();
    assert_eq!(diff["totals"]["added"], 0, "{diff}");
    assert_eq!(diff["totals"]["changed"], 0, "{diff}");
    // A push with nothing pending sends nothing.
    project.server.state().applied.clear();
    project.push().expect_code(0);
    assert!(project.server.state().applied.is_empty());
}

#[test]
fn local_inventory_goes_per_product_and_store_through_local_inventories() {
    let project = Project::new(20);
    project.env.write(
        "feeds/local.toml",
        format!(
            "channel = \"google-local-inventory\"\nformat = \"tsv\"\ncountry = \"DE\"\nlanguage = \"de\"\n\n{}",
            destination(&project.server, "")
        ),
    );
    project.push().expect_code(0);
    project.env.run(&["export", "--no-progress"]).expect_code(0);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(project.env.path("out/local.tsv"))
        .expect("local inventory TSV");
    let header = reader.headers().expect("header").clone();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert!(!rows.is_empty());
    let state = project.server.state();
    assert_eq!(state.inventories.len(), rows.len());
    for row in &rows {
        let (store, id) = (&row[col("store_code")], &row[col("id")]);
        let sent = &state.inventories[&(format!("de~DE~{id}"), store.to_owned())];
        assert_eq!(sent["storeCode"], store);
        let attributes = &sent["localInventoryAttributes"];
        assert_eq!(
            attributes["quantity"],
            row[col("quantity")].to_string(),
            "{id} in {store}"
        );
        assert_eq!(
            attributes["availability"],
            row[col("availability")].to_ascii_uppercase(),
            "{id} in {store}"
        );
    }
}

/// The operations of `push --dry-run --format json` for the one feed, by key.
fn planned(run: &crate::support::Run) -> (Value, BTreeMap<String, Value>) {
    let items = run.json()["feeds"][0]["items"].clone();
    let operations = items["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|operation| {
            let key = operation["key"].as_str().expect("key").to_owned();
            (key, operation.clone())
        })
        .collect();
    (items, operations)
}

/// Issue #11 point 6: `push --dry-run` lists the item operations with the very requests a
/// push then sends, without credentials and without touching the server or the state.
#[test]
fn dry_run_lists_item_operations_with_the_requests_a_push_sends() {
    let project = Project::new(30);
    let expected = project.expected();
    let ids: Vec<String> = expected.keys().cloned().collect();
    let feed_file = project.env.read("feeds/google.toml");
    // No key file at all: a dry run needs no credentials.
    project.env.write(
        "feeds/google.toml",
        feed_file.replace("service-account.json", "no-such-key.json"),
    );
    let dry = project.env.run(&[
        "push",
        "--dry-run",
        "--format",
        "json",
        "--no-progress",
        "--show-items",
        "5",
    ]);
    dry.expect_code(0);
    project.assert_no_secret(&dry);
    let (items, first) = planned(&dry);
    assert_eq!(items["insert"], ids.len());
    for kind in ["update", "refresh", "delete", "held_back"] {
        assert_eq!(items[kind], 0, "{kind}: {items}");
    }
    assert_eq!(first.len(), 5);
    assert_eq!(dry.json()["feeds"][0]["files"], serde_json::json!([]));
    assert_eq!(
        project.server.state().requests,
        0,
        "a dry run sent requests"
    );
    let runs = project.env.run(&["runs", "--format", "json"]);
    assert!(
        !runs.stdout().contains("\"id\""),
        "a dry run left a run: {}",
        runs.stdout()
    );

    // The push sends exactly the bodies the dry run showed.
    project.env.write("feeds/google.toml", &feed_file);
    project.push().expect_code(0);
    {
        let state = project.server.state();
        for (key, operation) in &first {
            assert_eq!(operation["operation"], "insert");
            let request = &operation["request"];
            assert_eq!(request["method"], "POST");
            assert_eq!(
                request["url"],
                format!(
                    "{}/products/v1/accounts/123456/productInputs:insert?dataSource=accounts/123456/dataSources/777",
                    project.server.url()
                )
            );
            assert_eq!(
                &request["body"],
                &state.products[&format!("de~DE~{key}")],
                "{key}"
            );
        }
    }

    // Two items change, one leaves, one is refused three runs in a row (held back).
    let (changed, gone, refused) = (&ids[0..2], &ids[2], &ids[3]);
    project.env.edit_products(|rows, header| {
        let sku = header.iter().position(|h| h == "sku").expect("sku");
        rows.retain(|row| &row[sku] != gone.as_str());
        for row in rows.iter_mut() {
            if changed.iter().any(|id| id == &row[sku]) {
                *row = set(row, header, "title", "A new title");
            }
            if &row[sku] == refused.as_str() {
                *row = set(row, header, "title", "Refused title");
            }
        }
    });
    project
        .server
        .state()
        .rejections
        .insert(refused.clone(), "[title] Prohibited".into());
    for _ in 0..3 {
        project
            .env
            .run(&["push", "--no-progress", "--allow-removals"])
            .expect_code(1);
    }
    project.env.edit_products(|rows, header| {
        let sku = header.iter().position(|h| h == "sku").expect("sku");
        for row in rows.iter_mut() {
            if changed.iter().any(|id| id == &row[sku]) {
                *row = set(row, header, "title", "A newer title");
            }
        }
    });
    let gone_sku = ids[4].clone();
    project.env.edit_products(|rows, header| {
        let sku = header.iter().position(|h| h == "sku").expect("sku");
        rows.retain(|row| row[sku] != *gone_sku);
    });
    let requests = project.server.state().requests;
    let dry = project.env.run(&[
        "push",
        "--dry-run",
        "--format",
        "json",
        "--no-progress",
        "--allow-removals",
        "--show-items",
        "100",
    ]);
    dry.expect_code(0);
    let (items, all) = planned(&dry);
    assert_eq!(items["insert"], 0, "{items}");
    assert_eq!(items["update"], 2, "{items}");
    assert_eq!(items["delete"], 1, "{items}");
    assert_eq!(items["held_back"], 1, "{items}");
    assert_eq!(items["refresh"], 0, "{items}");
    assert_eq!(all.len(), 4);
    for key in changed {
        assert_eq!(all[key]["operation"], "update");
        assert_eq!(
            all[key]["request"]["body"]["productAttributes"]["title"],
            "A newer title"
        );
    }
    let delete = &all[&gone_sku];
    assert_eq!(delete["operation"], "delete");
    assert_eq!(delete["request"]["method"], "DELETE");
    assert!(
        delete["request"]["url"]
            .as_str()
            .is_some_and(|url| url.contains(&format!("/productInputs/de~DE~{gone_sku}?"))),
        "{delete}"
    );
    assert!(delete["request"].get("body").is_none(), "{delete}");
    let held = &all[refused];
    assert_eq!(held["operation"], "held_back");
    assert!(held.get("request").is_none(), "{held}");
    assert!(
        held["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("[title] Prohibited")),
        "{held}"
    );
    assert_eq!(
        project.server.state().requests,
        requests,
        "a dry run sent requests"
    );

    // Human form: the counts, then one line per operation.
    let human = project.env.run(&[
        "push",
        "--dry-run",
        "--no-progress",
        "--allow-removals",
        "--show-items",
        "1",
    ]);
    human.expect_code(0);
    let out = human.stdout();
    assert!(
        out.contains("items: 0 insert, 2 update, 0 refresh, 1 delete, 1 held back"),
        "{out}"
    );
    assert!(out.contains("and 3 more"), "{out}");

    // Past the refresh window every unchanged item is re-sent: refresh operations.
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(28 * 24)).to_string();
    let refresh = project.env.run(&[
        "push",
        "--dry-run",
        "--format",
        "json",
        "--no-progress",
        "--allow-removals",
        "--now",
        &later,
    ]);
    let (items, _) = planned(&refresh);
    // A sale that has ended by then changes its item (the regular price goes out): those
    // are updates. Together with the refreshes they are every item but the deleted and
    // the held-back one.
    let count = |name: &str| items[name].as_u64().expect("a count");
    assert_eq!(
        count("refresh") + count("update"),
        u64::try_from(ids.len() - 1 - 1 - 1).expect("count"),
        "{items}\n{}",
        refresh.stderr()
    );
    assert!(count("refresh") > 0, "{items}");
}

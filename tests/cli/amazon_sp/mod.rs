//! `[destination] kind = "amazon-sp-api"` end to end (issue #12): the binary pushes a
//! generated catalog's Amazon feed to a local SP-API ([`server`]) that refuses what Amazon
//! refuses and injects faults; afterwards the server's listings must equal the feed
//! message by message (as `export` writes it) and the state must match the server.

pub(crate) mod server;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use self::server::{
    ACCESS_TOKEN_PREFIX, CLIENT_ID, CLIENT_SECRET, CONTENT_TYPE, Fault, Op, Plan, REFRESH_TOKEN,
    SpApiServer,
};
use crate::support::TestEnv;

/// The createFeed plan both sides use in the tests: a burst of 2, then one each 0.2 s.
const CREATE_FEED: Plan = Plan {
    per_second: 5.0,
    burst: 2.0,
};

fn destination(server: &SpApiServer, extra: &str) -> String {
    format!(
        "[destination]\nkind = \"amazon-sp-api\"\nmarketplace_ids = [\"A1PA6795UKMFR9\"]\n\
         endpoint = \"{url}\"\ntoken_url = \"{url}/auth/o2/token\"\npoll_interval_ms = 10\n\
         poll_max_seconds = 1\nretries = 3\nmax_messages = 7\n\
         rate_limits.create_feed = {{ per_second = {}, burst = {} }}\n\
         rate_limits.get_feed_document = {{ per_second = 100, burst = 10 }}\n{extra}",
        CREATE_FEED.per_second,
        CREATE_FEED.burst as u32,
        url = server.url(),
    )
}

fn feed(server: &SpApiServer, extra: &str) -> String {
    format!(
        "channel = \"amazon-listings\"\nformat = \"json\"\ncurrency = \"EUR\"\n\n\
         [params]\nseller_id = \"A1TESTSELLER\"\nmarketplace_id = \"A1PA6795UKMFR9\"\n\
         language_tag = \"de_DE\"\n\n[fields]\nproductType = \"PRODUCT\"\n\n{}",
        destination(server, extra)
    )
}

struct Project {
    env: TestEnv,
    server: SpApiServer,
}

const VARS: [(&str, &str); 3] = [
    ("SP_API_CLIENT_ID", CLIENT_ID),
    ("SP_API_CLIENT_SECRET", CLIENT_SECRET),
    ("SP_API_REFRESH_TOKEN", REFRESH_TOKEN),
];

impl Project {
    fn new(variants: u32) -> Project {
        let server = SpApiServer::start();
        server.limit(Op::CreateFeed, CREATE_FEED);
        let env = TestEnv::with_generated_catalog(variants);
        env.write("feeds/amazon.toml", feed(&server, ""));
        Project { env, server }
    }

    fn push(&self) -> crate::support::Run {
        let run = self
            .env
            .run_with_env(&["push", "--format", "json", "--no-progress"], &VARS);
        assert_no_secret(&run);
        run
    }

    fn diff(&self) -> Value {
        let run = self.env.run(&["diff", "--format", "json", "--no-progress"]);
        run.expect_code(0);
        run.json()["feeds"][0].clone()
    }

    /// The feed as `export` writes it: SKU -> message without its messageId.
    fn expected(&self) -> BTreeMap<String, Value> {
        self.env.run(&["export", "--no-progress"]).expect_code(0);
        let document: Value =
            serde_json::from_str(&self.env.read("out/amazon.json")).expect("exported JSON");
        document["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|message| {
                let mut message = message.clone();
                message.as_object_mut().expect("object").remove("messageId");
                (message["sku"].as_str().expect("sku").to_owned(), message)
            })
            .collect()
    }

    /// The server holds exactly `expected`, and refused nothing a correct client sends.
    fn assert_holds(&self, expected: &BTreeMap<String, Value>) {
        let state = self.server.state();
        assert!(state.refusals.is_empty(), "{:#?}", state.refusals);
        assert_eq!(state.throttled, 0, "the client exceeded a usage plan");
        let held: BTreeSet<&String> = state.listings.keys().collect();
        let want: BTreeSet<&String> = expected.keys().collect();
        assert_eq!(held, want);
        for (sku, message) in expected {
            assert_eq!(&state.listings[sku], message, "listing {sku}");
        }
    }
}

/// Neither the LWA credentials nor any access token shows in any output.
fn assert_no_secret(run: &crate::support::Run) {
    for text in [run.stdout(), run.stderr()] {
        for secret in [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN_PREFIX] {
            assert!(!text.contains(secret), "a secret leaked:\n{text}");
        }
    }
}

fn keys(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["key"].as_str().expect("key").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn diff_is_clean(diff: &Value) {
    for total in ["added", "changed", "removed"] {
        assert_eq!(diff["totals"][total], 0, "{total}: {diff}");
    }
    assert!(
        diff.get("channel_rejected")
            .is_none_or(|r| r.as_array().is_some_and(Vec::is_empty)),
        "{diff}"
    );
}

#[test]
fn listings_reach_amazon_in_paced_documents_and_the_state_follows_each_report() {
    let project = Project::new(250);
    let expected = project.expected();
    let skus: Vec<String> = expected.keys().cloned().collect();
    assert!(skus.len() > 20, "a catalog of several documents");
    let (bad, warned) = (skus[3].clone(), skus[5].clone());
    {
        let mut state = project.server.state();
        state.rejections.insert(
            bad.clone(),
            (
                "90220".into(),
                "'brand' is required but not supplied.".into(),
            ),
        );
        state.warnings.insert(
            warned.clone(),
            ("18027".into(), "The image is small.".into()),
        );
    }

    let first = project.push();
    // A per-message ERROR makes the run partial (exit 1); the rest is accepted.
    first.expect_code(1);
    let report = first.json();
    let feed = &report["feeds"][0];
    assert_eq!(report["outcome"], "partial", "{report}");
    assert_eq!(
        keys(&feed["channel_rejections"]),
        BTreeSet::from([bad.clone()])
    );
    assert_eq!(
        feed["channel_rejections"][0]["message"],
        "90220: 'brand' is required but not supplied."
    );
    // Amazon's warning comes back in the report with its listing, which counts as accepted.
    assert_eq!(
        feed["channel_warnings"],
        serde_json::json!([{ "key": warned, "message": "18027: The image is small." }]),
        "{report}"
    );
    assert!(
        first
            .stderr()
            .contains("the channel accepted 1 items with warnings"),
        "{}",
        first.stderr()
    );
    {
        let state = project.server.state();
        // Seven messages a document, so several feeds, paced by createFeed's usage plan
        // (burst 2) without one 429; every document within the schema.
        assert_eq!(state.feeds_created, skus.len().div_ceil(7));
        assert_eq!(state.most_messages, 7);
        assert!(state.refusals.is_empty(), "{:#?}", state.refusals);
        assert_eq!(state.throttled, 0);
        // One token for the whole run.
        assert_eq!(state.tokens_issued, 1);
        assert!(state.listings.contains_key(&warned), "a warning accepts");
        assert!(!state.listings.contains_key(&bad));
    }
    // The state has the rejected SKU pending with Amazon's reason, the rest accepted.
    let diff = project.diff();
    assert_eq!(diff["totals"]["added"], 1, "{diff}");
    assert_eq!(
        keys(&diff["channel_rejected"]),
        BTreeSet::from([bad.clone()])
    );
    assert_eq!(
        diff["channel_rejected"][0]["reason"],
        "90220: 'brand' is required but not supplied."
    );

    // Amazon takes it now: the re-run sends that one SKU only.
    project.server.state().rejections.clear();
    let feeds_before = project.server.state().feeds_created;
    project.push().expect_code(0);
    assert_eq!(project.server.state().feeds_created, feeds_before + 1);
    project.assert_holds(&expected);
    diff_is_clean(&project.diff());

    // Nothing changed: nothing is sent.
    project.push().expect_code(0);
    assert_eq!(project.server.state().feeds_created, feeds_before + 1);

    // A price change goes as an UPDATE, a product gone as a DELETE.
    let (changed_sku, gone_sku) = (skus[0].clone(), skus[1].clone());
    project.env.edit_products(|rows, header| {
        let sku = header.iter().position(|h| h == "sku").expect("sku column");
        let price = header
            .iter()
            .position(|h| h == "price")
            .expect("price column");
        rows.retain(|row| row[sku] != *gone_sku);
        for row in rows.iter_mut() {
            if row[sku] == *changed_sku {
                *row = row
                    .iter()
                    .enumerate()
                    .map(|(i, v)| if i == price { "1234.50" } else { v })
                    .collect();
            }
        }
    });
    let expected = project.expected();
    assert!(!expected.contains_key(&gone_sku));
    project.push().expect_code(0);
    project.assert_holds(&expected);
    diff_is_clean(&project.diff());
}

#[test]
fn after_faults_and_a_fatal_feed_a_rerun_leaves_amazon_holding_exactly_the_feed() {
    let project = Project::new(200);
    let expected = project.expected();
    assert!(expected.len() > 14, "at least three documents");
    {
        let mut state = project.server.state();
        state.gzip_reports = false;
        state.faults.insert(
            Op::CreateFeedDocument,
            [Fault::ServerError, Fault::TooMany].into(),
        );
        state.faults.insert(Op::Upload, [Fault::ServerError].into());
        state.faults.insert(
            Op::CreateFeed,
            [Fault::DropAfterApply, Fault::TooMany].into(),
        );
        // The token expires mid-run: the next call is refused once, a new token follows.
        state.faults.insert(
            Op::GetFeed,
            [Fault::ExpireTokens, Fault::DropAfterApply].into(),
        );
        state
            .faults
            .insert(Op::GetFeedDocument, [Fault::ServerError].into());
        state
            .faults
            .insert(Op::Download, [Fault::DropAfterApply].into());
        // The first createFeed is applied but its answer lost, so the client's second
        // document is the third feed created: that one ends FATAL.
        state.fatal_feed = Some(3);
    }
    let first = project.push();
    // The FATAL feed's items got no answer: the run fails (exit 3) and they stay pending.
    first.expect_code(3);
    let report = first.json();
    assert_eq!(report["feeds"][0]["not_sent"], 7, "{report}");
    assert!(
        first.stderr().contains("FATAL") && first.stderr().contains("next push sends them again"),
        "{}",
        first.stderr()
    );
    assert!(project.server.state().tokens_issued >= 2, "a fresh token");
    let diff = project.diff();
    assert_eq!(diff["totals"]["added"], 7, "{diff}");

    let second = project.push();
    second.expect_code(0);
    project.assert_holds(&expected);
    diff_is_clean(&project.diff());
}

#[test]
fn refused_credentials_and_missing_secrets_stop_the_feed_with_what_to_do() {
    let project = Project::new(10);
    let wrong = project.env.run_with_env(
        &["push", "--no-progress"],
        &[
            VARS[0],
            VARS[1],
            ("SP_API_REFRESH_TOKEN", "Atzr|not-the-sellers-token"),
        ],
    );
    wrong.expect_code(3);
    assert!(
        wrong.stderr().contains("invalid_grant") && wrong.stderr().contains("refresh token"),
        "{}",
        wrong.stderr()
    );
    assert!(!wrong.stderr().contains("not-the-sellers-token"));
    assert!(project.server.state().listings.is_empty());

    let missing = project
        .env
        .run_with_env(&["push", "--no-progress"], &VARS[..2]);
    missing.expect_code(2);
    assert!(
        missing.stderr().contains("SP_API_REFRESH_TOKEN"),
        "{}",
        missing.stderr()
    );

    // Settings Amazon would refuse are caught before anything is sent.
    project.env.write(
        "feeds/amazon.toml",
        feed(&project.server, "region = \"EU\"\n").replace(
            "marketplace_ids = [\"A1PA6795UKMFR9\"]",
            "marketplace_ids = []",
        ),
    );
    let bad = project.env.run_with_env(&["push", "--no-progress"], &VARS);
    bad.expect_code(2);
    assert!(
        bad.stderr().contains("marketplace_ids")
            && bad.stderr().contains("region or endpoint, not both"),
        "{}",
        bad.stderr()
    );
}

/// The server itself refuses what Amazon refuses, so the tests above mean something.
#[test]
fn the_local_sp_api_refuses_what_amazon_refuses() {
    let server = SpApiServer::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::new();
    let base = server.url();
    runtime.block_on(async {
        let token: Value = client
            .post(format!("{base}/auth/o2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", REFRESH_TOKEN)
                    .append_pair("client_id", CLIENT_ID)
                    .append_pair("client_secret", CLIENT_SECRET)
                    .finish(),
            )
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token JSON");
        let token = token["access_token"].as_str().expect("token").to_owned();
        let documents = format!("{base}/feeds/2021-06-30/documents");
        let post = |url: String, body: Value, token: Option<&str>| {
            let mut request = client.post(url).json(&body);
            if let Some(token) = token {
                request = request.header("x-amz-access-token", token);
            }
            request.send()
        };
        // No token, a token it never issued.
        let status = |r: reqwest::Response| r.status().as_u16();
        let body = serde_json::json!({"contentType": CONTENT_TYPE});
        assert_eq!(
            status(post(documents.clone(), body.clone(), None).await.unwrap()),
            403
        );
        assert_eq!(
            status(
                post(documents.clone(), body.clone(), Some("Atza|forged"))
                    .await
                    .unwrap()
            ),
            403
        );
        // Bodies that break the Feeds model: a missing field, a wrong type, an unknown field.
        for broken in [
            serde_json::json!({}),
            serde_json::json!({"contentType": 5}),
            serde_json::json!({"contentType": CONTENT_TYPE, "compression": "GZIP"}),
        ] {
            assert_eq!(
                status(post(documents.clone(), broken, Some(&token)).await.unwrap()),
                400
            );
        }
        let created: Value = post(documents.clone(), body, Some(&token))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = created["url"].as_str().unwrap().to_owned();
        let id = created["feedDocumentId"].as_str().unwrap().to_owned();
        // An upload with another Content-Type than declared.
        let upload = |content_type: &'static str, body: Vec<u8>| {
            client
                .put(url.clone())
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        assert_eq!(
            status(upload("application/json", b"{}".to_vec()).await.unwrap()),
            403
        );
        // A document that breaks the listings feed schema: an UPDATE without productType.
        let document = serde_json::json!({
            "header": {"sellerId": "A1", "version": "2.0"},
            "messages": [{"messageId": 1, "sku": "a", "operationType": "UPDATE", "attributes": {}}]
        });
        assert_eq!(
            status(
                upload(CONTENT_TYPE, document.to_string().into_bytes())
                    .await
                    .unwrap()
            ),
            200
        );
        let feeds = format!("{base}/feeds/2021-06-30/feeds");
        let create = serde_json::json!({
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": ["A1PA6795UKMFR9"],
            "inputFeedDocumentId": id,
        });
        assert_eq!(
            status(post(feeds.clone(), create, Some(&token)).await.unwrap()),
            400
        );
        // createFeed without marketplaces, or with more than 25.
        for marketplaces in [vec![], vec!["A"; 26]] {
            let create = serde_json::json!({
                "feedType": "JSON_LISTINGS_FEED",
                "marketplaceIds": marketplaces,
                "inputFeedDocumentId": id,
            });
            assert_eq!(
                status(post(feeds.clone(), create, Some(&token)).await.unwrap()),
                400
            );
        }
    });
    assert_eq!(
        server.state().refusals.len(),
        9,
        "{:#?}",
        server.state().refusals
    );
}

#[test]
fn documents_are_split_under_the_byte_limit() {
    let project = Project::new(120);
    project.env.write(
        "feeds/amazon.toml",
        feed(&project.server, "max_document_bytes = 4000\n").replace(
            "rate_limits.create_feed = { per_second = 5, burst = 2 }",
            "rate_limits.create_feed = { per_second = 1000, burst = 100 }",
        ),
    );
    project.server.state().plans_off();
    let expected = project.expected();
    project.push().expect_code(0);
    let state = project.server.state();
    assert!(state.largest_document <= 4000, "{}", state.largest_document);
    assert!(
        state.feeds_created > expected.len().div_ceil(7),
        "bytes, not the message count, split the documents"
    );
    drop(state);
    project.assert_holds(&expected);
    diff_is_clean(&project.diff());
}

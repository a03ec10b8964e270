//! `[destination] kind = "object-store"` against a real S3-compatible server on 127.0.0.1
//! that checks every request's signature (issue #10 point 3): upload, Content-Type, a large
//! file in parts, and wrong credentials refused with the old object left in place.

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, ObjectStore, ObjectStoreExt};

use crate::s3_server::{ACCESS_KEY, SECRET_KEY};
use crate::support::TestEnv;

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";
const NOW: &str = "2026-03-01T00:00:00Z";
const BUCKET: &str = "feeds";

/// The S3 server, on its own runtime in the test process; the binary runs against it.
struct S3 {
    runtime: tokio::runtime::Runtime,
    endpoint: String,
    _root: tempfile::TempDir,
}

impl S3 {
    fn start() -> S3 {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket folder");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let service = crate::s3_server::service(root.path());
        runtime.spawn(crate::s3_server::serve(listener, service));
        S3 {
            runtime,
            endpoint,
            _root: root,
        }
    }

    fn client(&self) -> AmazonS3 {
        AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_region("us-east-1")
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .build()
            .expect("client")
    }

    /// The object's bytes and Content-Type, read back with the right key.
    fn get(&self, key: &str) -> (Vec<u8>, Option<String>) {
        self.runtime.block_on(async {
            let got = self
                .client()
                .get(&ObjectPath::from(key))
                .await
                .unwrap_or_else(|err| panic!("GET {key}: {err}"));
            let content_type = got
                .attributes
                .get(&Attribute::ContentType)
                .map(|v| v.to_string());
            (got.bytes().await.expect("body").to_vec(), content_type)
        })
    }

    fn keys(&self) -> Vec<String> {
        self.runtime.block_on(async {
            let listed = self
                .client()
                .list_with_delimiter(Some(&ObjectPath::from("google")))
                .await
                .expect("list");
            let mut keys: Vec<String> = listed
                .objects
                .iter()
                .map(|o| o.location.to_string())
                .collect();
            keys.sort();
            keys
        })
    }

    fn feed(&self, extra: &str) -> String {
        format!(
            "channel = \"google-merchant\"\nformat = \"xml\"\nfile = \"shop\"\n{extra}\n\n\
             [destination]\nkind = \"object-store\"\nurl = \"s3://{BUCKET}/google/\"\n\
             endpoint = \"{}\"\nallow_http = true\n",
            self.endpoint
        )
    }
}

fn credentials(secret: &str) -> [(&'static str, &str); 3] {
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_REGION", "us-east-1"),
    ]
}

fn project(s3: &S3, variants: &str, extra: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("feeds/shop.toml", s3.feed(extra));
    env.generate(
        "cat",
        &["--variants", variants, "--stores", "2", "--seed", "7"],
    );
    env
}

fn exported(env: &TestEnv, name: &str) -> Vec<u8> {
    env.run(&["export", "--no-progress", "--now", NOW])
        .expect_code(0);
    std::fs::read(env.path("out").join(name)).expect("exported file")
}

/// A feed larger than one part (8 MiB) goes up as a multipart upload; the object is the
/// exported file byte for byte, with the XML Content-Type, and the report names its URL.
#[test]
fn a_feed_lands_in_the_bucket_with_its_content_type() {
    let s3 = S3::start();
    let env = project(&s3, "7000", "");
    let expected = exported(&env, "shop.xml");
    assert!(
        expected.len() > 8 << 20,
        "{} bytes: not multipart",
        expected.len()
    );
    let run = env.run_with_env(
        &["push", "--no-progress", "--now", NOW],
        &credentials(SECRET_KEY),
    );
    run.expect_code(0);
    assert!(
        run.stdout()
            .contains(&format!("s3://{BUCKET}/google/shop.xml")),
        "{}",
        run.stdout()
    );
    let (bytes, content_type) = s3.get("google/shop.xml");
    assert!(bytes == expected, "the object differs from the export");
    assert_eq!(
        content_type.as_deref(),
        Some("application/xml; charset=utf-8")
    );
    assert_eq!(s3.keys(), ["google/shop.xml"]);
}

/// A gzipped feed is stored as the `.gz` file it is, `application/gzip`, not as XML with a
/// Content-Encoding a client might undo.
#[test]
fn a_gzipped_feed_is_stored_as_application_gzip() {
    let s3 = S3::start();
    let env = project(&s3, "200", "gzip = true");
    let expected = exported(&env, "shop.xml.gz");
    env.run_with_env(
        &["push", "--no-progress", "--now", NOW],
        &credentials(SECRET_KEY),
    )
    .expect_code(0);
    let (bytes, content_type) = s3.get("google/shop.xml.gz");
    assert!(bytes == expected);
    assert_eq!(content_type.as_deref(), Some("application/gzip"));
}

/// A wrong secret key is refused by the server's signature check: exit 3, the message names
/// the object and never the key, the old object stays, and the state records nothing (the
/// next push with the right key sends the same changes).
#[test]
fn wrong_credentials_are_refused_and_the_old_object_stays() {
    let s3 = S3::start();
    let env = project(&s3, "300", "");
    env.run_with_env(
        &["push", "--no-progress", "--now", NOW],
        &credentials(SECRET_KEY),
    )
    .expect_code(0);
    let (before, _) = s3.get("google/shop.xml");
    // A changed catalog, so that the refused upload would have changed the object.
    env.generate(
        "cat",
        &["--variants", "320", "--stores", "2", "--seed", "7"],
    );
    let wrong = "wrong/secret/key/that/must/not/appear";
    let args = ["push", "--no-progress", "--now", NOW, "--format", "json"];
    let refused = env.run_with_env(&args, &credentials(wrong));
    refused.expect_code(3);
    let stderr = refused.stderr();
    assert!(
        stderr.contains(&format!("s3://{BUCKET}/google/shop.xml")),
        "{stderr}"
    );
    assert!(stderr.contains("credentials"), "{stderr}");
    for output in [refused.stdout(), stderr.clone()] {
        assert!(
            !output.contains(wrong),
            "the secret key was printed: {output}"
        );
    }
    let report = refused.json();
    assert_eq!(report["feeds"][0]["outcome"], "failed", "{report}");
    assert!(report["feeds"][0]["recorded"].is_null(), "{report}");
    assert!(
        s3.get("google/shop.xml").0 == before,
        "the refused push changed the object"
    );
    let accepted = env.run_with_env(&args, &credentials(SECRET_KEY));
    accepted.expect_code(0);
    // The same changes as the refused run saw: it recorded none of them.
    let totals = &accepted.json()["feeds"][0]["totals"];
    assert_eq!(*totals, report["feeds"][0]["totals"]);
    assert_ne!(totals["added"], 0, "{totals}");
    assert!(s3.get("google/shop.xml").0 != before);
}

/// When a feed shrinks from parts to one file, the old parts are deleted once the new file
/// is in place; objects of other names under the prefix are left alone.
#[test]
fn parts_of_an_earlier_push_are_removed_after_the_new_files_land() {
    let s3 = S3::start();
    let env = project(&s3, "300", "");
    s3.runtime.block_on(async {
        let client = s3.client();
        for key in [
            "google/shop-0001.xml",
            "google/shop-0002.xml",
            "google/other.xml",
        ] {
            client
                .put(&ObjectPath::from(key), "old".into())
                .await
                .expect("seed object");
        }
    });
    // The bucket holds files of this feed but the state knows none: --force says start anew.
    env.run_with_env(
        &["push", "--no-progress", "--now", NOW, "--force"],
        &credentials(SECRET_KEY),
    )
    .expect_code(0);
    assert_eq!(s3.keys(), ["google/other.xml", "google/shop.xml"]);
}

/// A bucket that already holds the feed while the state has no record of it stops the
/// push, as a folder does: the state was lost.
#[test]
fn a_bucket_holding_the_feed_without_history_stops_the_push() {
    let s3 = S3::start();
    let env = project(&s3, "100", "");
    s3.runtime.block_on(async {
        s3.client()
            .put(&ObjectPath::from("google/shop.xml"), "old".into())
            .await
            .expect("seed object");
    });
    let run = env.run_with_env(
        &["push", "--no-progress", "--now", NOW],
        &credentials(SECRET_KEY),
    );
    assert_ne!(run.code(), 0);
    assert!(run.stderr().contains("--force"), "{}", run.stderr());
    assert_eq!(s3.get("google/shop.xml").0, b"old");
}

//! `[destination] kind = "sftp"` against a real OpenSSH sshd on 127.0.0.1 (issue #10 point 1):
//! key and password logins, upload then rename, a second push replacing the file, host keys
//! refused before anything is sent, and a connection cut mid-upload.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::sshd::{self, Sshd};
use crate::support::TestEnv;

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";

/// A Google feed `products.xml` pushed to `sshd`; `login` is the auth keys of the
/// destination and `extra` goes before `[destination]`.
fn feed(sshd: &Sshd, env: &TestEnv, login: &str, extra: &str) -> String {
    format!(
        "channel = \"google-merchant\"\nformat = \"xml\"\nfile = \"products\"\n{extra}\n\
         [destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {port}\n{login}\n\
         known_hosts = \"{known_hosts}\"\npath = \"{remote}\"\nretries = 0\nconnect_timeout = 20\n",
        port = sshd.port,
        known_hosts = env.path("known_hosts").display(),
        remote = sshd.remote().display(),
    )
}

fn key_login(sshd: &Sshd) -> String {
    format!(
        "user = \"{}\"\nkey_file = \"{}\"",
        sshd::current_user(),
        sshd.path("user_key").display()
    )
}

pub(crate) fn project(sshd: &Sshd, variants: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("known_hosts", sshd.known_hosts_line());
    env.write("feeds/google.toml", feed(sshd, &env, &key_login(sshd), ""));
    env.generate(
        "cat",
        &["--variants", variants, "--stores", "2", "--seed", "4"],
    );
    env
}

/// Names in `dir`, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What `export` writes for the feed now.
fn exported(env: &TestEnv) -> Vec<u8> {
    let fresh = env.path("fresh");
    let _ = std::fs::remove_dir_all(&fresh);
    env.run(&["export", "--no-progress", "--out", "fresh"])
        .expect_code(0);
    std::fs::read(fresh.join("products.xml")).expect("exported file")
}

fn delivered(sshd: &Sshd) -> Vec<u8> {
    std::fs::read(sshd.remote().join("products.xml")).expect("delivered file")
}

fn has_changes(env: &TestEnv) -> bool {
    let diff = env.run(&["diff", "--no-progress", "--format", "json"]);
    diff.json()["has_changes"] == true
}

#[test]
fn a_key_login_uploads_then_a_second_push_replaces_the_file() {
    let sshd = Sshd::start(false);
    let env = project(&sshd, "300");
    let run = env.run(&["push", "--no-progress", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    let file = report["feeds"][0]["files"][0].as_str().expect("file");
    assert_eq!(
        file,
        format!(
            "sftp://{}@127.0.0.1:{}{}/products.xml",
            sshd::current_user(),
            sshd.port,
            sshd.remote().display()
        )
    );
    assert!(
        delivered(&sshd) == exported(&env),
        "the upload is the export"
    );
    // Uploaded under a temporary name, then renamed: nothing else is left.
    assert_eq!(names(&sshd.remote()), ["products.xml"]);
    assert!(sshd.log().contains("Accepted publickey"), "{}", sshd.log());
    assert!(!has_changes(&env));

    // Another catalog: the second push replaces the file. A part of an earlier, longer
    // split feed goes; a file that only looks alike stays.
    let before = delivered(&sshd);
    std::fs::write(sshd.remote().join("products-0002.xml"), "old part").expect("write");
    std::fs::write(sshd.remote().join("products-02.xml"), "not ours").expect("write");
    env.generate(
        "cat",
        &["--variants", "320", "--stores", "2", "--seed", "5"],
    );
    env.run(&["push", "--no-progress", "--force"])
        .expect_code(0);
    let after = delivered(&sshd);
    assert!(after != before, "the file was replaced");
    assert!(after == exported(&env), "the new upload is the new export");
    assert_eq!(names(&sshd.remote()), ["products-02.xml", "products.xml"]);
    assert!(!has_changes(&env));
}

/// Password logins need a user with a password that sshd checks against the system's
/// password database. The test never creates one: `.ci/run` (a throw-away machine) does,
/// and names it in these variables; elsewhere the test says so and passes.
#[test]
fn a_password_login_uploads_and_a_wrong_one_is_refused() {
    let (Ok(user), Ok(password)) = (
        std::env::var("OMNIFEED_SFTP_TEST_USER"),
        std::env::var("OMNIFEED_SFTP_TEST_PASSWORD"),
    ) else {
        eprintln!(
            "SKIPPED: set OMNIFEED_SFTP_TEST_USER and OMNIFEED_SFTP_TEST_PASSWORD to a local \
             user and its password (.ci/run creates one) to test SFTP password logins"
        );
        return;
    };
    let sshd = Sshd::start(true);
    // The user writes the upload folder; only root can hand it over.
    let status = Command::new("chown")
        .arg(&user)
        .arg(sshd.remote())
        .status()
        .expect("chown");
    assert!(status.success(), "chown the remote folder to {user}");
    let env = project(&sshd, "300");
    let login = format!("user = \"{user}\"\npassword_env = \"SFTP_PASSWORD\"");
    env.write("feeds/google.toml", feed(&sshd, &env, &login, ""));

    let wrong = env.run_with_env(
        &["push", "--no-progress"],
        &[("SFTP_PASSWORD", "not-the-password")],
    );
    wrong.expect_code(3);
    assert!(
        wrong.stderr().contains("refused the login"),
        "{}",
        wrong.stderr()
    );
    assert!(names(&sshd.remote()).is_empty());

    let run = env.run_with_env(
        &["push", "--no-progress", "--format", "json"],
        &[("SFTP_PASSWORD", &password)],
    );
    run.expect_code(0);
    assert!(delivered(&sshd) == exported(&env));
    assert!(sshd.log().contains("Accepted password"), "{}", sshd.log());
    for text in [run.stdout(), run.stderr(), wrong.stdout(), wrong.stderr()] {
        assert!(!text.contains(&password), "the password leaked: {text}");
    }
}

#[test]
fn an_unknown_or_changed_host_key_is_refused_before_anything_is_sent() {
    let sshd = Sshd::start(false);
    let env = project(&sshd, "300");
    // Another key pinned for this host and port: the server's key "changed".
    sshd::keygen(&env.path("impostor"));
    let impostor = std::fs::read_to_string(env.path("impostor.pub")).expect("key");
    env.write(
        "known_hosts",
        format!("[127.0.0.1]:{} {impostor}", sshd.port),
    );
    let run = env.run(&["push", "--no-progress"]);
    run.expect_code(3);
    let stderr = run.stderr();
    assert!(stderr.contains("CHANGED"), "{stderr}");
    assert!(stderr.contains(&sshd.host_key_fingerprint()), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ssh-keyscan -p {} -t ed25519 127.0.0.1",
            sshd.port
        )),
        "{stderr}"
    );
    assert!(stderr.contains(sshd.known_hosts_line().trim()), "{stderr}");

    // No known_hosts at all: unknown.
    std::fs::remove_file(env.path("known_hosts")).expect("remove");
    let run = env.run(&["push", "--no-progress"]);
    run.expect_code(3);
    assert!(run.stderr().contains("does not exist"), "{}", run.stderr());
    assert!(run.stderr().contains(&sshd.host_key_fingerprint()));

    // Nothing sent: no login was attempted, no file written, the state has no record.
    let log = sshd.log();
    assert!(!log.contains("Accepted"), "{log}");
    assert!(!log.contains("Failed"), "{log}");
    assert!(names(&sshd.remote()).is_empty());
    assert!(has_changes(&env));
}

/// Waits until a temporary upload file shows up in the remote folder.
fn wait_for_upload(sshd: &Sshd) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let temp = names(&sshd.remote())
            .into_iter()
            .any(|n| n.starts_with(".products.xml.") && n.ends_with(".partial"));
        if temp {
            return;
        }
        assert!(Instant::now() < deadline, "the upload never started");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A push whose connection dies mid-upload (the sshd session processes killed) leaves the
/// old file under the final name and the state as it was; the next push removes the
/// temporary file and completes.
#[test]
fn a_cut_upload_leaves_the_old_file_and_a_rerun_completes() {
    let sshd = Sshd::start(false);
    let env = project(&sshd, "20000");
    // A small first feed (one brand), so the second upload is large.
    let small = feed(
        &sshd,
        &env,
        &key_login(&sshd),
        "[filters]\nbrands = [\"Contoso\"]\n",
    );
    env.write("feeds/google.toml", &small);
    env.run(&["push", "--no-progress"]).expect_code(0);
    let old = delivered(&sshd);

    env.write(
        "feeds/google.toml",
        feed(&sshd, &env, &key_login(&sshd), ""),
    );
    let push = Command::new(env!("CARGO_BIN_EXE_omnifeed"))
        .current_dir(env.dir.path())
        .args(["push", "--no-progress", "--force"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start push");
    // Freeze the server's session as soon as the upload has started, so the cut falls
    // mid-upload whatever the machine's speed; then kill it.
    wait_for_upload(&sshd);
    assert!(sshd.signal_sessions("STOP") > 0, "no session to stop");
    assert!(
        delivered(&sshd) == old,
        "the final name is untouched mid-upload"
    );
    sshd.signal_sessions("KILL");
    let output = push.wait_with_output().expect("push ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("push failed"), "{stderr}");

    assert!(delivered(&sshd) == old, "the old file is intact");
    assert!(has_changes(&env), "the state did not record the cut push");

    let rerun = env.run(&["push", "--no-progress", "--force"]);
    rerun.expect_code(0);
    assert!(delivered(&sshd) == exported(&env));
    assert_eq!(
        names(&sshd.remote()),
        ["products.xml"],
        "the temporary file is gone"
    );
    assert!(!has_changes(&env));
}

/// With retries allowed, a connection cut mid-upload is retried within the run: the new
/// session removes the cut attempt's temporary file and the push completes.
#[test]
fn a_cut_upload_is_retried_within_the_run() {
    let sshd = Sshd::start(false);
    let env = project(&sshd, "20000");
    env.write(
        "feeds/google.toml",
        feed(&sshd, &env, &key_login(&sshd), "").replace("retries = 0", "retries = 2"),
    );
    let push = Command::new(env!("CARGO_BIN_EXE_omnifeed"))
        .current_dir(env.dir.path())
        .args(["push", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start push");
    wait_for_upload(&sshd);
    assert!(sshd.signal_sessions("KILL") > 0, "no session to kill");
    let output = push.wait_with_output().expect("push ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("retrying in"), "{stderr}");
    assert!(delivered(&sshd) == exported(&env));
    assert_eq!(names(&sshd.remote()), ["products.xml"]);
    assert!(!has_changes(&env));
}

//! Configuration mistakes are refused as such (exit 2) instead of showing up as data
//! problems or hangs (issue #8, point 9).

use crate::support::{TestEnv, repo_root};

/// The shipped Pinterest spec under the id `tiny`, its CSV format given `limits`.
fn tiny_spec(env: &TestEnv, limits: &str) {
    let shipped =
        std::fs::read_to_string(repo_root().join("channel-specs/pinterest.toml")).expect("spec");
    assert!(shipped.contains("id = \"pinterest\"") && shipped.contains("[formats.csv]\n"));
    let tiny = shipped
        .replacen("id = \"pinterest\"", "id = \"tiny\"", 1)
        .replacen("[formats.csv]\n", &format!("[formats.csv]\n{limits}\n"), 1);
    env.write("channel-specs/tiny.toml", tiny);
    env.write(
        "feeds/tiny.toml",
        "channel = \"tiny\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"out\"\n",
    );
}

#[test]
fn a_spec_limit_of_zero_is_refused_when_specs_load() {
    for key in ["max_items", "max_bytes", "max_line_bytes"] {
        let env = TestEnv::with_example();
        tiny_spec(&env, &format!("{key} = 0\non_limit = \"split\""));
        let run = env.run(&["export", "--no-progress", "tiny"]);
        run.expect_code(2);
        assert!(
            run.stderr().contains("tiny.toml") && run.stderr().contains(&format!("{key} = 0")),
            "{}",
            run.stderr()
        );
        assert!(!env.path("out").exists(), "nothing written");
    }
}

/// A record bigger than `max_bytes` on its own cannot be split into files; the message says
/// so instead of "the spec says not to split it" (the spec says split).
#[test]
fn a_record_larger_than_the_file_limit_is_not_blamed_on_the_split_setting() {
    let env = TestEnv::with_example();
    tiny_spec(&env, "max_bytes = 300\non_limit = \"split\"");
    let run = env.run(&["export", "--no-progress", "tiny"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(
        !stderr.contains("not to split") && stderr.contains("no split can hold it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("300 bytes per file") && stderr.contains("the record starts `G0000"),
        "names the limit and the record:\n{stderr}"
    );
}

/// `--jobs 100000` took minutes and 787 MB before any work; it is held to a few threads
/// per core, with a note, and the output is the same.
#[test]
fn an_absurd_jobs_count_is_bounded_with_a_note() {
    let env = TestEnv::with_example();
    env.run(&[
        "export",
        "--no-progress",
        "--out",
        "one",
        "--jobs",
        "1",
        "pinterest",
    ])
    .expect_code(0);
    let run = env.run(&[
        "export",
        "--no-progress",
        "--out",
        "many",
        "--jobs",
        "100000",
        "pinterest",
    ]);
    run.expect_code(0);
    assert!(
        run.stderr().contains("--jobs 100000 is more than") && run.stderr().contains("using"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        env.read("one/pinterest.csv"),
        env.read("many/pinterest.csv")
    );
}

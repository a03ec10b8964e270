//! Shell completions and the man page (issue #13 point 5), generated from the clap
//! definition: every command is in them, and bash really completes with the script.

use clap::CommandFactory;

use crate::support::TestEnv;

/// Every visible subcommand of the CLI, from the same definition the binary parses with.
fn subcommands() -> Vec<String> {
    let names: Vec<String> = omnifeed::cli::Cli::command()
        .get_subcommands()
        .filter(|command| !command.is_hide_set())
        .map(|command| command.get_name().to_owned())
        .collect();
    for known in [
        "validate",
        "export",
        "diff",
        "push",
        "runs",
        "sync",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|name| name == known),
            "{known} in {names:?}"
        );
    }
    names
}

/// Runs bash completion as bash does on <TAB>: `_omnifeed CMD CUR PREV` with the words so far.
fn complete_in_bash(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let program = format!(
        "source {script}; COMP_WORDS=({line}); COMP_CWORD={cword}; COMP_LINE='{line}'; \
         COMP_POINT={point}; _omnifeed omnifeed '{cur}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script = script.display(),
        cword = words.len() - 1,
        point = line.len(),
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn completion_scripts_know_every_command_and_bash_completes_with_one() {
    let env = TestEnv::new();
    let commands = subcommands();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = env.run(&["completions", shell]);
        run.expect_code(0);
        let script = run.stdout();
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: {command}");
        }
        assert!(script.contains("log-format"), "{shell}: sync's flags");
    }
    let script = env.write("omnifeed.bash", env.run(&["completions", "bash"]).stdout());
    assert_eq!(complete_in_bash(&script, &["omnifeed", "sy"]), ["sync"]);
    let mut all = complete_in_bash(&script, &["omnifeed", ""]);
    all.retain(|word| !word.starts_with('-'));
    for command in &commands {
        assert!(all.contains(command), "{command} offered in {all:?}");
    }
    assert!(
        complete_in_bash(&script, &["omnifeed", "sync", "--log-f"])
            .contains(&"--log-format".to_owned())
    );
    env.run(&["completions", "tcsh"]).expect_code(2);
}

#[test]
fn the_man_page_lists_every_command_and_one_page_each() {
    let env = TestEnv::new();
    let run = env.run(&["man"]);
    run.expect_code(0);
    let page = run.stdout();
    assert!(page.contains(".TH omnifeed 1"), "{page}");
    for command in subcommands() {
        assert!(
            page.contains(&format!("omnifeed\\-{}", command.replace('-', "\\-"))),
            "{command} in the SUBCOMMANDS section"
        );
    }
    assert!(page.contains("Exit codes"), "the exit codes from --help");

    env.run(&["man", "--out-dir", "man1"]).expect_code(0);
    let pages = env.files("man1");
    assert!(pages.contains_key("omnifeed.1"));
    for command in subcommands() {
        let name = format!("omnifeed-{command}.1");
        let text = String::from_utf8(pages[&name].clone()).expect("UTF-8");
        assert!(text.contains(".SH SYNOPSIS"), "{name}");
    }
    let sync = String::from_utf8(pages["omnifeed-sync.1"].clone()).expect("UTF-8");
    assert!(
        sync.contains("\\-\\-log\\-format") && sync.contains("\\-\\-report"),
        "{sync}"
    );
}

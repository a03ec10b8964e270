use std::io::Write;

use super::stdout::QuietPipe;
use super::{exit_of, render};
use crate::exit::Exit;

fn not_found() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
}

#[test]
fn a_cause_is_printed_once_and_hints_come_last() {
    let err: anyhow::Error = crate::load::LoadError::Open {
        path: "cat/products.csv".into(),
        source: not_found(),
    }
    .into();
    let text = render(&err);
    assert_eq!(
        text.matches("No such file or directory").count(),
        1,
        "{text}"
    );
    assert!(
        text.starts_with(
            "error: cannot open catalog file `cat/products.csv`\n  caused by: No such file"
        ),
        "{text}"
    );
    assert!(
        text.lines().last().is_some_and(|l| l.contains("hint:")),
        "{text}"
    );

    // Glue that quotes its cause in its own message: the cause is not repeated either.
    let quoted = anyhow::Error::from(not_found()).context("reading x: No such file or directory");
    assert_eq!(render(&quoted).matches("No such file").count(), 1);
}

#[test]
fn the_outermost_classed_error_decides_the_exit_code() {
    let output: anyhow::Error = crate::serialize::output::OutputError::Io {
        feed: "g".into(),
        dir: "out".into(),
        source: not_found(),
    }
    .into();
    assert_eq!(exit_of(&output.context("feed `g`")), Exit::PushFailed);
    // A catalog file that cannot be opened is a configuration error, though the I/O error
    // under it alone would be an output failure: the outer error decides.
    let unreadable: anyhow::Error = crate::load::LoadError::Open {
        path: "cat/products.csv".into(),
        source: not_found(),
    }
    .into();
    assert_eq!(exit_of(&unreadable), Exit::Usage);
    assert_eq!(
        exit_of(&anyhow::Error::from(not_found())),
        Exit::PushFailed,
        "the inner error alone has another class"
    );
    let limit: anyhow::Error = crate::serialize::output::OutputError::Limit {
        feed: "g".into(),
        limit: "100 items per file".into(),
    }
    .into();
    assert_eq!(exit_of(&limit), Exit::Invalid);
    assert_eq!(
        exit_of(&anyhow::anyhow!("--now is not a time")),
        Exit::Usage
    );
    let locked: anyhow::Error =
        crate::exit::ClassedError::new(crate::exit::ErrorClass::Locked, "held").into();
    assert_eq!(exit_of(&locked), Exit::Locked);
}

/// A writer whose reader has gone away.
struct Closed;

impl Write for Closed {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn a_closed_pipe_stops_printing_quietly_but_other_errors_stay() {
    let mut out = QuietPipe::new(Closed);
    serde_json::to_writer(&mut out, &vec![1, 2, 3]).expect("serde_json sees no error");
    writeln!(out, "more").expect("nor does writeln");
    out.flush().expect("nor flush");

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    assert!(
        writeln!(QuietPipe::new(Full), "x").is_err(),
        "a full disk is still an error"
    );
}

#[test]
fn without_causes_a_message_keeps_its_hints_beside_its_problems() {
    let err: anyhow::Error = crate::feed::FeedError::Invalid {
        path: "feeds/g.toml".into(),
        problems: vec![
            "file = \"/x\" contains a path separator\n  hint: a plain name".into(),
            "[destination] path is empty\n  hint: name a folder".into(),
        ],
    }
    .into();
    assert_eq!(render(&err), format!("error: {err}"));
}

use std::path::Path;

use super::{file_name_problem, key_line, resolve};

#[test]
fn only_plain_names_pass_as_file() {
    for good in ["google-de", "feed.v2", "a..b", "ä"] {
        assert_eq!(file_name_problem(good), None, "{good}");
    }
    for bad in [
        "", "/abs", "../x", "a/b", "a\\b", ".", "..", ".hidden", "a\0b",
    ] {
        assert!(file_name_problem(bad).is_some(), "{bad:?}");
    }
}

#[test]
fn key_lines_are_found_in_tables() {
    let text = "channel = \"x\"\nfile = \"a\"\n\n[destination]\nkind = \"dir\"\npath = \"\"\n";
    assert_eq!(key_line(text, &["file"]), Some(2));
    assert_eq!(key_line(text, &["destination", "path"]), Some(6));
    assert_eq!(key_line(text, &["destination", "missing"]), None);
}

/// `..` and `.` are applied, and `..` after a link leaves the link's target.
#[cfg(unix)]
#[test]
fn resolving_applies_dots_and_follows_links() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(root.join("real/inner")).expect("mkdir");
    std::os::unix::fs::symlink(root.join("real/inner"), root.join("link")).expect("symlink");
    assert_eq!(
        resolve(&root.join("out/x/../shared/.")),
        root.join("out/shared")
    );
    assert_eq!(resolve(&root.join("link")), root.join("real/inner"));
    assert_eq!(
        resolve(&root.join("link/../other")),
        root.join("real/other")
    );
    assert!(resolve(Path::new("relative")).is_absolute());
}

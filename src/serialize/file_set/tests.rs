use std::io::Write;
use std::path::Path;

use super::FeedFiles;

/// Publishes `count` parts whose contents name `run`.
fn publish(files: &FeedFiles, run: &str, count: usize) -> Vec<String> {
    let parts = (0..count)
        .map(|n| {
            let mut temp = files.temp_file().expect("temp file");
            write!(temp, "{run} part {n}").expect("write");
            temp.into_temp_path()
        })
        .collect();
    files
        .publish(parts)
        .expect("publish")
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_shorter_run_removes_only_the_parts_the_last_run_listed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = FeedFiles::new(dir.path(), "f", "xml", false);
    assert_eq!(
        publish(&files, "one", 3),
        ["f-0001.xml", "f-0002.xml", "f-0003.xml"]
    );
    std::fs::write(dir.path().join("f-0004.xml"), "not ours").expect("write");
    assert_eq!(publish(&files, "two", 1), ["f.xml"]);
    assert_eq!(listing(dir.path()), [".f.xml.parts", "f-0004.xml", "f.xml"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f.xml")).expect("read"),
        "two part 0"
    );
}

/// A list edited to name other files (another feed's, a path outside) removes nothing but
/// this feed's own output names.
#[test]
fn a_list_naming_other_files_is_not_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("out")).expect("mkdir");
    let out = dir.path().join("out");
    for name in ["other.xml", "f.csv", "f-1.xml"] {
        std::fs::write(out.join(name), "keep").expect("write");
    }
    std::fs::write(dir.path().join("outside.xml"), "keep").expect("write");
    std::fs::write(
        out.join(".f.xml.parts"),
        "other.xml\n../outside.xml\nf.csv\nf-1.xml\n/etc/passwd\n",
    )
    .expect("write");
    let files = FeedFiles::new(&out, "f", "xml", false);
    publish(&files, "one", 1);
    assert_eq!(
        listing(&out),
        [".f.xml.parts", "f-1.xml", "f.csv", "f.xml", "other.xml"]
    );
    assert!(dir.path().join("outside.xml").exists());
}

/// A run killed between the renames and the removal of stale parts leaves a list naming
/// both sets; the next run removes what it does not replace.
#[test]
fn a_killed_switch_is_tidied_by_the_next_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = FeedFiles::new(dir.path(), "f", "xml", true);
    publish(&files, "one", 3);
    // As a run killed after its renames leaves it: new parts in place, the old third
    // part still there, the list naming the union, a temp file.
    std::fs::write(
        dir.path().join(".f.xml.parts"),
        "f-0001.xml.gz\nf-0002.xml.gz\nf-0003.xml.gz\n",
    )
    .expect("write");
    std::fs::write(dir.path().join(".f.xml.a1B2c3.partial"), "half").expect("write");
    // An earlier version's name for the same leftover; a look-alike of another length stays.
    std::fs::write(dir.path().join(".f.Zz9Yy8.partial"), "half").expect("write");
    std::fs::write(dir.path().join(".f.notes.partial"), "keep").expect("write");
    files.remove_leftover_temps().expect("tidy");
    publish(&files, "two", 2);
    assert_eq!(
        listing(dir.path()),
        [
            ".f.notes.partial",
            ".f.xml.parts",
            "f-0001.xml.gz",
            "f-0002.xml.gz"
        ]
    );
}

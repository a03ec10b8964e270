//! Where feeds may write (issue #8, points 3 and 4): plain file names, destinations that stay
//! out of what omnifeed reads, collisions on resolved folders, delivered files readable like
//! any other, and split feeds that replace only their own parts.

use std::path::Path;

use crate::support::{TestEnv, is_parts_list, repo_root};

const PRODUCTS: &str =
    "sku,title,price,currency,link,image_link,product_type,description,brand,condition\n";

fn products(count: usize) -> String {
    let rows: String = (1..=count)
        .map(|i| {
            format!(
                "S{i},Shirt S{i},10.00,EUR,https://s.example.com/S{i},https://c.example.com/S{i}.jpg,Apparel & Accessories,Soft cotton shirt,Contoso,new\n"
            )
        })
        .collect();
    format!("{PRODUCTS}{rows}")
}

/// A project whose catalog (in `cat/`) holds `count` products.
fn project(count: usize) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write("cat/products.csv", products(count));
    env
}

/// A TikTok CSV feed `feeds/NAME.toml` with `extra` lines (e.g. `file = …`) and the
/// destination folder `path`.
fn feed(env: &TestEnv, name: &str, extra: &str, path: &str) {
    env.write(
        &format!("feeds/{name}.toml"),
        format!(
            "channel = \"tiktok\"\nformat = \"csv\"\n{extra}\n[destination]\nkind = \"dir\"\npath = {path:?}\n"
        ),
    );
}

/// The shipped TikTok spec as `tiny`, split every two items.
fn tiny_spec(env: &TestEnv) {
    let spec = std::fs::read_to_string(repo_root().join("channel-specs/tiktok.toml"))
        .expect("shipped spec");
    let spec = spec.replace("id = \"tiktok\"", "id = \"tiny\"").replacen(
        "kind = \"delimited\"\n",
        "kind = \"delimited\"\nmax_items = 2\non_limit = \"split\"\n",
        1,
    );
    env.write("channel-specs/tiny.toml", spec);
}

/// Sorted names in `dir`, the feeds' hidden lists of parts left out.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| !is_parts_list(name))
        .collect();
    names.sort();
    names
}

#[test]
fn an_absolute_file_is_refused_with_exit_2_and_nothing_is_written_there() {
    let env = project(2);
    let target = env.path("elsewhere/abs");
    std::fs::create_dir_all(env.path("elsewhere")).expect("mkdir");
    feed(
        &env,
        "shop",
        &format!("file = {:?}", target.to_str().expect("utf-8")),
        "out",
    );
    let run = env.run(&["export", "--no-progress"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(
        stderr.contains("feeds/shop.toml")
            && stderr.contains("line 3: file =")
            && stderr.contains("path separator"),
        "{stderr}"
    );
    assert!(!env.path("elsewhere/abs.csv").exists(), "written outside");
}

#[test]
fn a_file_climbing_out_with_dot_dot_is_refused_with_exit_2() {
    let env = project(2);
    feed(&env, "shop", "file = \"../x\"", "out");
    let run = env.run(&["export", "--no-progress"]);
    run.expect_code(2);
    assert!(run.stderr().contains("file = \"../x\""), "{}", run.stderr());
    assert!(
        !env.path("x.csv").exists(),
        "written beside the destination"
    );
}

#[test]
fn an_empty_or_hidden_file_name_is_refused_with_exit_2() {
    for file in ["", ".hidden"] {
        let env = project(2);
        feed(&env, "shop", &format!("file = {file:?}"), "out");
        let run = env.run(&["export", "--no-progress"]);
        run.expect_code(2);
        assert!(run.stderr().contains("feeds/shop.toml"), "{}", run.stderr());
        assert!(
            !env.path("out").exists(),
            "nothing written for file = {file:?}"
        );
    }
}

#[test]
fn an_empty_destination_path_is_refused_and_nothing_lands_in_the_project_root() {
    let env = project(2);
    feed(&env, "shop", "", "");
    let before = names(env.dir.path());
    let run = env.run(&["export", "--no-progress"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("[destination] path is empty"),
        "{}",
        run.stderr()
    );
    assert_eq!(names(env.dir.path()), before);
}

/// A Meta-style feed named `products` pointed at the catalog folder would replace the
/// source of truth; written as `out/../cat` it is the same folder.
#[test]
fn a_feed_writing_over_the_catalog_is_refused_and_the_catalog_is_untouched() {
    for path in ["cat", "out/../cat", "./cat/"] {
        let env = project(2);
        feed(&env, "meta", "file = \"products\"", path);
        let run = env.run(&["export", "--no-progress"]);
        run.expect_code(2);
        assert!(
            run.stderr().contains("catalog folder") && run.stderr().contains("feeds/meta.toml"),
            "{path}: {}",
            run.stderr()
        );
        assert_eq!(env.read("cat/products.csv"), products(2), "{path}");
    }
}

/// A products file kept outside the catalog folder is protected too.
#[test]
fn a_feed_writing_over_a_table_the_config_reads_is_refused() {
    let env = TestEnv::new();
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[catalog.products]\nfile = \"../data/products.csv\"\n",
    );
    env.write("data/products.csv", products(2));
    std::fs::create_dir_all(env.path("cat")).expect("mkdir");
    feed(&env, "meta", "file = \"products\"", "data");
    let run = env.run(&["export", "--no-progress"]);
    run.expect_code(2);
    assert!(
        run.stderr().contains("which omnifeed reads"),
        "{}",
        run.stderr()
    );
    assert_eq!(env.read("data/products.csv"), products(2));
}

#[test]
fn two_feeds_reaching_one_file_through_differently_written_paths_are_refused() {
    let env = project(2);
    feed(&env, "a", "file = \"shared\"", "out/x/../shared");
    feed(&env, "b", "file = \"shared\"", "out/shared");
    let run = env.run(&["export", "--no-progress"]);
    run.expect_code(2);
    assert!(
        run.stderr()
            .contains("feeds `a` and `b` would both write `shared.csv`"),
        "{}",
        run.stderr()
    );
    assert!(!env.path("out/shared/shared.csv").exists());
}

#[cfg(unix)]
#[test]
fn two_feeds_reaching_one_file_through_a_symbolic_link_are_refused() {
    let env = project(2);
    std::fs::create_dir_all(env.path("out/real")).expect("mkdir");
    std::os::unix::fs::symlink(env.path("out/real"), env.path("out/link")).expect("symlink");
    feed(&env, "a", "file = \"shared\"", "out/link");
    feed(&env, "b", "file = \"shared\"", "out/real");
    env.run(&["export", "--no-progress"]).expect_code(2);
}

#[test]
fn two_feeds_with_one_file_name_in_two_folders_both_export() {
    let env = project(2);
    feed(&env, "a", "file = \"shop\"", "out/a");
    feed(&env, "b", "file = \"shop\"", "out/b");
    env.run(&["export", "--no-progress"]).expect_code(0);
    assert_eq!(names(&env.path("out/a")), ["shop.csv"]);
    assert_eq!(names(&env.path("out/b")), ["shop.csv"]);
}

/// A feed whose name is a numbered part of another's in the same folder would be removed
/// as that feed's stale part, or overwritten by it.
#[test]
fn a_feed_named_like_another_feeds_part_in_one_folder_is_refused() {
    let env = project(2);
    feed(&env, "f", "", "out");
    feed(&env, "g", "file = \"f-0002\"", "out");
    env.run(&["export", "--no-progress"]).expect_code(2);
}

/// A split feed shrinking from three parts to two: part 3 goes, a file that only looks
/// like one of its parts stays, and no temporary file is left, including one a killed run
/// left behind.
#[test]
fn an_export_shrinking_from_three_parts_to_two_replaces_only_its_own_parts() {
    let env = project(5);
    tiny_spec(&env);
    env.write(
        "feeds/f.toml",
        "channel = \"tiny\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"out\"\n",
    );
    env.run(&["export", "--no-progress"]).expect_code(0);
    assert_eq!(
        names(&env.path("out")),
        ["f-0001.csv", "f-0002.csv", "f-0003.csv"]
    );
    env.write("out/f-0009.csv", "another tool's file\n");
    env.write("out/.f.csv.Ab12Cd.partial", "left by a killed run\n");
    env.write("out/.f.notes.Ab12Cd.partial", "not ours\n");
    env.write("cat/products.csv", products(4));
    env.run(&["export", "--no-progress"]).expect_code(0);
    assert_eq!(
        names(&env.path("out")),
        [
            ".f.notes.Ab12Cd.partial",
            "f-0001.csv",
            "f-0002.csv",
            "f-0009.csv"
        ]
    );
    assert_eq!(env.read("out/f-0009.csv"), "another tool's file\n");
    assert!(env.read("out/f-0002.csv").contains("S4"));
}

/// The same for a push into a `dir` destination.
#[test]
fn a_push_shrinking_from_three_parts_to_two_replaces_only_its_own_parts() {
    let env = project(5);
    tiny_spec(&env);
    env.write(
        "feeds/f.toml",
        "channel = \"tiny\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"dest\"\n",
    );
    env.run(&["push", "--no-progress"]).expect_code(0);
    env.write("dest/f-0007.csv", "another tool's file\n");
    env.write("dest/.f.csv.Zz99Yy.partial", "left by a killed copy\n");
    env.write("cat/products.csv", products(3));
    env.run(&["push", "--no-progress", "--force"])
        .expect_code(0);
    assert_eq!(
        names(&env.path("dest")),
        ["f-0001.csv", "f-0002.csv", "f-0007.csv"]
    );
}

/// The project (and its staging folder) on the worktree's disk, the destination on a
/// tmpfs: delivery copies across file systems, and the delivered file must be readable
/// like any file the user creates, not owner-only like a temp file.
#[cfg(unix)]
#[test]
fn a_delivery_to_another_file_system_is_readable_by_others() {
    use std::os::unix::fs::MetadataExt;

    use crate::support::mode;
    let env = project(3);
    let Ok(remote) = tempfile::tempdir_in("/dev/shm") else {
        println!("skipped: no /dev/shm to deliver to from another file system");
        return;
    };
    let device = |path: &Path| std::fs::metadata(path).expect("metadata").dev();
    if device(remote.path()) == device(env.dir.path()) {
        println!("skipped: /dev/shm is on the same file system as the temp dir");
        return;
    }
    let dest = remote.path().join("feeds");
    feed(&env, "shop", "", dest.to_str().expect("utf-8"));
    std::fs::create_dir_all(&dest).expect("mkdir");
    std::fs::write(
        dest.join(".shop.csv.Qw12Er.partial"),
        "left by a killed copy",
    )
    .expect("write");
    env.run(&["push", "--no-progress"]).expect_code(0);
    let reference = env.write("reference.txt", "made by the test under the same umask\n");
    assert_eq!(mode(&dest.join("shop.csv")), mode(&reference));
    assert_eq!(
        names(&dest),
        ["shop.csv"],
        "the killed copy's temp file is gone"
    );
}

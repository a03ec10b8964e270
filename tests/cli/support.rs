//! A temporary project folder and a way to run the real `omnifeed` binary in it.

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
        let output = assert_cmd::Command::cargo_bin("omnifeed")
            .expect("binary")
            .current_dir(self.dir.path())
            .args(args)
            .timeout(std::time::Duration::from_secs(300))
            .output()
            .expect("run omnifeed");
        Run { output }
    }

    /// Runs the bundled generator into `relative` and returns its defect counts.
    pub(crate) fn generate(&self, relative: &str, args: &[&str]) -> serde_json::Value {
        let out = self.dir.path().join(relative);
        let status = std::process::Command::new("python3")
            .arg(fixture("gen_catalog.py"))
            .arg(&out)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3 runs gen_catalog.py");
        assert!(status.success(), "gen_catalog.py failed");
        let defects = std::fs::read_to_string(out.join("defects.json")).expect("defects.json");
        serde_json::from_str(&defects).expect("defects.json is JSON")
    }
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
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

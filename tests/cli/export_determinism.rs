//! Export output is byte-identical across runs and thread counts.

use std::collections::BTreeMap;

use crate::support::TestEnv;

/// The feed files in `out`: name -> bytes, without the hidden list of parts.
fn files(env: &TestEnv, out: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = env.files(out);
    files.retain(|name, _| !crate::support::is_parts_list(name));
    files
}

#[test]
fn export_is_byte_identical_across_runs_and_job_counts() {
    let env = TestEnv::with_example();
    // Large enough for several batches on every worker; dirty, so findings are ordered too.
    env.generate(
        "cat",
        &["--variants", "20000", "--dirty", "0.02", "--seed", "4"],
    );
    let mut outputs = Vec::new();
    for (out, jobs) in [
        ("run-a", None),
        ("run-b", None),
        ("jobs-1", Some("1")),
        ("jobs-2", Some("2")),
    ] {
        let mut args = vec![
            "export",
            "--catalog",
            "cat",
            "--format",
            "json",
            "--no-progress",
            "--out",
            out,
        ];
        if let Some(jobs) = jobs {
            args.extend(["--jobs", jobs]);
        }
        let run = env.run(&args);
        run.expect_code(1);
        // The report differs only in the output folder's name.
        let report = run.stdout().replace(out, "OUT");
        outputs.push((out, report, files(&env, out)));
    }
    let (first, first_report, first_files) = &outputs[0];
    assert_eq!(
        first_files.len(),
        8,
        "all eight feeds written: {:?}",
        first_files.keys()
    );
    for (out, report, files) in &outputs[1..] {
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            first_files.keys().collect::<Vec<_>>(),
            "{out} wrote the same files as {first}"
        );
        for (name, bytes) in files {
            assert!(
                *bytes == first_files[name],
                "{out}/{name} differs from {first}/{name}"
            );
        }
        assert!(
            report == first_report,
            "{out}: the report differs from {first}'s"
        );
    }
}

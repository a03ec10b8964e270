//! Direct I/O is a way of writing, not of what is written (issue #8, point 5): an export
//! with `O_DIRECT` and one forced through the page cache (`OMNIFEED_DIRECT_IO=off`, what
//! `benches/bench.py direct` compares) give the same bytes.

use crate::export_support::export_json;
use crate::support::TestEnv;

#[test]
fn export_with_and_without_direct_io_is_byte_identical() {
    let env = TestEnv::with_example();
    // Large enough for whole 4 KiB blocks (the direct part) and a tail (the cached part).
    export_json(&env, "direct", &[]);
    let run = env.run_with_env(
        &["export", "--no-progress", "--out", "cached"],
        &[("OMNIFEED_DIRECT_IO", "off")],
    );
    run.expect_code(0);
    let (direct, cached) = (env.files("direct"), env.files("cached"));
    assert!(
        direct.iter().any(|(_, bytes)| bytes.len() > 2 * 4096),
        "a feed spans several blocks"
    );
    assert_eq!(direct.len(), cached.len());
    for ((name, a), (other, b)) in direct.iter().zip(&cached) {
        assert_eq!(name, other);
        assert!(a == b, "{name} differs between direct and cached writes");
    }
}

//! Embeds every `channel-specs/*.toml` in the binary, so adding a channel is adding a file.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("channel-specs");
    println!("cargo:rerun-if-changed=channel-specs");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut code = String::from("pub(crate) static SHIPPED: &[(&str, &str)] = &[\n");
    for name in &names {
        println!("cargo:rerun-if-changed=channel-specs/{name}");
        let stem = name.trim_end_matches(".toml");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name);
        let _ = writeln!(
            code,
            "    ({stem:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("shipped_specs.rs");
    std::fs::write(out, code).expect("write shipped_specs.rs");
}

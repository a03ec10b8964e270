use std::io::Write;
use std::path::PathBuf;

use clap::{Args, FromArgMatches};

use crate::cli::{GlobalArgs, InitArgs, ValidateArgs};
use crate::exit::{ClassedError, ErrorClass, Exit};
use crate::init::{InitOptions, init};

pub fn run(global: &GlobalArgs, args: &InitArgs) -> anyhow::Result<Exit> {
    if global.catalog.is_some() {
        return Err(ClassedError::new(
            ErrorClass::Config,
            "init takes the catalog file itself (omnifeed init FILE), not --catalog",
        )
        .into());
    }
    let config_path = global
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("omnifeed.toml"));
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from("products.csv"));
    let base_dir = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let specs = crate::spec::load_all(&base_dir.join("channel-specs"))?;
    let command = std::iter::once("omnifeed".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ");
    let written = init(
        &InitOptions {
            file: &file,
            config_path: &config_path,
            channels: &args.channels,
            base_url: args.base_url.as_deref(),
            currency: args.currency.as_deref(),
            country: args.country.as_deref(),
            language: args.language.as_deref(),
            force: args.force,
            command,
        },
        &specs,
    )?;
    // stdout carries validate's report (JSON with --format json); what init did goes to stderr.
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}: {}", file.display(), written.detected);
    for path in &written.files {
        let _ = writeln!(err, "wrote {}", path.display());
    }
    for note in &written.notes {
        let _ = writeln!(err, "note: {note}");
    }
    let _ = writeln!(err, "validating the catalog as configured:");
    drop(err);
    // Validate's own defaults, whatever flags it grows.
    let matches = ValidateArgs::augment_args(clap::Command::new("validate"))
        .try_get_matches_from(["validate"])?;
    let validate = ValidateArgs::from_arg_matches(&matches)?;
    super::validate::run(global, &validate)
}

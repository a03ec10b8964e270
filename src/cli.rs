//! Command-line arguments (clap derive only); commands turn them into work at once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::OutputFormat;

/// Validate one product catalog, reshape it per sales channel, diff and push feeds.
///
/// Exit codes: 0 ok, 1 validation errors (or changes with --exit-code, or a guard tripped),
/// 2 usage or configuration error, 3 push failed.
#[derive(Debug, Parser)]
#[command(name = "omnifeed", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file naming the catalog, its column mapping and defaults.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        default_value = "omnifeed.toml"
    )]
    pub config: PathBuf,
    /// Catalog folder in the canonical layout (products.csv, inventory.csv, locations.csv);
    /// overrides the config's [catalog] dir.
    #[arg(long, global = true, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// Report format on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Never draw a progress bar (it is drawn only on a terminal outside CI anyway).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the catalog: every row, every rule. Exit 1 when there are errors.
    Validate(ValidateArgs),
    /// Explain a rule code: what it means and how to fix the data.
    Explain {
        /// A rule code such as `invalid-gtin`; omit to list all rules.
        rule: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// In human output, show at most N occurrences per rule (JSON always lists all).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub max_per_rule: usize,
    /// Treat warnings as errors for the exit code.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Option<Deny>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Deny {
    Warnings,
}

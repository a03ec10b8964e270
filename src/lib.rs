//! omnifeed: one product catalog in, channel-ready feeds out.
//!
//! Stages, one module each: [`load`] reads and checks the catalog into the typed [`model`];
//! [`report`] prints findings; [`commands`] glue the stages behind the CLI.

pub mod allocate;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diag;
pub mod diff;
pub mod exit;
pub mod export;
pub mod feed;
pub mod guards;
pub mod init;
pub mod load;
pub mod model;
pub mod push;
pub mod report;
pub mod rules;
pub mod run;
pub mod serialize;
pub mod spec;
mod spill;
pub mod state;
pub mod transform;
mod unique_keys;

use cli::{Cli, Command};
use exit::Exit;

/// Runs one command. `net` is the process's network runtime, built on first use by a
/// network transport.
pub fn run(cli: Cli, net: &push::NetRuntime) -> anyhow::Result<Exit> {
    refuse_findings_format(&cli)?;
    match &cli.command {
        Command::Validate(args) => commands::validate::run(&cli.global, args),
        Command::Export(args) => commands::export::run(&cli.global, args),
        Command::Preview(args) => commands::preview::run(&cli.global, args),
        Command::Channels => commands::channels::run(&cli.global),
        Command::Explain { rule } => commands::explain::run(rule.as_deref()),
        Command::Diff(args) => commands::diff::run(&cli.global, args),
        Command::Check(args) => commands::check::run(&cli.global, args),
        Command::Push(args) => commands::push::run(&cli.global, args, net),
        Command::Runs(args) => commands::runs::run(&cli.global, args),
        Command::Init(args) => commands::init::run(&cli.global, args),
        Command::Sync(args) => commands::sync::run(&cli.global, args, net),
        Command::Completions(args) => commands::completions::run(args),
        Command::Man(args) => commands::man::run(args),
    }
}

/// `--format sarif` and `--format junit` hold findings and nothing else: a command that
/// reports no findings refuses them rather than print something else.
fn refuse_findings_format(cli: &Cli) -> anyhow::Result<()> {
    let format = cli.global.format;
    if !format.findings_only()
        || matches!(
            cli.command,
            Command::Validate(_) | Command::Export(_) | Command::Check(_)
        )
    {
        return Ok(());
    }
    let name = clap::ValueEnum::to_possible_value(&format)
        .map(|value| value.get_name().to_owned())
        .unwrap_or_default();
    Err(exit::ClassedError::new(
        exit::ErrorClass::Config,
        format!(
            "--format {name} reports findings: use it with `omnifeed validate`, `omnifeed export` or `omnifeed check`\n  \
             hint: this command prints --format human or json"
        ),
    )
    .into())
}

//! `omnifeed completions SHELL`: a completion script generated from the clap definition,
//! so it always knows every command and flag `--help` shows.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Exit;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut out = crate::report::stdout::stdout();
    clap_complete::generate(args.shell, &mut command, name, &mut out);
    out.flush()?;
    Ok(Exit::Ok)
}

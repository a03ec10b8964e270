//! `omnifeed man`: the man page generated from the clap definition, so it says what
//! `--help` says. `--out-dir DIR` writes one page per command for packagers
//! (`omnifeed.1`, `omnifeed-sync.1`, …).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::exit::{ClassedError, ErrorClass, Exit};

pub fn run(args: &ManArgs) -> anyhow::Result<Exit> {
    let command = Cli::command();
    match &args.out_dir {
        None => {
            let mut out = crate::report::stdout::stdout();
            clap_mangen::Man::new(command).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => {
            let written =
                std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
            written.map_err(|err| {
                ClassedError::new(
                    ErrorClass::Output,
                    format!("cannot write the man pages into `{}`: {err}", dir.display()),
                )
            })?;
        }
    }
    Ok(Exit::Ok)
}

//! `omnifeed sync`: flags in, [`crate::run::sync::sync`] does the run and says everything
//! in the log on stderr; stdout stays empty, so cron mails only what needs attention,
//! unless `--format json` asks for the run report there too.

use std::io::Write;

use crate::cli::{GlobalArgs, SyncArgs};
use crate::exit::Exit;
use crate::push::NetRuntime;
use crate::report::OutputFormat;
use crate::report::progress::Progress;
use crate::run::ProjectLock;
use crate::run::sync::{SyncOptions, log_error, sync};

pub fn run(global: &GlobalArgs, args: &SyncArgs, net: &NetRuntime) -> anyhow::Result<Exit> {
    crate::report::logging::init(args.log_format, args.verbose);
    // Errors before the run go to the log too, so a log shipper sees them as JSON.
    let prepared = super::load_config(global).and_then(|config| {
        let now = super::parse_now(global.now.as_deref())?;
        Ok((config, now))
    });
    let (config, now) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => {
            log_error(&err);
            return Ok(crate::report::exit_of(&err));
        }
    };
    super::set_jobs(args.selection.jobs);
    let lock = match ProjectLock::acquire(&config.state_path, "sync") {
        Ok(lock) => lock,
        Err(err) => {
            let exit = match &err {
                crate::run::LockError::Held { .. } => Exit::Locked,
                crate::run::LockError::Io { .. } => Exit::PushFailed,
            };
            log_error(&err.into());
            return Ok(exit);
        }
    };
    let options = SyncOptions {
        selected: &args.selection.feeds,
        now,
        report: args.report.as_deref(),
    };
    let progress = Progress::new(!global.no_progress);
    if global.no_progress {
        net.hide_progress();
    }
    let synced = sync(&config, &lock, &options, net, &progress);
    if global.format == OutputFormat::Json {
        let mut out = crate::report::stdout::stdout();
        serde_json::to_writer_pretty(&mut out, &synced.report)?;
        writeln!(out)?;
        out.flush()?;
    }
    Ok(synced.exit)
}

//! `omnifeed sync`: the unattended run for cron and timers. Under the project lock the
//! caller holds, it reads and checks the catalog, diffs every feed against what its
//! channel accepted, checks the guards and delivers each feed that passes: one feed's
//! guard or failure never stops another (the push engine, [`crate::run::push()`], handles
//! each feed on its own). Then it logs what needs attention, writes the run's JSON report
//! ([`report`]) and, when the run did not end ok, posts it to the `[notify] webhook`.
//!
//! Exit codes: 0 all feeds delivered; 1 data (catalog rows or feed items with errors, a
//! guard, items the channel rejected); 3 a delivery, the state or the report failed (wins
//! over 1: someone must act); 2 a config, spec or feed definition that cannot be read; the
//! lock code 4 is the caller's.

pub mod report;

mod events;

use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::Timestamp;

use self::report::RunReport;
use crate::config::Config;
use crate::exit::Exit;
use crate::feed::Feed;
use crate::guards::Overrides;
use crate::push::{NetRuntime, Transport, transport_for};
use crate::report::progress::Progress;
use crate::run::{ProjectLock, PushOptions, PushRun};
use crate::state::SqliteStore;

/// How to sync.
pub struct SyncOptions<'a> {
    /// Feeds by file stem; empty for all.
    pub selected: &'a [String],
    pub now: Timestamp,
    /// `--report`: the report path template over the config's.
    pub report: Option<&'a Path>,
}

/// A finished sync run.
pub struct SyncRun {
    pub exit: Exit,
    pub report: RunReport,
    /// Where the report was written; `None` when writing it failed (see
    /// `report.report_error`).
    pub report_path: Option<PathBuf>,
}

/// Runs one sync. Never fails as a whole: every failure ends up in the report, the log and
/// the exit code.
pub fn sync(
    config: &Config,
    lock: &ProjectLock,
    options: &SyncOptions<'_>,
    net: &NetRuntime,
    progress: &Progress,
) -> SyncRun {
    let clock = Instant::now();
    let mut report = RunReport::new(config, options.now);
    let mut exit = match push_all(config, lock, options, net, progress) {
        Ok(pushed) => {
            events::log_run(&pushed);
            let exit = exit_of(&pushed);
            let unfinished = pushed.finish_error.as_ref().map(|err| {
                format!(
                    "{}; the feeds were delivered and recorded as reported, only the run's end \
                     is missing from `omnifeed runs`",
                    error_chain(err)
                )
            });
            if let Some(message) = &unfinished {
                tracing::error!("{message}");
            }
            report.record(pushed);
            report.error = unfinished;
            exit
        }
        Err(err) => {
            log_error(&err);
            report.error = Some(format!("{err:#}"));
            crate::report::exit_of(&err)
        }
    };
    report.finish(exit, clock.elapsed());

    let template = options.report.unwrap_or(&config.sync.report);
    let path = report::path_for(template, report.run, options.now);
    let report_path = match report::write(&path, &report) {
        Ok(()) => {
            match report::prune(template, config.sync.keep_reports) {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "removed old run reports"),
                Err(err) => tracing::warn!(
                    "cannot remove old run reports beside `{}`: {err}",
                    path.display()
                ),
            }
            Some(path)
        }
        Err(err) => {
            let message = format!("cannot write the run report `{}`: {err}", path.display());
            tracing::error!("{message}");
            report.report_error = Some(message);
            if matches!(exit, Exit::Ok | Exit::Invalid) {
                exit = Exit::PushFailed;
                report.exit_code = exit as u8;
            }
            None
        }
    };

    let run = report
        .run
        .map_or_else(|| "-".to_owned(), |run| run.0.to_string());
    let shown = report_path
        .as_deref()
        .map_or_else(|| "not written".to_owned(), |p| p.display().to_string());
    if exit == Exit::Ok {
        tracing::info!(run, report = %shown, "sync run {run} ok");
    } else {
        tracing::error!(
            run,
            outcome = report.outcome,
            exit_code = exit as u8,
            report = %shown,
            "sync run {run} ended {} (exit {}); report: {shown}",
            report.outcome,
            exit as u8
        );
    }
    notify(config, &report, exit, net);
    SyncRun {
        exit,
        report,
        report_path,
    }
}

/// Loads the feeds, opens the state and pushes them all.
fn push_all(
    config: &Config,
    lock: &ProjectLock,
    options: &SyncOptions<'_>,
    net: &NetRuntime,
    progress: &Progress,
) -> anyhow::Result<PushRun> {
    let specs = crate::spec::load_all(&config.specs_dir)?;
    let feeds = crate::feed::load_feeds(config, &specs, options.selected)?;
    for feed in &feeds {
        for warning in &feed.warnings {
            tracing::info!(feed = %feed.id, "{}: {warning}", feed.path.display());
        }
    }
    tracing::debug!(feeds = feeds.len(), "feeds loaded; reading the catalog");
    let mut store = SqliteStore::open(&config.state_path)?;
    let push_options = PushOptions {
        now: options.now,
        // A tripped guard stops its feed until a person has looked: no overrides here.
        overrides: Overrides {
            force: false,
            allowed: Vec::new(),
        },
        command: "sync",
    };
    crate::run::push(
        config,
        feeds,
        &mut store,
        lock,
        &push_options,
        &|feed: &Feed| -> Box<dyn Transport> { transport_for(feed, net) },
        progress,
    )
}

/// The push's exit code, with catalog rows left out for an error counted as data too, as
/// `validate` counts them.
fn exit_of(pushed: &PushRun) -> Exit {
    match pushed.exit() {
        Exit::Ok if pushed.catalog.findings.has_errors() => Exit::Invalid,
        exit => exit,
    }
}

/// Posts the report to the webhook when the settings ask for it. A notification that
/// cannot be sent is logged; the exit code stays the run's.
fn notify(config: &Config, report: &RunReport, exit: Exit, net: &NetRuntime) {
    let notify = &config.sync.notify;
    if !notify.wants(exit == Exit::Ok) {
        return;
    }
    let body = match serde_json::to_vec(report) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!("cannot encode the run report for the webhook: {err}");
            return;
        }
    };
    let posted = crate::push::webhook::post(notify, body, net, |err, wait| {
        tracing::warn!(
            "{}; trying again in {:.1} s",
            error_chain(err),
            wait.as_secs_f64()
        );
    });
    match posted {
        Ok(()) => tracing::info!("run report sent to the {}", notify.target()),
        Err(err) => tracing::error!("could not send the run report: {}", error_chain(&err)),
    }
}

/// Logs an error that ends the run as `omnifeed` prints a fatal one (causes, then hints),
/// without the `error:` the log level already says.
pub fn log_error(err: &anyhow::Error) {
    let text = crate::report::render(err);
    tracing::error!("{}", text.strip_prefix("error: ").unwrap_or(&text));
}

/// An error and its causes on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

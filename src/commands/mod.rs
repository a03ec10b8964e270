//! Command glue: read the config, run the stages, print, pick the exit code.

pub mod channels;
pub mod completions;
pub mod diff;
mod dry_run;
pub mod explain;
pub mod export;
pub mod init;
pub mod man;
pub mod preview;
pub mod push;
pub mod runs;
pub mod sync;
pub mod validate;

use std::io::Write;

use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::report::OutputFormat;

pub fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    // A config named on the command line must exist; the default one may be absent when
    // --catalog says where the catalog is.
    let (path, explicit) = match &global.config {
        Some(path) => (path.clone(), true),
        None => (std::path::PathBuf::from("omnifeed.toml"), false),
    };
    Ok(Config::load(&path, explicit, global.catalog.as_deref())?)
}

/// How many findings to keep: `--max-per-rule` over the config's setting; a JSON report
/// lists every finding, so the run writes them all down.
pub fn set_findings_policy(config: &mut Config, max_per_rule: Option<usize>, format: OutputFormat) {
    if let Some(max) = max_per_rule {
        config.findings.max_per_rule = max;
    }
    config.findings.list_all = format == OutputFormat::Json;
}

/// Specs (shipped plus the user's) and the selected feeds compiled against them.
pub fn load_feeds(config: &Config, selected: &[String]) -> anyhow::Result<Vec<crate::feed::Feed>> {
    let specs = crate::spec::load_all(&config.specs_dir)?;
    let feeds = crate::feed::load_feeds(config, &specs, selected)?;
    for feed in &feeds {
        for warning in &feed.warnings {
            // A closed stderr must not stop the run (eprintln! would panic).
            let _ = writeln!(
                std::io::stderr(),
                "warning: {}: {warning}",
                feed.path.display()
            );
        }
    }
    Ok(feeds)
}

/// Names on stderr the items a feed left out for an error (a repeated key, a missing
/// required field), so `diff` and `push` show what `export` reports and no item goes
/// missing unseen: the first ones of each rule, as the run kept them.
pub fn report_rejected_items(findings: &crate::diag::Findings) -> std::io::Result<()> {
    use std::io::Write;
    let mut rejected = crate::diag::Findings::new(&crate::diag::FindingsPolicy::default())?;
    rejected.extend(
        findings
            .kept()
            .iter()
            .filter(|finding| finding.feed.is_some() && finding.is_error())
            .cloned(),
    );
    if !rejected.has_errors() {
        return Ok(());
    }
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    writeln!(
        err,
        "items left out of a feed (`omnifeed export` reports every finding):"
    )?;
    let max_per_rule = crate::diag::FindingsPolicy::DEFAULT_MAX_PER_RULE;
    crate::report::findings::print_human(&mut err, &rejected, max_per_rule)
}

/// The catalog tables a run reads that exist, as findings name them: a JUnit report shows
/// each as a suite, passing when it has no findings.
pub fn catalog_files(config: &Config) -> Vec<String> {
    [
        config.products_path(),
        config.table_path(&config.inventory, "inventory.csv"),
        config.table_path(&config.locations, "locations.csv"),
    ]
    .into_iter()
    .filter(|path| path.is_file())
    .map(|path| path.display().to_string())
    .collect()
}

/// Sizes the worker pool once per process; `--jobs` never changes the output.
pub fn set_jobs(jobs: Option<usize>) {
    if let Some(requested) = jobs {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let (jobs, note) = bounded_jobs(requested, cores);
        if let Some(note) = note {
            // `sync` logs through tracing (JSON under `--log-format json`): the note joins
            // its log there; other commands have no log and print it plainly.
            if tracing::dispatcher::has_been_set() {
                tracing::warn!(requested, used = jobs, "{note}");
            } else {
                let _ = writeln!(std::io::stderr(), "note: {note}");
            }
        }
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build_global();
    }
}

/// Threads beyond a few per core only cost memory and start-up time (100,000 of them took
/// minutes and 787 MB on a 10-item catalog): `--jobs` is held to four per core, with a note.
pub fn bounded_jobs(requested: usize, cores: usize) -> (usize, Option<String>) {
    let most = cores.max(1) * 4;
    match requested {
        0 => (1, None),
        n if n > most => (
            most,
            Some(format!(
                "--jobs {n} is more than this machine's {cores} cores can use; using {most}"
            )),
        ),
        n => (n, None),
    }
}

/// `--now TIME` (RFC 3339), or the clock.
pub fn parse_now(now: Option<&str>) -> anyhow::Result<jiff::Timestamp> {
    match now {
        None => Ok(jiff::Timestamp::now()),
        Some(text) => text
            .parse()
            .map_err(|err| anyhow::anyhow!("--now `{text}` is not an RFC 3339 time: {err}")),
    }
}

/// A run that could not take the project lock: says who holds it and exits with
/// [`Exit::Locked`](crate::exit::Exit::Locked); any other lock failure is an error.
pub fn lock_refused(err: crate::run::LockError) -> anyhow::Result<crate::exit::Exit> {
    match err {
        held @ crate::run::LockError::Held { .. } => {
            eprintln!("error: {held}");
            Ok(crate::exit::Exit::Locked)
        }
        other => Err(other.into()),
    }
}

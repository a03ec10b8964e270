//! The JSON report of one `omnifeed sync` run, written to a file per run and posted to the
//! `[notify] webhook`.
//!
//! Shape (stable; fields are only ever added):
//! ```json
//! { "omnifeed": "0.1.0", "command": "sync", "run": 12, "host": "shop-1",
//!   "project": "omnifeed.toml", "started_at": "…", "ended_at": "…", "duration_ms": 1234,
//!   "outcome": "ok", "exit_code": 0,
//!   "catalog": { "product_rows", "variants", "rejected_rows", "inventory_rows",
//!                "locations", "errors", "warnings", "by_rule": { "invalid-gtin": 3 } },
//!   "findings": [Finding…], "feeds": [FeedResult…], "error": "…" }
//! ```
//! `run` is the id `omnifeed runs` lists (null when the run stopped before it began: the
//! catalog or a feed definition could not be read); `outcome` is the run's outcome in the
//! history (`ok`, `partial`, `guard_tripped`, `failed`) or `error` for such a stop, whose
//! message is in `error`. `findings` holds the first `[report] max_per_rule` findings of
//! each rule, catalog rows first, then feed items; `catalog` counts them all. Each feed is
//! as `omnifeed push --format json` reports it. `report_error` says why the file itself
//! could not be written (in the copy sent to the webhook).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::config::Config;
use crate::diag::{Finding, Tally};
use crate::exit::Exit;
use crate::load::LoadCounts;
use crate::run::{FeedResult, PushRun};
use crate::state::RunId;

#[derive(Debug, Serialize)]
pub struct RunReport {
    pub omnifeed: &'static str,
    pub command: &'static str,
    pub run: Option<RunId>,
    pub host: String,
    pub project: String,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    pub duration_ms: u64,
    pub outcome: &'static str,
    pub exit_code: u8,
    pub catalog: Option<CatalogReport>,
    pub findings: Vec<Finding>,
    pub feeds: Vec<FeedResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CatalogReport {
    #[serde(flatten)]
    pub counts: LoadCounts,
    #[serde(flatten)]
    pub tally: Tally,
}

impl RunReport {
    pub fn new(config: &Config, started_at: Timestamp) -> RunReport {
        let project = match &config.path {
            Some(path) => path.display().to_string(),
            None => config.catalog_dir.display().to_string(),
        };
        RunReport {
            omnifeed: env!("CARGO_PKG_VERSION"),
            command: "sync",
            run: None,
            host: host_name(),
            project,
            started_at,
            ended_at: started_at,
            duration_ms: 0,
            outcome: "error",
            exit_code: Exit::Ok as u8,
            catalog: None,
            findings: Vec::new(),
            feeds: Vec::new(),
            error: None,
            report_error: None,
        }
    }

    /// Takes in what the push did.
    pub fn record(&mut self, pushed: PushRun) {
        self.run = Some(pushed.run);
        self.outcome = pushed.outcome.as_str();
        self.catalog = Some(CatalogReport {
            counts: pushed.catalog.counts,
            tally: pushed.catalog.findings.tally().clone(),
        });
        self.findings = pushed.catalog.findings.kept().to_vec();
        self.findings.extend(pushed.findings.kept().iter().cloned());
        self.feeds = pushed.feeds;
    }

    pub fn finish(&mut self, exit: Exit, took: Duration) {
        self.exit_code = exit as u8;
        self.duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        self.ended_at = self
            .started_at
            .checked_add(jiff::SignedDuration::try_from(took).unwrap_or_default())
            .unwrap_or(self.started_at);
    }
}

/// The report file of a run: `template` with `{run}` (the run id, `none` before one began)
/// and `{time}` (the start, UTC, to the millisecond: `20261129T221500.123Z`).
pub fn path_for(template: &Path, run: Option<RunId>, started_at: Timestamp) -> PathBuf {
    let Some(text) = template.to_str() else {
        return template.to_owned();
    };
    let run = run.map_or_else(|| "none".to_owned(), |run| run.0.to_string());
    let time = started_at.strftime("%Y%m%dT%H%M%S%.3fZ").to_string();
    PathBuf::from(text.replace("{run}", &run).replace("{time}", &time))
}

/// Writes the report whole or not at all: a reader (a monitoring check, `tail`) never sees
/// half of one.
pub fn write(path: &Path, report: &RunReport) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".report-");
    // Readable as any file the user writes (0666 less the umask; tempfile's default is
    // owner-only).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(dir)?;
    serde_json::to_writer_pretty(&mut file, report)?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Removes the oldest reports written from `template` (files in its folder matching its
/// name around the placeholders) beyond the newest `keep`; `keep` 0 keeps all. Returns
/// how many were removed. A template without placeholders rewrites one file: nothing to do.
pub fn prune(template: &Path, keep: usize) -> std::io::Result<usize> {
    let Some(name) = template.file_name().and_then(|name| name.to_str()) else {
        return Ok(0);
    };
    let (Some(first), Some(last)) = (
        ["{run}", "{time}"]
            .iter()
            .filter_map(|p| name.find(p))
            .min(),
        ["{run}", "{time}"]
            .iter()
            .filter_map(|p| name.rfind(p).map(|at| at + p.len()))
            .max(),
    ) else {
        return Ok(0);
    };
    if keep == 0 {
        return Ok(0);
    }
    let (prefix, suffix) = (&name[..first], &name[last..]);
    let dir = match template.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut reports = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if file_name.len() > prefix.len() + suffix.len()
            && file_name.starts_with(prefix)
            && file_name.ends_with(suffix)
            && entry.file_type()?.is_file()
        {
            let modified = entry.metadata()?.modified()?;
            reports.push((modified, file_name.to_owned()));
        }
    }
    if reports.len() <= keep {
        return Ok(0);
    }
    // Newest first; the name breaks ties between reports written within one clock tick.
    reports.sort_by(|a, b| b.cmp(a));
    let mut removed = 0;
    for (_, name) in &reports[keep..] {
        std::fs::remove_file(dir.join(name))?;
        removed += 1;
    }
    Ok(removed)
}

/// This machine's name, so a notification says where the run was.
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what we pass.
    let result = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if result != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_the_run_and_the_time() {
        let at: Timestamp = "2026-11-29T22:15:00.5Z".parse().unwrap();
        assert_eq!(
            path_for(Path::new("r/sync-{time}-{run}.json"), Some(RunId(7)), at),
            Path::new("r/sync-20261129T221500.500Z-7.json")
        );
        assert_eq!(
            path_for(Path::new("last.json"), None, at),
            Path::new("last.json")
        );
        assert_eq!(
            path_for(Path::new("{run}.json"), None, at),
            Path::new("none.json")
        );
    }

    #[test]
    fn pruning_keeps_the_newest_reports_of_the_template_only() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for (i, name) in ["sync-1.json", "sync-2.json", "sync-3.json", "other.json"]
            .iter()
            .enumerate()
        {
            let file = std::fs::File::create(dir.path().join(name)).unwrap();
            file.set_modified(base + Duration::from_secs(i as u64))
                .unwrap();
        }
        let template = dir.path().join("sync-{run}.json");
        assert_eq!(prune(&template, 2).unwrap(), 1);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["other.json", "sync-2.json", "sync-3.json"]);
        assert_eq!(prune(&dir.path().join("fixed.json"), 1).unwrap(), 0);
        assert_eq!(prune(&template, 0).unwrap(), 0);
    }
}

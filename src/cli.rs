//! Command-line arguments (clap derive only); commands turn them into work at once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::OutputFormat;
use crate::report::logging::LogFormat;

/// The exit codes, as `--help` shows them; the README table and `crate::exit::Exit` say the same.
const EXIT_CODES: &str = "Exit codes:
  0  ok (validation warnings allowed unless --deny warnings)
  1  data: the catalog or a feed's items have errors, a guard or a channel limit stopped a feed,
     diff --exit-code found changes, or check found feeds that disagree
  2  usage or configuration: bad flags, or a config, spec, feed or catalog file that cannot be
     read as configured; nothing was written
  3  output or delivery failed: a feed file or the state could not be written, or a
     destination refused or could not be reached
  4  another omnifeed run holds the project lock
A closed stdout (`| head`) only stops the printing: the exit code is still the run's.";

/// Validate one product catalog, reshape it per sales channel, diff and push feeds.
///
/// Exit codes: see `EXIT_CODES` (shown by `--help`) and `crate::exit::Exit`.
#[derive(Debug, Parser)]
#[command(
    name = "omnifeed",
    version,
    about,
    long_about = None,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file naming the catalog, its column mapping and defaults.
    /// [default: ./omnifeed.toml, optional when --catalog is given]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Catalog folder in the canonical layout (products.csv, inventory.csv, locations.csv);
    /// overrides the config's `[catalog] dir`.
    #[arg(long, global = true, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// Report format on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Never draw a progress bar (it is drawn only on a terminal outside CI anyway).
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// The run's time (RFC 3339, e.g. 2026-11-29T22:15:00+01:00) instead of the clock: sale
    /// windows, `max_days_ahead`, the refresh window and the time a push records read it.
    #[arg(long, global = true, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the catalog: every row, every rule. Exit 1 when there are errors.
    Validate(ValidateArgs),
    /// Write every feed (or the named ones) from the catalog.
    Export(ExportArgs),
    /// Show how one item travels through a feed: stock per location and which counted,
    /// partition, buffer, share, cap and thresholds, then filters, mappings and rules.
    Preview(PreviewArgs),
    /// List the channel specs: shipped ones and your own.
    Channels,
    /// Explain a rule code: what it means and how to fix the data.
    Explain {
        /// A rule code such as `invalid-gtin`; omit to list all rules.
        rule: Option<String>,
    },
    /// Dry run: what a push would change per feed, against what each channel last accepted.
    /// Writes no feed files and leaves the state alone. Guards are shown, not enforced.
    Diff(DiffArgs),
    /// Compare every feed's items for the same SKU and country: price and currency (up to
    /// each feed's `price_adjust`), sale state and sale price, availability against each
    /// feed's allocated stock, and SKUs one feed sends and another leaves out (with the
    /// filter, rule or missing mapping that left it out). Needs no state and no
    /// credentials. Exit 1 when anything differs.
    Check(CheckArgs),
    /// Export, diff, check the guards and deliver each feed that passes (files, or item by
    /// item to an API destination); record what the channel accepted. Exit 1 when the
    /// channel rejected items (run `partial`; `diff` lists them). One export or push per
    /// project at a time (exit 4 otherwise).
    Push(PushArgs),
    /// List past runs (`runs show ID` for one run's per-feed counts and rejected items).
    Runs(RunsArgs),
    /// Start a project from one catalog file: detect its format (a Shopify, WooCommerce or
    /// Magento 2 export, or a plain table), write omnifeed.toml with each guess explained
    /// and a feed per channel, then validate.
    Init(InitArgs),
    /// For cron and timers: validate, diff, check the guards and push every feed (or the
    /// named ones), each on its own. Silent when all went well (unless -v); logs on stderr;
    /// writes a JSON run report per run (`--format json` prints it too); `[notify] webhook`
    /// hears about failures.
    Sync(SyncArgs),
    /// Print a shell completion script, e.g. `omnifeed completions bash > ~/.local/share/bash-completion/completions/omnifeed`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `omnifeed man | man -l -`; `--out-dir` writes one page per command.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The catalog file: a shop's product export or a products table [default: products.csv]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Write one feed per channel, by spec id (`omnifeed channels`), e.g.
    /// google-merchant,meta-catalog.
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub channels: Vec<String>,
    /// The shop's address, e.g. `https://shop.example.com`: shop exports carry no product URLs,
    /// so links are built on it.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The currency of the file's prices, when it has no currency column (shop exports never
    /// do), e.g. EUR.
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Country the catalog sells in (ISO 3166-1 alpha-2), written to `[defaults]`.
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// Language of the catalog's texts (ISO 639-1), written to `[defaults]`.
    #[arg(long, value_name = "LANG")]
    pub language: Option<String>,
    /// Overwrite an existing omnifeed.toml and feed files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub selection: FeedSelection,
    /// Log what each feed did, not only problems (-vv: and the steps of the run).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines on stderr as text, or as one JSON object per line for log shippers.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Where to write this run's JSON report; `{run}` becomes the run id and `{time}` the
    /// start time (default: `[sync] report` in omnifeed.toml, else
    /// `runs/sync-{time}.json` in the state's folder).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `omnifeed.1` and one page per command (`omnifeed-sync.1`, …) into DIR instead
    /// of printing `omnifeed.1`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub selection: FeedSelection,
    /// Show only these items (repeatable); per-store keys match by their item part too.
    #[arg(long = "sku", value_name = "SKU")]
    pub skus: Vec<String>,
    /// Show only changes of these fields (repeatable).
    #[arg(long = "field", value_name = "NAME")]
    pub fields: Vec<String>,
    /// Show at most N items per list (added, changed, removed); changed items largest first.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Exit 1 when any feed has changes, like `git diff --exit-code`.
    #[arg(long)]
    pub exit_code: bool,
    /// When the next run is due (RFC 3339): sale windows that start or end before it are
    /// listed as future changes. Default: `--now` plus `[sync] every` from omnifeed.toml.
    #[arg(long, value_name = "TIME")]
    pub next_run: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selection: FeedSelection,
    /// In human and GitHub output, show at most N SKUs (default 20); the rest are counted.
    /// JSON output lists them all.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// A feed that leaves a SKU out by one of its `[filters]` (conditions, brands,
    /// in_stock_only, …) is not a mismatch: it declared it does not carry such items. They
    /// are counted (`filtered_allowed`), not compared.
    #[arg(long)]
    pub allow_filtered: bool,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub selection: FeedSelection,
    #[command(flatten)]
    pub overrides: GuardOverrides,
    /// Do everything up to delivery (plan, stage, guards), print what would be sent where,
    /// and check each destination (connect, log in, host keys, target folder) without
    /// writing there. Records nothing; exits as the push would (1 guard, 3 check failed).
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run, for a destination that takes single items (an API): how many item
    /// operations to list with their requests (bodies in --format json) after the counts.
    #[arg(long, value_name = "N", default_value_t = 10, requires = "dry_run")]
    pub show_items: usize,
}

/// Flags that let a push through a tripped guard.
#[derive(Debug, Args)]
pub struct GuardOverrides {
    /// Push despite every guard, including an empty feed, and despite a state with no
    /// record of a feed whose destination already holds its files (a lost or replaced state:
    /// the whole feed is sent and the state starts afresh).
    #[arg(long)]
    pub force: bool,
    /// Push even if more items would be removed than `max_removed_share` allows.
    #[arg(long)]
    pub allow_removals: bool,
    /// Push even if more items would be added than `max_added_share` allows.
    #[arg(long)]
    pub allow_additions: bool,
    /// Push even if too many prices move by more than `price_change_threshold`.
    #[arg(long)]
    pub allow_price_changes: bool,
    /// Push even if too many items go out of stock.
    #[arg(long)]
    pub allow_out_of_stock: bool,
    /// Push even if the feed currency changes.
    #[arg(long)]
    pub allow_currency_change: bool,
    /// Push even if the catalog is older than the one pushed last.
    #[arg(long)]
    pub allow_older_catalog: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub show: Option<RunsCommand>,
    /// List at most N runs, newest first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// One run with its per-feed counts.
    Show {
        /// The run id from `omnifeed runs`.
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// In human and GitHub output, show at most N findings per rule; the rest are counted
    /// (default 5, or `[report] max_per_rule` in omnifeed.toml). JSON output lists them all.
    #[arg(long, value_name = "N")]
    pub max_per_rule: Option<usize>,
    /// Treat warnings as errors for the exit code.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Option<Deny>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Deny {
    Warnings,
}

#[derive(Debug, Args)]
pub struct FeedSelection {
    /// Feeds by file stem in the feeds folder (default: all); `FEED.MARKET` (e.g. google.ch)
    /// for one market of a feed with `markets`.
    #[arg(value_name = "FEED")]
    pub feeds: Vec<String>,
    /// Worker threads (default: one per core; at most four per core). Output is identical
    /// for any value.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub selection: FeedSelection,
    /// Write into DIR instead of each feed's destination folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// In human and GitHub output, show at most N findings per rule; the rest are counted
    /// (default 5, or `[report] max_per_rule` in omnifeed.toml). JSON output lists them all.
    #[arg(long, value_name = "N")]
    pub max_per_rule: Option<usize>,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The feed, by file stem.
    pub feed: String,
    /// The item's SKU.
    #[arg(long)]
    pub sku: String,
}

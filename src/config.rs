//! `omnifeed.toml`: where the catalog is, how its columns map onto the canonical model, and
//! the defaults rows fall back on. Doc comments here are the user reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use serde::Deserialize;

use crate::diag::FindingsPolicy;
use crate::model::field::Field;
use crate::push::webhook::NotifyConfig;
use crate::spec::taxonomy::Taxonomy;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}\n  hint: {hint}")]
    Invalid {
        path: PathBuf,
        message: String,
        hint: String,
    },
    #[error(
        "no config file `{0}` and no --catalog DIR given\n  hint: run in a folder with omnifeed.toml, pass --config FILE, or pass --catalog DIR"
    )]
    NothingToRead(PathBuf),
}

impl ConfigError {
    /// The config is the user's to fix.
    pub fn class(&self) -> crate::exit::ErrorClass {
        crate::exit::ErrorClass::Config
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub catalog: RawCatalog,
    #[serde(default)]
    pub defaults: Defaults,
    /// Folder with one `*.toml` file per feed (default `feeds`).
    pub feeds_dir: Option<PathBuf>,
    /// Folder with the user's own channel specs, which add to or override the shipped ones
    /// (default `channel-specs`).
    pub specs_dir: Option<PathBuf>,
    #[serde(default)]
    pub state: RawState,
    #[serde(default)]
    pub report: RawReport,
    /// Google's product taxonomy file (`taxonomy-with-ids.en-US.txt`, as Google publishes
    /// it), relative to this file. Without it, the built-in list of 2019 is used and a
    /// category id it lacks is only a warning.
    pub taxonomy: Option<PathBuf>,
    #[serde(default)]
    pub sync: RawSync,
    /// Who hears about `omnifeed sync` runs (see [`NotifyConfig`]).
    #[serde(default)]
    pub notify: NotifyConfig,
    /// How feeds share each SKU's stock (see [`crate::allocate::RawAllocation`]).
    #[serde(default)]
    pub allocation: crate::allocate::RawAllocation,
}

/// `omnifeed sync` settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSync {
    /// Where each run's JSON report is written, relative to this file; `{run}` becomes the
    /// run id, `{time}` the start time (`20261129T221500Z`). Default: `runs/sync-{time}.json`
    /// in the state's folder. `--report` overrides it.
    pub report: Option<PathBuf>,
    /// How many reports a path with `{run}` or `{time}` keeps; older ones are removed
    /// (default 100).
    pub keep_reports: Option<usize>,
    /// How often cron or a timer runs `omnifeed sync`, e.g. "30m", "1h" or "PT6H": `diff`
    /// lists the sales that start or end before the next run (`--next-run` overrides).
    pub every: Option<String>,
}

/// `omnifeed sync` settings after layering.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// The report path template, resolved against the config's folder.
    pub report: PathBuf,
    pub keep_reports: usize,
    pub notify: NotifyConfig,
    /// `[sync] every`: the time between scheduled runs.
    pub every: Option<jiff::SignedDuration>,
}

/// How findings are reported.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// Findings listed per rule in human and GitHub output, and kept in memory; the rest are
    /// counted (default 5; `--max-per-rule` overrides it). JSON output lists them all.
    pub max_per_rule: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    /// SQLite file that remembers what each channel accepted (default `.omnifeed/state.db`).
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    /// Folder the catalog files are read from, relative to this config file.
    pub dir: Option<PathBuf>,
    /// Canonical fields every product row must have (default: sku, title, price, currency).
    pub required: Option<Vec<String>>,
    #[serde(default)]
    pub products: RawTable,
    #[serde(default)]
    pub inventory: RawTable,
    #[serde(default)]
    pub locations: RawTable,
    /// Optional `store_prices.csv` (sku, location_id, currency, price, sale_price): a
    /// store's own price where it differs from the online one, for local inventory feeds.
    #[serde(default)]
    pub store_prices: RawTable,
}

/// One input table. Every key is optional: the defaults read the canonical CSV layout.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// File name inside the catalog folder (defaults: products.csv, inventory.csv, locations.csv).
    pub file: Option<PathBuf>,
    /// `csv`, `tsv` or `jsonl`; by default taken from the file extension.
    pub format: Option<String>,
    /// One-character delimiter for `csv` (default `,`).
    pub delimiter: Option<String>,
    /// One-character quote for `csv` and `tsv` (default `"`).
    pub quote: Option<String>,
    /// Separator inside list cells such as `additional_image_links` (default `|`).
    pub list_separator: Option<String>,
    /// Canonical field -> column name in your file, e.g. `sku = "Artikelnummer"`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Prices in several currencies on one row: one entry per currency.
    #[serde(default)]
    pub prices: Vec<RawPriceColumns>,
    /// Inventory only: `false` says the catalog has no inventory table, so a missing file is
    /// no error even with a locations table, and the products' `stock` column gives the stock.
    pub required: Option<bool>,
    /// Products only: read a shop system's own product export as it comes out of the shop,
    /// without preprocessing: `shopify`, `woocommerce` or `magento2` (README, "Shop exports").
    pub preset: Option<crate::load::preset::Preset>,
    /// Products with a preset: the shop's address, e.g. `https://shop.example.com`. The
    /// exports carry no product URLs, so links are built from it (Shopify
    /// `/products/HANDLE`, WooCommerce `/?post_type=product&p=ID`, Magento `/URL_KEY.html`).
    pub base_url: Option<String>,
    /// Magento 2 only: where the export's image paths live (default
    /// `BASE_URL/media/catalog/product`).
    pub image_base_url: Option<String>,
    /// Shopify only: the currency of each market whose `Price / MARKET` columns the export
    /// has, e.g. `{ "United Kingdom" = "GBP" }`. Markets not listed stay custom attributes.
    #[serde(default)]
    pub markets: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawPriceColumns {
    pub currency: String,
    pub price: String,
    pub sale_price: Option<String>,
}

/// Values a row falls back on when it does not say.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Currency for rows without a currency column, e.g. `EUR`.
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2 country the catalog sells in, e.g. `DE`.
    pub country: Option<String>,
    /// ISO 639-1 language of the catalog's texts, e.g. `de`.
    pub language: Option<String>,
    /// IANA time zone for dates without an offset (default `UTC`).
    pub time_zone: Option<String>,
}

/// The config after layering defaults and command-line overrides.
#[derive(Debug)]
pub struct Config {
    /// The config file, or `None` when running on `--catalog DIR` alone.
    pub path: Option<PathBuf>,
    /// Folder relative paths in the config are resolved against.
    pub base_dir: PathBuf,
    pub catalog_dir: PathBuf,
    pub required: Vec<Field>,
    pub products: RawTable,
    pub inventory: RawTable,
    pub locations: RawTable,
    pub store_prices: RawTable,
    pub defaults: Defaults,
    pub time_zone: jiff::tz::TimeZone,
    pub feeds_dir: PathBuf,
    pub specs_dir: PathBuf,
    pub state_path: PathBuf,
    /// Google's product taxonomy: the user's file, or the built-in list.
    pub taxonomy: Arc<Taxonomy>,
    /// How many findings the run keeps, and whether it lists them all.
    pub findings: FindingsPolicy,
    pub sync: SyncSettings,
    /// `[allocation] mode = "partition"`: the feeds that split each SKU's stock.
    pub partition: Option<Arc<crate::allocate::Partition>>,
}

impl Config {
    /// The file of the catalog table `raw`: its `file` in the catalog folder, or
    /// `default_file` there.
    pub fn table_path(&self, raw: &RawTable, default_file: &str) -> PathBuf {
        self.catalog_dir
            .join(raw.file.as_deref().unwrap_or(Path::new(default_file)))
    }

    /// The products file as findings name it.
    pub fn products_path(&self) -> PathBuf {
        self.table_path(&self.products, "products.csv")
    }

    /// Every file omnifeed reads from the project besides the feed definitions and specs:
    /// the config itself, the three catalog tables and the state. No feed may write over
    /// one of them.
    pub fn read_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.path.iter().cloned().collect();
        files.extend([
            self.products_path(),
            self.table_path(&self.inventory, "inventory.csv"),
            self.table_path(&self.locations, "locations.csv"),
            self.table_path(&self.store_prices, "store_prices.csv"),
            self.state_path.clone(),
        ]);
        files
    }

    /// Reads `config_path` if it exists (it must when given explicitly), then lets `catalog`
    /// override the catalog folder.
    pub fn load(
        config_path: &Path,
        explicit: bool,
        catalog: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        let (raw, path) = if config_path.exists() || explicit {
            let text =
                std::fs::read_to_string(config_path).map_err(|source| ConfigError::Read {
                    path: config_path.to_owned(),
                    source,
                })?;
            let raw: RawConfig = toml::from_str(&text).map_err(|err| ConfigError::Parse {
                path: config_path.to_owned(),
                message: render_toml_error(&text, &err),
            })?;
            (raw, Some(config_path.to_owned()))
        } else if catalog.is_some() {
            (RawConfig::default(), None)
        } else {
            return Err(ConfigError::NothingToRead(config_path.to_owned()));
        };
        let base_dir = path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_owned)
            .unwrap_or_default();
        let invalid = |message: String, hint: &str| ConfigError::Invalid {
            path: config_path.to_owned(),
            message,
            hint: hint.to_owned(),
        };
        let catalog_dir = match catalog {
            Some(dir) => dir.to_owned(),
            None => base_dir.join(raw.catalog.dir.clone().unwrap_or_else(|| ".".into())),
        };
        let required = match &raw.catalog.required {
            None => vec![Field::Sku, Field::Title, Field::Price, Field::Currency],
            Some(names) => names
                .iter()
                .map(|name| {
                    Field::parse(name).ok_or_else(|| {
                        invalid(
                            format!("[catalog] required names unknown field `{name}`"),
                            &format!("canonical fields are: {}", Field::names().join(", ")),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        for table in [
            &raw.catalog.products,
            &raw.catalog.inventory,
            &raw.catalog.locations,
            &raw.catalog.store_prices,
        ] {
            for field in table.columns.keys() {
                if Field::parse(field).is_none() && !is_table_field(field) {
                    return Err(invalid(
                        format!("column mapping names unknown field `{field}`"),
                        &format!("canonical fields are: {}", Field::names().join(", ")),
                    ));
                }
            }
        }
        crate::load::preset::check_settings(&raw.catalog, raw.defaults.currency.as_deref())
            .map_err(|(message, hint)| invalid(message, &hint))?;
        if let Some(code) = &raw.defaults.currency
            && crate::model::Currency::parse(code).is_none()
        {
            return Err(invalid(
                format!("[defaults] currency `{code}` is not an ISO 4217 code"),
                "use three upper-case letters such as EUR",
            ));
        }
        let market = [
            raw.defaults
                .country
                .as_deref()
                .and_then(crate::feed::names::check_country),
            raw.defaults
                .language
                .as_deref()
                .and_then(crate::feed::names::check_language),
        ];
        if let Some(problem) = market.into_iter().flatten().next() {
            return Err(invalid(
                format!("[defaults] {problem}"),
                "feeds inherit these; set codes the channels accept",
            ));
        }
        let time_zone = match &raw.defaults.time_zone {
            None => jiff::tz::TimeZone::UTC,
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
                invalid(
                    format!("[defaults] time_zone `{name}` is not an IANA time zone"),
                    "use a name such as Europe/Berlin or America/New_York",
                )
            })?,
        };
        let taxonomy = match &raw.taxonomy {
            None => Taxonomy::Bundled,
            Some(file) => Taxonomy::from_file(&base_dir.join(file)).map_err(|err| {
                invalid(
                    format!("taxonomy: {err}"),
                    "download Google's taxonomy-with-ids.en-US.txt and name it here, or remove the setting to use the built-in list",
                )
            })?,
        };
        if let Some(problem) = raw.notify.problem() {
            return Err(invalid(
                problem,
                "set `webhook = \"https://…\"`, or `webhook_env = \"VAR\"` when the URL holds a token",
            ));
        }
        let partition = raw.allocation.compile().map_err(|problems| {
            invalid(
                problems.join("\n  "),
                "see `[allocation]` in the README: mode = \"partition\" with [[allocation.feeds]] feed = \"NAME\" and one of units, percent, weight",
            )
        })?;
        let state_path = base_dir.join(
            raw.state
                .path
                .unwrap_or_else(|| ".omnifeed/state.db".into()),
        );
        let every = match &raw.sync.every {
            None => None,
            Some(text) => match text.parse::<jiff::SignedDuration>() {
                Ok(every) if every.is_positive() => Some(every),
                _ => {
                    return Err(invalid(
                        format!("[sync] every `{text}` is not a positive duration"),
                        "write how often sync runs, e.g. \"30m\", \"1h\" or \"PT6H\"",
                    ));
                }
            },
        };
        let sync = SyncSettings {
            every,
            report: match raw.sync.report {
                Some(report) => base_dir.join(report),
                None => state_path
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join("runs/sync-{time}.json"),
            },
            keep_reports: raw.sync.keep_reports.unwrap_or(100),
            notify: raw.notify,
        };
        Ok(Config {
            path,
            sync,
            partition: partition.map(Arc::new),
            taxonomy: Arc::new(taxonomy),
            findings: FindingsPolicy {
                max_per_rule: raw
                    .report
                    .max_per_rule
                    .unwrap_or(FindingsPolicy::DEFAULT_MAX_PER_RULE),
                ..FindingsPolicy::default()
            },
            catalog_dir,
            required,
            products: raw.catalog.products,
            inventory: raw.catalog.inventory,
            store_prices: raw.catalog.store_prices,
            locations: raw.catalog.locations,
            defaults: raw.defaults,
            time_zone,
            feeds_dir: base_dir.join(raw.feeds_dir.unwrap_or_else(|| "feeds".into())),
            specs_dir: base_dir.join(raw.specs_dir.unwrap_or_else(|| "channel-specs".into())),
            state_path,
            base_dir,
        })
    }
}

/// Columns of the inventory and locations tables, which are not product fields.
fn is_table_field(name: &str) -> bool {
    matches!(
        name,
        "location_id"
            | "quantity"
            | "kind"
            | "name"
            | "store_code"
            | "pickup_method"
            | "pickup_sla"
    )
}

/// Renders a TOML error with its line and column, so the user sees where to look.
pub fn render_toml_error(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => {
            let line = text[..span.start].matches('\n').count() + 1;
            let column = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {}", err.message())
        }
        None => err.message().to_owned(),
    }
}

/// The `*.toml` files directly in `dir`, sorted by name so every run reads them in the
/// same order.
pub fn toml_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

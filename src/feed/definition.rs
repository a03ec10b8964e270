//! Feed definitions (`feeds/*.toml`): one channel spec and format, a market, filters,
//! field overrides and a destination. Doc comments here are the user reference.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::guards::GuardConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    /// The channel spec id, e.g. `google-merchant` (see `omnifeed channels`).
    pub channel: String,
    /// One of the spec's formats (`xml`, `tsv`, `csv`, …); may be left out when it has one.
    pub format: Option<String>,
    /// ISO 3166-1 alpha-2 target country (default: `[defaults] country`).
    pub country: Option<String>,
    /// ISO 639-1 language (default: `[defaults] language`).
    pub language: Option<String>,
    /// Only items priced in this currency go into the feed. Without it, each item uses the
    /// first currency of its row.
    pub currency: Option<String>,
    /// A price rule this channel is sent by: `"+5%"` or `"-10%"` (a share of the price),
    /// `"+1.50"` or `"-2.00"` (an amount in the feed's currency). Applied to the regular and
    /// the sale price before any field or template reads them, then rounded half away from
    /// zero to the currency's minor units (19.99 +5% = 20.99). A price the rule takes to zero
    /// or below leaves the item out (`feed.price-adjust`). `omnifeed check` takes a price
    /// that differs from the other feeds by exactly this rule as agreeing.
    pub price_adjust: Option<String>,
    /// IANA time zone dates are written in (default: `[defaults] time_zone`).
    pub time_zone: Option<String>,
    /// Output file name without extension (default: the feed's file stem): a plain name,
    /// no folder, no leading dot. Split feeds add `-0001`, `-0002`, ….
    pub file: Option<String>,
    /// Write `NAME.EXT.gz` instead of `NAME.EXT`. Default: the format's `gzip` (on for
    /// OpenAI, whose upload takes only gzipped files).
    pub gzip: Option<bool>,
    /// RSS `<channel>` title, link and description.
    #[serde(default)]
    pub rss: RssChannel,
    #[serde(default)]
    pub filters: RawFilters,
    /// Channel field -> a constant, or a minijinja template over the item's canonical fields,
    /// e.g. `title = "{{ brand }} {{ title }} - {{ color }}"`.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Channel fields whose spec `fallback` this feed does not send: with
    /// `no_fallback = ["identifier_exists"]`, a Google item with neither GTIN nor MPN is
    /// rejected instead of being sent with `identifier_exists = no`.
    #[serde(default)]
    pub no_fallback: Vec<String>,
    /// `product_type` prefix -> Google product category id; the longest matching prefix wins
    /// and replaces the catalog's `google_product_category` in this feed.
    #[serde(default)]
    pub category_map: BTreeMap<String, String>,
    /// Values for `{name}` placeholders in the spec (Amazon `seller_id`, `marketplace_id`…).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Delivery rates: `[[shipping.rules]]` per country, region or postal range and
    /// service, with an optional free-above threshold and handling and transit days.
    #[serde(default)]
    pub shipping: super::shipping::RawShipping,
    /// US sales tax: `[[tax.rules]]` per state or postal range.
    #[serde(default)]
    pub tax: super::shipping::RawTax,
    #[serde(default)]
    pub stock: RawStock,
    #[serde(default)]
    pub destination: RawDestination,
    #[serde(default)]
    pub guards: GuardConfig,
    /// Countries this definition fans out to, each its own feed (`FEED.de`, `FEED.at`) with
    /// its own output file and state: `markets = ["DE", "AT", "CH"]` (each country's usual
    /// language and currency), or `[[markets]]` tables with `country`, `language`,
    /// `currency`, `file`, `time_zone`, `id`. `country`, `language` and `currency` then go
    /// in the markets, not the feed.
    #[serde(default)]
    pub markets: Vec<super::markets::RawMarketEntry>,
    /// A CSV file `from,to,rate` (relative to omnifeed.toml): a market's price for a SKU
    /// priced in another currency only, converted and rounded half-even to the market
    /// currency's minor units. Without a rate such items are rejected, never sent in the
    /// wrong currency.
    pub rates: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RssChannel {
    pub title: Option<String>,
    pub link: Option<String>,
    pub description: Option<String>,
}

/// Which catalog items the feed carries. Every filter that is set must pass.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFilters {
    /// Leave out items with no sellable stock.
    #[serde(default)]
    pub in_stock_only: bool,
    /// Only these brands (exact match).
    #[serde(default)]
    pub brands: Vec<String>,
    #[serde(default)]
    pub exclude_brands: Vec<String>,
    /// Only items whose `product_type` starts with one of these.
    #[serde(default)]
    pub product_types: Vec<String>,
    #[serde(default)]
    pub exclude_product_types: Vec<String>,
    /// Catalog column (custom attribute) -> required value.
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
    /// Only conditions in this list (`new`, `refurbished`, `used`).
    #[serde(default)]
    pub conditions: Vec<String>,
}

/// How stock turns into the quantity and availability this channel sees.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStock {
    /// Locations whose stock counts (default: every warehouse; per-store channels use the
    /// stores).
    pub locations: Option<Vec<String>>,
    /// Units held back per item: a channel sees `max(0, stock - buffer)`.
    #[serde(default)]
    pub buffer: u32,
    /// Publish this percentage (1 to 100) of what the buffer leaves, rounded down.
    pub share: Option<u8>,
    /// Never publish more than this many units.
    pub cap: Option<u64>,
    /// The published quantity from which an item is `in_stock` or
    /// `limited_availability`; below the lowest, it is `out_of_stock` with quantity 0.
    #[serde(default)]
    pub thresholds: crate::allocate::RawThresholds,
}

/// Where `push` delivers a feed, by `kind`. Each network kind's settings live beside its
/// transport in `src/push/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "kebab-case")]
pub enum RawDestination {
    /// A local folder, relative to the config file or absolute; not empty, and not a
    /// folder omnifeed reads from (the catalog, feeds or specs folder).
    Dir { path: PathBuf },
    /// An FTP server, with explicit TLS by default (see [`crate::push::ftp::FtpDestination`]).
    Ftp(crate::push::ftp::FtpDestination),
    /// A bucket or container: `url = "s3://bucket/prefix/"`, `gs://…` or `az://…`.
    ObjectStore(crate::push::object_store::ObjectStoreDestination),
    /// A web endpoint each file is sent to with PUT or POST (a presigned URL, a receiver).
    Http(crate::push::http::HttpDestination),
    /// The Google Merchant API v1, item by item (see
    /// [`crate::push::google_merchant::GoogleMerchantConfig`] for the keys).
    GoogleMerchantApi(Box<crate::push::google_merchant::GoogleMerchantConfig>),
    /// Amazon's SP-API Feeds API, as JSON_LISTINGS_FEED documents (see
    /// [`crate::push::amazon_sp::AmazonSpConfig`] for the keys).
    AmazonSpApi(Box<crate::push::amazon_sp::AmazonSpConfig>),
    /// A Meta catalog through the Graph API's `items_batch` (see
    /// [`crate::push::meta_catalog::MetaCatalogConfig`] for the keys).
    MetaCatalogApi(Box<crate::push::meta_catalog::MetaCatalogConfig>),
    /// An SFTP server; see [`crate::push::sftp::SftpDestination`] for the keys.
    Sftp(crate::push::sftp::SftpDestination),
}

impl RawDestination {
    /// The local folder `export` writes this feed into: the destination itself for `dir`;
    /// for network kinds `out` beside the config (push stages its files elsewhere).
    pub fn local_folder(&self) -> &std::path::Path {
        match self {
            RawDestination::Dir { path } => path,
            RawDestination::Ftp(_)
            | RawDestination::Sftp(_)
            | RawDestination::ObjectStore(_)
            | RawDestination::Http(_)
            | RawDestination::GoogleMerchantApi(_)
            | RawDestination::AmazonSpApi(_)
            | RawDestination::MetaCatalogApi(_) => std::path::Path::new(NETWORK_EXPORT_FOLDER),
        }
    }

    /// Whether the destination takes single items through an API (see
    /// [`crate::push::ItemTransport`]) rather than files.
    pub fn sends_items(&self) -> bool {
        match self {
            RawDestination::Dir { .. }
            | RawDestination::Ftp(_)
            | RawDestination::Sftp(_)
            | RawDestination::ObjectStore(_)
            | RawDestination::Http(_) => false,
            RawDestination::GoogleMerchantApi(_)
            | RawDestination::AmazonSpApi(_)
            | RawDestination::MetaCatalogApi(_) => true,
        }
    }

    /// Local paths in the settings (a CA file, a key, a token file) made relative to
    /// `base`, the folder of omnifeed.toml, as `dir` paths are.
    pub fn resolved(mut self, base: &std::path::Path) -> RawDestination {
        match &mut self {
            RawDestination::Dir { .. }
            | RawDestination::ObjectStore(_)
            | RawDestination::AmazonSpApi(_)
            | RawDestination::MetaCatalogApi(_) => {}
            RawDestination::Ftp(ftp) => ftp.resolve_paths(base),
            RawDestination::Sftp(sftp) => *sftp = sftp.clone().with_base(base),
            RawDestination::Http(settings) => *settings = settings.clone().with_base_dir(base),
            RawDestination::GoogleMerchantApi(config) => config.resolve_paths(base),
        }
        self
    }

    /// What is wrong with the destination for a feed of `spec` (an item-level destination
    /// needs the spec's `[api]`), one line each.
    pub fn spec_problems(&self, spec: &crate::spec::ChannelSpec) -> Vec<String> {
        match self {
            RawDestination::GoogleMerchantApi(config) => config.problems(spec),
            RawDestination::AmazonSpApi(config) => config.problems(spec),
            RawDestination::MetaCatalogApi(config) => config.problems(spec),
            _ => Vec::new(),
        }
    }

    /// Settings of a network kind that are wrong whatever the server says, as
    /// `(key under [destination], problem)`, key "" for the table as a whole; the `dir`
    /// kind's path is checked with the other paths.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        // Problems about the table as a whole (no one key) have the key "": they point
        // at the `[destination]` line.
        let whole = |problems: Vec<String>| problems.into_iter().map(|p| ("", p)).collect();
        match self {
            RawDestination::Dir { .. }
            | RawDestination::GoogleMerchantApi(_)
            | RawDestination::AmazonSpApi(_)
            | RawDestination::MetaCatalogApi(_) => Vec::new(),
            RawDestination::Ftp(ftp) => ftp.problems(),
            // SFTP's problems carry their own `[destination]` prefix.
            RawDestination::Sftp(sftp) => whole(
                sftp.problems()
                    .into_iter()
                    .map(|p| {
                        p.strip_prefix("[destination] ")
                            .map(str::to_owned)
                            .unwrap_or(p)
                    })
                    .collect(),
            ),
            RawDestination::ObjectStore(settings) => whole(settings.problems()),
            // A header problem points at the `headers` line, where the fix goes.
            RawDestination::Http(settings) => settings
                .problems()
                .into_iter()
                .map(|p| match p.starts_with("headers:") {
                    true => ("headers", p),
                    false => ("", p),
                })
                .collect(),
        }
    }
}

/// Where `export` writes the files of a feed bound for a network destination, beside the
/// config.
const NETWORK_EXPORT_FOLDER: &str = "out";

impl Default for RawDestination {
    fn default() -> RawDestination {
        RawDestination::Dir { path: "out".into() }
    }
}

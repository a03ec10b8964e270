//! Shop exports as first-class inputs: `[catalog.products] preset = "shopify" |
//! "woocommerce" | "magento2"` reads a shop system's product CSV exactly as the shop wrote
//! it and turns it into canonical product rows, one per sellable variant.
//!
//! An export spreads one variant over several rows (Shopify's product columns on the first
//! row of a handle, WooCommerce's and Magento's parents apart from their children). A
//! preset still streams it, holding one product at a time: Shopify writes a handle's rows
//! together; WooCommerce and Magento parents are found by a first pass that notes only
//! where each starts, and read again when a child needs them (`parents`). A pass with the
//! same code as the last one first notes which columns the rows fill, so the loader gets a
//! complete header before the first row.
//!
//! The rows then go through the same checks as any catalog row, each keeping the line of
//! the export row it came from, so findings point into the export.

mod magento;
mod parents;
mod rows;
mod shop_file;
mod shopify;
mod text;
mod woocommerce;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

pub use rows::Prepared;
pub use text::is_web_address;

use super::table::LoadError;
use crate::config::{RawCatalog, RawTable};
use crate::diag::Finding;

/// The shop systems whose product exports omnifeed reads as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Shopify,
    Woocommerce,
    Magento2,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Shopify, Preset::Woocommerce, Preset::Magento2];

    /// The name `omnifeed.toml` uses.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Shopify => "shopify",
            Preset::Woocommerce => "woocommerce",
            Preset::Magento2 => "magento2",
        }
    }

    /// The shop system as people call it.
    pub fn title(self) -> &'static str {
        match self {
            Preset::Shopify => "Shopify product CSV",
            Preset::Woocommerce => "WooCommerce product CSV",
            Preset::Magento2 => "Magento 2 product export",
        }
    }

    /// Columns every export of this shop has, as its own exporter names them: what `init`
    /// detects the format by, and what reading it cannot do without.
    pub fn signature(self) -> &'static [&'static str] {
        match self {
            Preset::Shopify => &["Handle", "Variant SKU", "Variant Price"],
            Preset::Woocommerce => &["ID", "Type", "SKU", "Name", "Regular price", "Parent"],
            Preset::Magento2 => &["sku", "product_type", "attribute_set_code", "price"],
        }
    }

    /// Columns the preset reads (besides the signature), for `init`'s list of what the
    /// export holds beyond them.
    pub fn known_columns(self) -> &'static [&'static str] {
        match self {
            Preset::Shopify => shopify::COLUMNS,
            Preset::Woocommerce => woocommerce::COLUMNS,
            Preset::Magento2 => magento::COLUMNS,
        }
    }
}

/// What the preset settings of the catalog must agree on, checked when the config loads:
/// (message, hint) for the first problem.
pub fn check_settings(
    catalog: &RawCatalog,
    default_currency: Option<&str>,
) -> Result<(), (String, String)> {
    for (name, table) in [
        ("inventory", &catalog.inventory),
        ("locations", &catalog.locations),
    ] {
        let set = table.preset.is_some()
            || table.base_url.is_some()
            || table.image_base_url.is_some()
            || !table.markets.is_empty();
        if set {
            return Err((
                format!(
                    "[catalog.{name}] sets a preset setting (preset, base_url, image_base_url, markets)"
                ),
                "shop exports are product tables: set these under [catalog.products]".into(),
            ));
        }
    }
    let products = &catalog.products;
    let Some(preset) = products.preset else {
        if products.base_url.is_some()
            || products.image_base_url.is_some()
            || !products.markets.is_empty()
        {
            return Err((
                "[catalog.products] sets base_url, image_base_url or markets without a preset"
                    .into(),
                "add preset = \"shopify\", \"woocommerce\" or \"magento2\", or remove them".into(),
            ));
        }
        return Ok(());
    };
    for (key, value) in [
        ("base_url", &products.base_url),
        ("image_base_url", &products.image_base_url),
    ] {
        if let Some(value) = value
            && !text::is_web_address(value)
        {
            return Err((
                format!("[catalog.products] {key} `{value}` is not an absolute http(s) address"),
                "write the shop's address as it opens in a browser, e.g. https://shop.example.com"
                    .into(),
            ));
        }
    }
    if products.image_base_url.is_some() && preset != Preset::Magento2 {
        return Err((
            format!(
                "[catalog.products] image_base_url is for magento2; {} exports carry full image URLs",
                preset.name()
            ),
            "remove image_base_url".into(),
        ));
    }
    if !products.markets.is_empty() {
        if preset != Preset::Shopify {
            return Err((
                format!(
                    "[catalog.products] markets is for Shopify's `Price / MARKET` columns, not {}",
                    preset.name()
                ),
                "remove markets".into(),
            ));
        }
        if default_currency.is_none() {
            return Err((
                "[catalog.products] markets needs the shop's own currency for `Variant Price`"
                    .into(),
                "set [defaults] currency = \"EUR\" (your store currency)".into(),
            ));
        }
        for (market, code) in &products.markets {
            if crate::model::Currency::parse(code).is_none() {
                return Err((
                    format!(
                        "[catalog.products] markets: `{market}` = `{code}` is not an ISO 4217 currency"
                    ),
                    "use three upper-case letters such as GBP".into(),
                ));
            }
        }
    }
    if products
        .format
        .as_deref()
        .is_some_and(|format| format != "csv")
    {
        return Err((
            format!(
                "[catalog.products] format = {:?} with preset `{}`: shop exports are CSV",
                products.format.as_deref().unwrap_or_default(),
                preset.name()
            ),
            "remove format (delimiter = \";\" reads an export a spreadsheet saved again with semicolons)".into(),
        ));
    }
    if !products.prices.is_empty() {
        return Err((
            "[catalog.products] prices cannot be combined with a preset".into(),
            "the preset reads the export's own price columns; for Shopify market prices use markets = { \"MARKET\" = \"CUR\" }".into(),
        ));
    }
    Ok(())
}

/// Opens the export at `path` with `table`'s preset: its header as canonical rows will
/// have it, and the rows to read.
pub fn read(
    preset: Preset,
    path: &Path,
    table: &RawTable,
    label: &Arc<str>,
    default_currency: Option<&str>,
) -> Result<(Prepared, PresetRows), LoadError> {
    let delimiter = match super::table::TableFormat::from_config(table, path)? {
        super::table::TableFormat::Delimited { delimiter, .. } => delimiter,
        super::table::TableFormat::JsonLines => b',',
    };
    let file = Arc::new(shop_file::ShopFile::open(path, label, preset, delimiter)?);
    let settings = Arc::new(Settings {
        base_url: table
            .base_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned()),
        image_base_url: table
            .image_base_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned()),
        markets: table.markets.clone(),
        default_currency: default_currency.map(str::to_owned),
    });
    let mut reader = match preset {
        Preset::Shopify => Reader::Shopify(shopify::Reader::new(file, settings)?),
        Preset::Woocommerce => Reader::Woocommerce(woocommerce::Reader::new(file, settings)?),
        Preset::Magento2 => Reader::Magento(magento::Reader::new(file, settings)?),
    };
    let mut survey = rows::Survey::default();
    while reader.step(&mut survey)? {}
    let prices = match &reader {
        Reader::Shopify(shopify) => shopify.prices(),
        _ => Vec::new(),
    };
    let (prepared, layout) = survey.finish(prices);
    reader.restart()?;
    Ok((prepared, PresetRows { reader, layout }))
}

/// The canonical rows of a shop export, made as they are read.
pub struct PresetRows {
    reader: Reader,
    layout: rows::Layout,
}

impl PresetRows {
    /// Hands at least `max` rows (all of a product's, so a few more) to `out` as
    /// (line, byte, cells under [`Prepared::header`]), and the findings of the export rows
    /// read to `findings`; true when the export has ended.
    pub fn fill(
        &mut self,
        max: usize,
        out: &mut dyn FnMut(u64, u64, &[&str]),
        findings: &mut Vec<Finding>,
    ) -> Result<bool, LoadError> {
        let mut emit = rows::Emit::new(&self.layout, out, findings);
        while emit.rows < max {
            let more = self.reader.step(&mut emit)?;
            if let Some(line) = emit.changed_at {
                return Err(self.reader.file().changed(line));
            }
            if !more {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A preset's reader, one product or row per step.
enum Reader {
    Shopify(shopify::Reader),
    Woocommerce(woocommerce::Reader),
    Magento(magento::Reader),
}

impl Reader {
    fn step(&mut self, sink: &mut dyn rows::Sink) -> Result<bool, LoadError> {
        match self {
            Reader::Shopify(reader) => reader.step(sink),
            Reader::Woocommerce(reader) => reader.step(sink),
            Reader::Magento(reader) => reader.step(sink),
        }
    }

    fn restart(&mut self) -> Result<(), LoadError> {
        match self {
            Reader::Shopify(reader) => reader.restart(),
            Reader::Woocommerce(reader) => reader.restart(),
            Reader::Magento(reader) => reader.restart(),
        }
    }

    fn file(&self) -> &shop_file::ShopFile {
        match self {
            Reader::Shopify(reader) => reader.file(),
            Reader::Woocommerce(reader) => reader.file(),
            Reader::Magento(reader) => reader.file(),
        }
    }
}

/// The preset settings of `[catalog.products]`, resolved.
struct Settings {
    /// Without a trailing `/`.
    base_url: Option<String>,
    image_base_url: Option<String>,
    markets: BTreeMap<String, String>,
    default_currency: Option<String>,
}

//! `omnifeed preview FEED --sku SKU`: one item's way through a feed, step by step.

use std::io::Write;
use std::sync::Arc;

use crate::cli::{GlobalArgs, PreviewArgs};
use crate::exit::Exit;
use crate::feed::{Feed, Override};
use crate::load::{self, CatalogItem, Locations, StockTiming};
use crate::report::progress::Progress;
use crate::serialize::Renderer;
use crate::spec::{Derived, ValueSource};
use crate::transform::FeedContext;

pub fn run(global: &GlobalArgs, args: &PreviewArgs) -> anyhow::Result<Exit> {
    let mut config = super::load_config(global)?;
    // Only this SKU's catalog findings matter here; the rest are counted, not kept.
    config.findings.sku = Some(args.sku.clone());
    let now = super::parse_now(global.now.as_deref())?;
    let feeds = super::load_feeds(&config, std::slice::from_ref(&args.feed))?;
    let Some(feed) = feeds.first() else {
        return Ok(Exit::Usage);
    };
    let catalog_file: Arc<str> = Arc::from(config.products_path().display().to_string());
    let mut trace = Vec::new();
    let mut found = false;
    let outcome = load::load(
        &config,
        &Progress::new(!global.no_progress),
        StockTiming::BeforeProducts,
        &mut |items: &[CatalogItem<'_>], locations: &Locations| {
            for item in items.iter().filter(|item| item.variant.sku == args.sku) {
                found = true;
                let context = FeedContext::new(feed, locations, Arc::clone(&catalog_file), now);
                describe(&mut trace, feed, &context, item, locations)?;
            }
            Ok(())
        },
    )?;
    let mut out = crate::report::stdout::stdout();
    if !found {
        let catalog_findings: Vec<_> = outcome
            .findings
            .kept()
            .iter()
            .filter(|f| f.sku.as_deref() == Some(args.sku.as_str()))
            .collect();
        if catalog_findings.is_empty() {
            writeln!(out, "SKU {} is not in the catalog", args.sku)?;
        } else {
            writeln!(
                out,
                "SKU {} is left out of every feed by catalog validation:",
                args.sku
            )?;
            for finding in catalog_findings {
                writeln!(
                    out,
                    "  {}[{}] {}:{} {}",
                    finding.severity.as_str(),
                    finding.rule,
                    finding.file,
                    finding.line.unwrap_or(0),
                    finding.message
                )?;
            }
        }
        out.flush()?;
        return Ok(Exit::Invalid);
    }
    out.write_all(&trace)?;
    out.flush()?;
    Ok(Exit::Ok)
}

fn describe(
    out: &mut Vec<u8>,
    feed: &Feed,
    context: &FeedContext<'_>,
    item: &CatalogItem<'_>,
    locations: &Locations,
) -> std::io::Result<()> {
    let v = item.variant;
    writeln!(
        out,
        "SKU {} ({}:{}) in feed {} ({} {})",
        v.sku, context.catalog_file, v.line, feed.id, feed.spec.id, feed.format.id
    )?;
    for line in context.explain_stock(item, locations) {
        writeln!(out, "{line}")?;
    }
    if let Some(rule) = &feed.price_adjust {
        describe_price_adjust(out, feed, rule, item)?;
    }
    writeln!(out, "price: {}", context.describe_price(item))?;
    let records = match context.records(item) {
        Err(filter) => {
            writeln!(out, "filtered out by `{filter}`")?;
            return Ok(());
        }
        Ok(records) => records,
    };
    writeln!(out, "filters: all pass")?;
    let (records, findings) = records;
    let renderer = Renderer::new(feed);
    for (number, record) in records.iter().enumerate() {
        if records.len() > 1 {
            writeln!(out, "record {}:", number + 1)?;
        }
        for (index, field) in feed.spec.fields.iter().enumerate() {
            let source = match &feed.overrides[index] {
                Some(Override::Const(_)) => "feed constant".to_owned(),
                Some(Override::Template { name, .. }) => format!("template {name}"),
                None => match &field.source {
                    ValueSource::Field(f) => f.name().to_owned(),
                    ValueSource::Derived(d) => derived_name(d).to_owned(),
                    ValueSource::Custom(name) => format!("custom.{name}"),
                    ValueSource::Const(_) => "spec constant".to_owned(),
                },
            };
            let value = record.values[index]
                .as_ref()
                .map_or("(empty)".into(), |v| v.joined(" | ").into_owned());
            writeln!(out, "  {:<28} <- {:<26} = {}", field.name, source, value)?;
        }
        let mut bytes = Vec::new();
        renderer.record(&record, &mut bytes);
        writeln!(
            out,
            "  rendered: {}",
            String::from_utf8_lossy(&bytes).trim_end()
        )?;
    }
    for finding in &findings {
        writeln!(
            out,
            "{}[{}] {}: {}",
            finding.severity.as_str(),
            finding.rule,
            finding.field.as_deref().unwrap_or(""),
            finding.message
        )?;
    }
    let verdict = if findings.iter().any(|f| f.is_error()) {
        "rejected from this feed"
    } else {
        "written"
    };
    writeln!(out, "outcome: {verdict}")
}

fn derived_name(derived: &Derived) -> &'static str {
    match derived {
        Derived::Availability => "availability (from stock)",
        Derived::DescriptionText => "description_text",
        Derived::Quantity => "quantity (from stock)",
        Derived::StoreCode => "store_code",
        Derived::StoreQuantity => "store_quantity",
        Derived::StoreAvailability => "store_availability",
        Derived::StorePickupMethod => "store_pickup_method (locations table)",
        Derived::StorePickupSla => "store_pickup_sla (locations table)",
        Derived::StorePrice => "store_price (store prices table, else price)",
        Derived::StoreSalePrice => "store_sale_price (store prices table, else sale_price)",
        Derived::FeedCountry => "feed.country",
        Derived::FeedLanguage => "feed.language",
        Derived::FeedCurrency => "feed.currency",
        Derived::Shipping => "shipping (the feed's [shipping] rules, the item's shipping_price)",
        Derived::Tax => "tax (the feed's [tax] rules)",
        Derived::GtinKind => "gtin_kind",
    }
}

/// The feed's price rule on this item's prices (in the feed's currency, or each of them).
fn describe_price_adjust(
    out: &mut Vec<u8>,
    feed: &Feed,
    rule: &crate::feed::PriceAdjust,
    item: &CatalogItem<'_>,
) -> std::io::Result<()> {
    let adjusted = |money: crate::model::Money| {
        rule.apply(money)
            .map_or("zero or below: not sent".to_owned(), |m| m.to_string())
    };
    for price in item
        .variant
        .prices
        .iter()
        .filter(|p| feed.currency.is_none_or(|c| c == p.regular.currency))
    {
        write!(
            out,
            "price_adjust {rule}: {} -> {}",
            price.regular,
            adjusted(price.regular)
        )?;
        if let Some(sale) = price.sale {
            write!(out, ", sale {} -> {}", sale.price, adjusted(sale.price))?;
        }
        writeln!(out, " (rounded half away from zero)")?;
    }
    Ok(())
}

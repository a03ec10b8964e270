//! A feed's market: the price in its currency (the catalog's own, else converted with the
//! feed's rates) and texts in its language (`title_de`, falling back to `title`).

use std::sync::Arc;

use crate::feed::Feed;
use crate::model::{Currency, Field, Price, Variant};

/// Canonical fields a catalog may give per language as `FIELD_LANG` columns (`title_de`,
/// `description_fr`, `link_it`). Filters and `category_map` read the base columns, so a
/// feed's selection does not change with its language.
pub const LOCALIZED_FIELDS: [Field; 9] = [
    Field::Title,
    Field::Description,
    Field::Link,
    Field::ImageLink,
    Field::ProductType,
    Field::Color,
    Field::Size,
    Field::Material,
    Field::Pattern,
];

/// The columns that hold this feed's language, by canonical field.
#[derive(Debug, Default)]
pub struct Localized {
    columns: Vec<(Field, Arc<str>)>,
}

impl Localized {
    pub fn new(feed: &Feed) -> Localized {
        let Some(language) = feed.language.as_deref() else {
            return Localized::default();
        };
        Localized {
            columns: LOCALIZED_FIELDS
                .iter()
                .map(|&field| (field, Arc::from(format!("{}_{language}", field.name()))))
                .collect(),
        }
    }

    /// The item's text of `field` in the feed's language: its `FIELD_LANG` cell when that
    /// is not empty, else None (the base column applies).
    pub fn text<'a>(&self, variant: &Variant<'a>, field: Field) -> Option<&'a str> {
        if self.columns.is_empty() || variant.custom.is_empty() {
            return None;
        }
        let (_, column) = self.columns.iter().find(|(f, _)| *f == field)?;
        variant
            .custom
            .iter()
            .find(|(name, _)| **name == **column)
            .map(|(_, value)| *value)
            .filter(|value| !value.is_empty())
    }
}

/// Why an item has no price for a feed.
pub enum NoPrice {
    /// Not priced in the feed's currency, and the feed takes only such items: counted as
    /// filtered by `currency`.
    Filtered,
    /// A market (or a feed with `rates`) needs a price in `currency`; the item has none and
    /// no rate converts one. Rejected with a finding.
    Missing {
        currency: Currency,
        /// The currency the item is priced in, when a rate from it would have helped.
        from: Option<Currency>,
    },
}

/// The item's price in the feed's currency.
pub fn price(
    feed: &Feed,
    variant: &Variant<'_>,
    other_currency_row: bool,
) -> Result<Price, NoPrice> {
    let Some(currency) = feed.currency else {
        // The SKU's first row already went in; a second row would repeat the item id.
        if other_currency_row {
            return Err(NoPrice::Filtered);
        }
        return variant.prices.first().copied().ok_or(NoPrice::Filtered);
    };
    if let Some(own) = variant.price_in(currency) {
        return Ok(*own);
    }
    let converts = feed.market.is_some() || feed.rates.is_some();
    // A further currency row is the same SKU again: only its first row is converted.
    if !converts || other_currency_row {
        return Err(NoPrice::Filtered);
    }
    let base = variant.prices.first();
    let converted = base.and_then(|base| feed.rates.as_ref()?.convert(base, currency));
    converted.ok_or(NoPrice::Missing {
        currency,
        from: base.map(|base| base.regular.currency),
    })
}

/// The finding's text for [`NoPrice::Missing`].
pub fn missing_message(feed: &Feed, currency: Currency, from: Option<Currency>) -> String {
    let market = match &feed.market {
        Some(market) => format!("market `{}` (feed {})", market.market, feed.id),
        None => format!("feed {}", feed.id),
    };
    let rate = match (from, &feed.rates) {
        (Some(from), Some(_)) => format!("the rates file has no {from} to {currency} rate"),
        (Some(from), None) => {
            format!("the feed has no `rates` file to convert its {from} price")
        }
        (None, _) => "the item has no price at all".to_owned(),
    };
    format!("no price in {currency} for {market}, and {rate}")
}

//! One sellable variant as read from a catalog row. Text fields borrow from the row buffer
//! so a million rows are checked without copying their descriptions.

use jiff::Timestamp;

use super::{Gtin, Money, ShippingPrice, Weight};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    InStock,
    OutOfStock,
    Preorder,
    Backorder,
    /// Few units left, by the feed's `[stock.thresholds]`; only where the channel's spec
    /// lists a value for it.
    LimitedAvailability,
}

impl Availability {
    pub const ALL: [Availability; 5] = [
        Availability::InStock,
        Availability::OutOfStock,
        Availability::Preorder,
        Availability::Backorder,
        Availability::LimitedAvailability,
    ];

    pub fn parse(text: &str) -> Option<Availability> {
        match text.trim().to_ascii_lowercase().replace(' ', "_").as_str() {
            "in_stock" => Some(Availability::InStock),
            "out_of_stock" => Some(Availability::OutOfStock),
            "preorder" => Some(Availability::Preorder),
            "backorder" => Some(Availability::Backorder),
            "limited_availability" => Some(Availability::LimitedAvailability),
            _ => None,
        }
    }

    /// The canonical spelling; channel specs map it to their own.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::InStock => "in_stock",
            Availability::OutOfStock => "out_of_stock",
            Availability::Preorder => "preorder",
            Availability::Backorder => "backorder",
            Availability::LimitedAvailability => "limited_availability",
        }
    }
}

/// A sale: its price and, optionally, when it runs. Without a window it runs until removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sale {
    pub price: Money,
    /// Start (inclusive) and end (exclusive).
    pub window: Option<(Timestamp, Timestamp)>,
    /// Both ends were written without an offset (`2026-11-27T00:00`, `2026-11-27`) and read
    /// in the catalog's time zone: a feed in another zone reads the same wall-clock times
    /// in its own (a sale from midnight starts at midnight in every market).
    pub local_time: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub regular: Money,
    pub sale: Option<Sale>,
}

#[derive(Debug, Clone)]
pub struct Variant<'a> {
    /// 1-based line where the row starts in its file.
    pub line: u64,
    pub sku: &'a str,
    /// Empty when the product has a single variant.
    pub group_id: &'a str,
    pub title: &'a str,
    /// May contain HTML; channels that want plain text strip it.
    pub description: &'a str,
    pub brand: &'a str,
    pub gtin: Option<Gtin>,
    pub mpn: &'a str,
    pub condition: &'a str,
    /// One per currency the row prices the variant in.
    pub prices: Vec<Price>,
    pub link: &'a str,
    pub image_link: &'a str,
    /// Already checked; at most the first ten are used by channels.
    pub additional_image_links: Vec<&'a str>,
    pub google_product_category: &'a str,
    pub product_type: &'a str,
    pub color: &'a str,
    pub size: &'a str,
    pub gender: &'a str,
    pub age_group: &'a str,
    pub material: &'a str,
    pub pattern: &'a str,
    pub weight: &'a str,
    /// The parcel's weight for shipping, when the catalog gives one (`shipping_weight`).
    pub shipping_weight: Option<Weight>,
    /// The item's own shipping price: it replaces the feed's `[shipping]` rule prices.
    pub shipping_price: Option<ShippingPrice>,
    /// Set only when the catalog states it (preorder, backorder); otherwise stock decides.
    pub availability: Option<Availability>,
    pub availability_date: Option<Timestamp>,
    /// A stock column on the product row: the SKU's stock when the inventory table has no
    /// row for it (see `FeedContext::quantity`).
    pub stock: Option<u32>,
    /// `backorder_allowed`: the shop takes orders without stock, so an item whose
    /// published quantity is 0 is on backorder rather than out of stock.
    pub backorder_allowed: bool,
    /// Unmapped columns, kept for channel mappings: (column name, value).
    pub custom: Vec<(std::sync::Arc<str>, &'a str)>,
}

impl Variant<'_> {
    pub fn price_in(&self, currency: super::Currency) -> Option<&Price> {
        self.prices.iter().find(|p| p.regular.currency == currency)
    }

    /// The canonical text of a field as the catalog gave it (money and dates formatted).
    pub fn text(&self, field: super::Field) -> std::borrow::Cow<'_, str> {
        use super::Field as F;
        use std::borrow::Cow;
        let first = self.prices.first();
        match field {
            F::Sku => self.sku.into(),
            F::GroupId => self.group_id.into(),
            F::Title => self.title.into(),
            F::Description => self.description.into(),
            F::Brand => self.brand.into(),
            F::Gtin => self.gtin.map(|g| g.to_string()).unwrap_or_default().into(),
            F::Mpn => self.mpn.into(),
            F::Condition => self.condition.into(),
            F::Price => first
                .map(|p| p.regular.amount_text())
                .unwrap_or_default()
                .into(),
            F::Currency => first
                .map(|p| p.regular.currency.code().to_owned())
                .unwrap_or_default()
                .into(),
            F::SalePrice => first
                .and_then(|p| p.sale)
                .map(|s| s.price.amount_text())
                .unwrap_or_default()
                .into(),
            F::SaleStart | F::SaleEnd | F::SaleEffectiveDate => {
                let window = first.and_then(|p| p.sale).and_then(|s| s.window);
                match (field, window) {
                    (F::SaleStart, Some((start, _))) => start.to_string().into(),
                    (F::SaleEnd, Some((_, end))) => end.to_string().into(),
                    (F::SaleEffectiveDate, Some((start, end))) => format!("{start}/{end}").into(),
                    _ => Cow::Borrowed(""),
                }
            }
            F::Link => self.link.into(),
            F::ImageLink => self.image_link.into(),
            F::AdditionalImageLinks => self.additional_image_links.join("|").into(),
            F::GoogleProductCategory => self.google_product_category.into(),
            F::ProductType => self.product_type.into(),
            F::Color => self.color.into(),
            F::Size => self.size.into(),
            F::Gender => self.gender.into(),
            F::AgeGroup => self.age_group.into(),
            F::Material => self.material.into(),
            F::Pattern => self.pattern.into(),
            F::Weight => self.weight.into(),
            F::ShippingWeight => self
                .shipping_weight
                .map(|w| w.to_string())
                .unwrap_or_default()
                .into(),
            F::ShippingPrice => self
                .shipping_price
                .map(|p| match p.currency {
                    Some(currency) => format!("{} {currency}", p.amount),
                    None => p.amount.to_string(),
                })
                .unwrap_or_default()
                .into(),
            F::Availability => self.availability.map(|a| a.as_str()).unwrap_or("").into(),
            F::AvailabilityDate => self
                .availability_date
                .map(|t| t.to_string())
                .unwrap_or_default()
                .into(),
            F::Stock => self.stock.map(|s| s.to_string()).unwrap_or_default().into(),
            F::BackorderAllowed => if self.backorder_allowed { "true" } else { "" }.into(),
        }
    }
}

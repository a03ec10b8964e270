//! What one feed made of one item, boiled down to what `check` compares: the price, sale
//! price and currency as the channel is sent them (read through the spec's roles), whether
//! the availability sent agrees with the feed's allocated stock, or why the item was left
//! out. Worked out on the engine's worker threads, so only these few values travel.

use crate::diag::Finding;
use crate::export::LeftOut;
use crate::feed::Feed;
use crate::load::CatalogItem;
use crate::model::{Currency, Money};
use crate::spec::roles::RoleField;
use crate::transform::{FeedContext, Record};

use super::report::Reason;

/// One feed's view of one catalog item (a catalog line).
pub(super) struct Seen {
    pub(super) line: u64,
    pub(super) sku: Box<str>,
    pub(super) what: What,
}

pub(super) enum What {
    /// The feed sends the item (one of a per-store feed's records).
    Sent(Offer),
    /// The feed leaves it out.
    LeftOut(Reason),
    /// The feed carries this SKU from another row (a further currency row of a SKU, for a
    /// feed that takes each SKU's first row): nothing to compare on this line.
    Elsewhere,
}

/// The values of a sent record that must agree across feeds.
#[derive(Clone, Default)]
pub(super) struct Offer {
    /// Per-store records (local inventory): their price and stock are per store, so only
    /// their presence is compared.
    pub(super) per_store: bool,
    pub(super) price: Option<Money>,
    /// The currency named by the record, in the price or in a field of its own.
    pub(super) currency: Option<Currency>,
    /// None: the spec has no sale price role, so the feed says nothing about a sale.
    /// Some(None): not on sale.
    pub(super) sale: Option<Option<Money>>,
    /// Set when the availability sent disagrees with the feed's allocated stock.
    pub(super) availability: Option<StockDisagreement>,
}

/// The availability a record sends against the one its feed's stock allocation gives.
#[derive(Clone)]
pub(super) struct StockDisagreement {
    pub(super) sent: String,
    pub(super) expected: String,
    /// The quantity the feed allocates to the item (after locations and buffer); None
    /// when the catalog has no stock data.
    pub(super) allocated: Option<u64>,
}

/// Where a feed's spec keeps the values `check` reads, found once per feed.
pub(super) struct FeedRoles {
    price: Option<(usize, RoleField)>,
    sale_price: Option<(usize, RoleField)>,
    currency: Option<(usize, RoleField)>,
    availability: Option<(usize, RoleField)>,
    quantity: Option<(usize, RoleField)>,
}

impl FeedRoles {
    pub(super) fn new(feed: &Feed) -> FeedRoles {
        let spec = &feed.spec;
        let find = |role: Option<&RoleField>| {
            let role = role?;
            let index = spec.fields.iter().position(|f| f.name == role.name)?;
            Some((index, role.clone()))
        };
        FeedRoles {
            price: find(spec.roles.price.as_ref()),
            sale_price: find(spec.roles.sale_price.as_ref()),
            currency: find(spec.roles.currency.as_ref()),
            availability: find(spec.roles.availability.as_ref()),
            quantity: find(spec.roles.quantity.as_ref()),
        }
    }

    /// Reads a sent record.
    pub(super) fn offer(
        &self,
        context: &FeedContext<'_>,
        item: &CatalogItem<'_>,
        record: &Record<'_>,
    ) -> Offer {
        let feed = context.feed;
        if feed.spec.per_store {
            return Offer {
                per_store: true,
                ..Offer::default()
            };
        }
        let own_currency = self
            .currency
            .as_ref()
            .and_then(|(index, role)| role.currency(record.text(*index)?))
            .and_then(Currency::parse);
        let money = |slot: &Option<(usize, RoleField)>| -> Option<Money> {
            let (index, role) = slot.as_ref()?;
            let amount = role.amount(record.text(*index)?)?;
            let currency = match amount.currency {
                Some(code) => Currency::parse(code)?,
                None => own_currency?,
            };
            Some(Money {
                amount: amount.value,
                currency,
            })
        };
        let price = money(&self.price);
        let sale = self.sale_price.as_ref().map(|_| money(&self.sale_price));
        Offer {
            per_store: false,
            price,
            currency: price.map(|p| p.currency).or(own_currency),
            sale,
            availability: self.stock_disagreement(context, item, record),
        }
    }

    /// The availability (or quantity) sent, when it is not what the feed's own allocation
    /// of the item's stock gives: a constant or template in the feed, or a spec map, that
    /// sends something else than the stock says.
    fn stock_disagreement(
        &self,
        context: &FeedContext<'_>,
        item: &CatalogItem<'_>,
        record: &Record<'_>,
    ) -> Option<StockDisagreement> {
        let allocated = context.quantity(item);
        let expected = context.availability(item, allocated);
        if let Some((index, _)) = &self.availability {
            let field = &context.feed.spec.fields[*index];
            let sent = record.text(*index).unwrap_or_default();
            let spelled = field
                .map
                .iter()
                .find(|(canonical, _)| canonical == expected.as_str())
                .map_or(expected.as_str(), |(_, channel)| channel.as_str());
            return (sent != spelled).then(|| StockDisagreement {
                sent: sent.to_owned(),
                expected: spelled.to_owned(),
                allocated,
            });
        }
        let (index, role) = self.quantity.as_ref()?;
        let allocated_count = allocated?;
        let text = record.text(*index).unwrap_or_default();
        match role.quantity(text) {
            Some(sent) if sent == allocated_count => None,
            _ => Some(StockDisagreement {
                sent: text.to_owned(),
                expected: allocated_count.to_string(),
                allocated,
            }),
        }
    }
}

/// Why `feed` left `item` out, as `check` reports it; None when the feed takes the SKU
/// from another row.
pub(super) fn left_out(feed: &Feed, item: &CatalogItem<'_>, why: LeftOut<'_>) -> What {
    match why {
        LeftOut::Filtered("currency") if feed.currency.is_none() && item.other_currency_row => {
            What::Elsewhere
        }
        LeftOut::Filtered("currency") => What::LeftOut(Reason::NotMapped {
            why: match feed.currency {
                Some(currency) => format!("the catalog has no {currency} price for it"),
                None => "the catalog has no price for it".to_owned(),
            },
        }),
        LeftOut::Filtered("no_store_stock") => What::LeftOut(Reason::NotMapped {
            why: "no store of the feed has an inventory row for it".to_owned(),
        }),
        LeftOut::Filtered(filter) => What::LeftOut(Reason::Filtered {
            filter: filter.to_owned(),
        }),
        LeftOut::Rejected(findings) => What::LeftOut(rejected(findings)),
    }
}

/// The first error decides why an item was left out.
pub(super) fn rejected(findings: &[Finding]) -> Reason {
    let first = findings
        .iter()
        .find(|f| f.is_error())
        .or_else(|| findings.first());
    match first {
        Some(finding) => Reason::Rejected {
            rule: finding.rule.to_owned(),
            field: finding.field.as_deref().map(str::to_owned),
            message: finding.message.clone(),
        },
        None => Reason::Rejected {
            rule: String::new(),
            field: None,
            message: "left out without a finding".to_owned(),
        },
    }
}

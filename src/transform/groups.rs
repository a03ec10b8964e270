//! Group values: the feed's `[shipping]` and `[tax]` rules as one item's records, laid out
//! by the spec field's `parts`. The item's own `shipping_price` replaces every rule's
//! price; a rule's `free_above` makes it 0 for items priced at or above the threshold.

use rust_decimal::Decimal;

use super::FeedContext;
use super::values::{Group, Value};
use crate::diag::Finding;
use crate::feed::shipping::{Area, ShippingRule, TaxRule};
use crate::load::CatalogItem;
use crate::model::{Money, Price};
use crate::rules;
use crate::spec::{FieldSpec, Part, PriceFormat};

/// The item's shipping records for `field`, or none when the feed has no rule the channel
/// can carry and the item no price of its own.
pub(super) fn shipping(
    context: &FeedContext<'_>,
    item: &CatalogItem<'_>,
    price: &Price,
    field: &FieldSpec,
    findings: &mut Vec<Finding>,
) -> Option<Value<'static>> {
    let feed = context.feed;
    let currency = price.regular.currency;
    let own = item.variant.shipping_price;
    if let Some(written) = own.and_then(|own| own.currency)
        && written != currency
    {
        findings.push(context.finding(
            &rules::FEED_INVALID_VALUE,
            item,
            &field.name,
            format!(
                "shipping_price is in {written} but the item is priced in {currency} in this feed; write it in {currency}"
            ),
        ));
        return None;
    }
    // What the shopper pays decides free shipping: the sale price when there is one.
    let shopper_pays = price
        .sale
        .map_or(price.regular.amount, |sale| sale.price.amount);
    let carried: Vec<&ShippingRule> = feed
        .shipping
        .iter()
        .filter(|rule| fits(field, rule.area.as_ref()))
        .collect();
    // A feed of several currencies prices each rule in one; an item gets those in its own.
    let rules: Vec<&ShippingRule> = carried
        .iter()
        .copied()
        .filter(|rule| rule.currency == currency)
        .collect();
    if rules.is_empty() && !carried.is_empty() && own.is_none() {
        let mut priced_in: Vec<&str> = carried.iter().map(|r| r.currency.code()).collect();
        priced_in.sort_unstable();
        priced_in.dedup();
        findings.push(context.finding(
            &rules::FEED_INVALID_VALUE,
            item,
            &field.name,
            format!(
                "the item is priced in {currency} but every [[shipping.rules]] in {}; add rules priced in {currency}, or set currency on the feed to leave {currency} items out",
                priced_in.join(", ")
            ),
        ));
        return None;
    }
    if rules.is_empty() {
        let own = own?;
        let group = ShippingValues {
            country: feed.country.as_deref().unwrap_or(""),
            area: None,
            service: "",
            price: Money {
                amount: own.amount,
                currency,
            },
            times: [None; 4],
        };
        return Some(Value::Groups(vec![group.build(field)]));
    }
    let mut groups = Vec::with_capacity(rules.len());
    for rule in rules {
        let amount = match own {
            Some(own) => own.amount,
            None if rule.free_above.is_some_and(|limit| shopper_pays >= limit) => Decimal::ZERO,
            None => rule.price,
        };
        let values = ShippingValues {
            country: rule.country.as_deref().unwrap_or(""),
            area: rule.area.as_ref(),
            service: &rule.service,
            price: Money { amount, currency },
            times: [
                rule.min_handling_time,
                rule.max_handling_time,
                rule.min_transit_time,
                rule.max_transit_time,
            ],
        };
        groups.push(values.build(field));
    }
    Some(Value::Groups(groups))
}

/// The feed's tax records for `field` (the same for every item).
pub(super) fn tax(rules: &[TaxRule], field: &FieldSpec) -> Option<Value<'static>> {
    let groups: Vec<Group> = rules
        .iter()
        .filter(|rule| fits(field, rule.area.as_ref()))
        .map(|rule| {
            let parts = field.group_parts.iter().map(|&part| {
                let (name, value) = area_part(part, rule.area.as_ref());
                let value = match part {
                    Part::Country => rule.country.clone(),
                    Part::Rate => rule.rate.to_string(),
                    Part::TaxShip => if rule.tax_ship { "yes" } else { "no" }.to_owned(),
                    _ => value,
                };
                (name, value)
            });
            group(parts, &field.part_separator)
        })
        .collect();
    (!groups.is_empty()).then_some(Value::Groups(groups))
}

/// Whether the field's parts can say where `area` is.
fn fits(field: &FieldSpec, area: Option<&Area>) -> bool {
    let holds = |part| field.group_parts.contains(&part);
    match area {
        None => true,
        Some(Area::Region(_)) => holds(Part::Region) || holds(Part::RegionOrPostalCode),
        Some(Area::PostalCode(_)) => holds(Part::PostalCode) || holds(Part::RegionOrPostalCode),
    }
}

struct ShippingValues<'r> {
    country: &'r str,
    area: Option<&'r Area>,
    service: &'r str,
    price: Money,
    /// min/max handling, min/max transit, in business days.
    times: [Option<u32>; 4],
}

impl ShippingValues<'_> {
    fn build(&self, field: &FieldSpec) -> Group {
        let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        let parts = field.group_parts.iter().map(|&part| {
            let (name, value) = area_part(part, self.area);
            let value = match part {
                Part::Country => self.country.to_owned(),
                Part::Service => self.service.to_owned(),
                Part::Price => match field.price_format {
                    PriceFormat::AmountCurrency => self.price.to_string(),
                    PriceFormat::Amount | PriceFormat::Number => self.price.amount_text(),
                },
                Part::MinHandlingTime => number(self.times[0]),
                Part::MaxHandlingTime => number(self.times[1]),
                Part::MinTransitTime => number(self.times[2]),
                Part::MaxTransitTime => number(self.times[3]),
                _ => value,
            };
            (name, value)
        });
        group(parts, &field.part_separator)
    }
}

/// A part's element name and, for the area parts, its value: `region_or_postal_code` is
/// named after what the rule holds.
fn area_part(part: Part, area: Option<&Area>) -> (&'static str, String) {
    let value = match (part, area) {
        (Part::Region | Part::RegionOrPostalCode, Some(Area::Region(code)))
        | (Part::PostalCode | Part::RegionOrPostalCode, Some(Area::PostalCode(code))) => {
            code.clone()
        }
        _ => String::new(),
    };
    let name = match (part, area) {
        (Part::RegionOrPostalCode, Some(Area::PostalCode(_))) => Part::PostalCode.name(),
        (Part::RegionOrPostalCode, _) => Part::Region.name(),
        _ => part.name(),
    };
    (name, value)
}

/// The group with its text form: parts joined, trailing empty ones left off
/// (`DE::Standard:4.95 EUR`, not `DE::Standard:4.95 EUR::::`).
fn group(parts: impl Iterator<Item = (&'static str, String)>, separator: &str) -> Group {
    let parts: Vec<(&'static str, String)> = parts.collect();
    let used = parts
        .iter()
        .rposition(|(_, value)| !value.is_empty())
        .map_or(0, |last| last + 1);
    let text = parts[..used]
        .iter()
        .map(|(_, value)| value.as_str())
        .collect::<Vec<_>>()
        .join(separator);
    Group { parts, text }
}

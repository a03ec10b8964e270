//! One catalog item across every feed: which feeds of a country send it and which leave it
//! out (and why), whether their prices agree once each feed's declared rule is taken into
//! account, whether they agree on the sale, and whether each sends the availability its
//! own stock allocation gives.

use rust_decimal::Decimal;

use crate::feed::{Feed, PriceAdjust};
use crate::model::Money;

use super::observe::{Offer, What};
use super::report::{FeedValue, Mismatch, MissingFrom, PriceParity, PriceValue, Reason, SkuReport};

/// One feed's outcome for the item: sent (the first of a per-store feed's records stands
/// for them all), left out, or not concerned.
pub(super) enum Outcome {
    Sent(Offer),
    LeftOut(Reason),
    Elsewhere,
    /// The feed's records were collected but none arrived (cannot happen in a complete
    /// pass; kept out of the comparison rather than guessed).
    Unseen,
}

impl Outcome {
    /// Folds another record or verdict of the same feed and item into this one.
    pub(super) fn add(&mut self, what: What) {
        match (&*self, what) {
            (Outcome::Sent(_), _) => {}
            (_, What::Sent(offer)) => *self = Outcome::Sent(offer),
            (Outcome::Unseen, What::LeftOut(reason)) => *self = Outcome::LeftOut(reason),
            (Outcome::Unseen, What::Elsewhere) => *self = Outcome::Elsewhere,
            (_, _) => {}
        }
    }
}

/// The feeds of one country, by index into the run's feeds.
pub(super) struct Market {
    pub(super) country: Option<String>,
    pub(super) feeds: Vec<usize>,
}

/// Groups the feeds by their target country, in feed order.
pub(super) fn markets(feeds: &[Feed]) -> Vec<Market> {
    let mut markets: Vec<Market> = Vec::new();
    for (index, feed) in feeds.iter().enumerate() {
        match markets.iter_mut().find(|m| m.country == feed.country) {
            Some(market) => market.feeds.push(index),
            None => markets.push(Market {
                country: feed.country.clone(),
                feeds: vec![index],
            }),
        }
    }
    markets
}

/// Everything the feeds of `market` disagree on for this item; None when they agree.
pub(super) fn compare(
    feeds: &[Feed],
    market: &Market,
    sku: &str,
    line: u64,
    outcomes: &[Outcome],
) -> Option<SkuReport> {
    let name = |index: usize| feeds[index].id.clone();
    let mut mismatches = Vec::new();
    let sent: Vec<(usize, &Offer)> = market
        .feeds
        .iter()
        .filter_map(|&index| match &outcomes[index] {
            Outcome::Sent(offer) => Some((index, offer)),
            _ => None,
        })
        .collect();
    let missing: Vec<MissingFrom> = market
        .feeds
        .iter()
        .filter_map(|&index| match &outcomes[index] {
            Outcome::LeftOut(reason) => Some(MissingFrom {
                feed: name(index),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    if !sent.is_empty() && !missing.is_empty() {
        mismatches.push(Mismatch::Missing {
            present: sent.iter().map(|&(index, _)| name(index)).collect(),
            missing,
        });
    }
    let priced: Vec<(usize, &Offer)> = sent
        .iter()
        .copied()
        .filter(|(_, offer)| !offer.per_store)
        .collect();
    let mut currencies: Vec<FeedValue> = Vec::new();
    for &(index, offer) in &priced {
        if let Some(currency) = offer.currency {
            currencies.push(FeedValue {
                feed: name(index),
                value: currency.to_string(),
            });
        }
    }
    if currencies.iter().any(|c| c.value != currencies[0].value) {
        mismatches.push(Mismatch::Currency { values: currencies });
    }
    let prices: Vec<(usize, Money)> = priced
        .iter()
        .filter_map(|&(index, offer)| Some((index, offer.price?)))
        .collect();
    for group in by_currency(&prices) {
        if let Some(parity) = parity(feeds, &group) {
            mismatches.push(Mismatch::Price(parity));
        }
    }
    let with_sale_role: Vec<(usize, Option<Money>)> = priced
        .iter()
        .filter_map(|&(index, offer)| Some((index, offer.sale?)))
        .collect();
    let on_sale: Vec<(usize, Money)> = with_sale_role
        .iter()
        .filter_map(|&(index, sale)| Some((index, sale?)))
        .collect();
    if !on_sale.is_empty() && on_sale.len() < with_sale_role.len() {
        mismatches.push(Mismatch::Sale {
            on_sale: on_sale
                .iter()
                .map(|&(index, sale)| FeedValue {
                    feed: name(index),
                    value: sale.to_string(),
                })
                .collect(),
            not_on_sale: with_sale_role
                .iter()
                .filter(|(_, sale)| sale.is_none())
                .map(|&(index, _)| name(index))
                .collect(),
        });
    }
    for group in by_currency(&on_sale) {
        if let Some(parity) = parity(feeds, &group) {
            mismatches.push(Mismatch::SalePrice(parity));
        }
    }
    for &(index, offer) in &priced {
        if let Some(stock) = &offer.availability {
            mismatches.push(Mismatch::Availability {
                feed: name(index),
                sent: stock.sent.clone(),
                expected: stock.expected.clone(),
                allocated_quantity: stock.allocated,
            });
        }
    }
    (!mismatches.is_empty()).then(|| SkuReport {
        sku: sku.to_owned(),
        line,
        country: market.country.clone(),
        mismatches,
    })
}

/// The prices split by currency, each group in feed order.
fn by_currency(prices: &[(usize, Money)]) -> Vec<Vec<(usize, Money)>> {
    let mut groups: Vec<Vec<(usize, Money)>> = Vec::new();
    for &(index, money) in prices {
        match groups
            .iter_mut()
            .find(|g| g[0].1.currency == money.currency)
        {
            Some(group) => group.push((index, money)),
            None => groups.push(vec![(index, money)]),
        }
    }
    groups
}

/// Whether the feeds' prices come from one catalog price under their rules. Each feed's
/// sent price is undone through its rule (a feed without a rule: the price itself); the
/// source most feeds share is the agreed price (on a tie, the first feed's). None when
/// every feed agrees.
fn parity(feeds: &[Feed], prices: &[(usize, Money)]) -> Option<PriceParity> {
    if prices.len() < 2 {
        return None;
    }
    let sources: Vec<Vec<Decimal>> = prices
        .iter()
        .map(|&(index, sent)| match &feeds[index].price_adjust {
            Some(rule) => rule.sources_of(sent),
            None => vec![sent.amount],
        })
        .collect();
    let mut agreed: Option<(Decimal, usize)> = None;
    for candidate in sources.iter().flatten() {
        let count = sources.iter().filter(|s| s.contains(candidate)).count();
        if agreed.is_none_or(|(_, best)| count > best) {
            agreed = Some((*candidate, count));
        }
    }
    if agreed.is_some_and(|(_, count)| count == prices.len()) {
        return None;
    }
    let currency = prices[0].1.currency;
    let agreed = agreed.map(|(amount, _)| Money { amount, currency });
    let expected = |index: usize| -> Option<Money> {
        let agreed = agreed?;
        match &feeds[index].price_adjust {
            Some(rule) => rule.apply(agreed),
            None => Some(agreed),
        }
    };
    let mut differs = Vec::new();
    let values = prices
        .iter()
        .zip(&sources)
        .map(|(&(index, sent), sources)| {
            let agrees = agreed.is_some_and(|a| sources.contains(&a.amount));
            if !agrees {
                differs.push(feeds[index].id.clone());
            }
            PriceValue {
                feed: feeds[index].id.clone(),
                sent: sent.to_string(),
                rule: feeds[index]
                    .price_adjust
                    .as_ref()
                    .map(PriceAdjust::to_string),
                expected: expected(index).map(|m| m.to_string()),
            }
        })
        .collect();
    Some(PriceParity {
        agreed: agreed.map(|m| m.to_string()),
        values,
        differs,
    })
}

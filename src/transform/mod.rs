//! Per feed and item: filter, allocate stock, map catalog values onto the channel's fields,
//! and check them against the spec. An item with an error is left out of this feed (and
//! reported); warnings keep it.

mod explain;
mod groups;
pub mod html;
pub mod market;
pub mod sale;
mod value_rules;
mod values;

use std::borrow::Cow;
use std::sync::Arc;

use crate::diag::Finding;
use crate::feed::Feed;
use crate::load::{CatalogItem, LocationKind, Locations};
use crate::model::{Availability, Field, Price};
use crate::rules::{self, Rule};
use crate::spec::{
    ChannelSpec, Condition, Confidence, FieldSpec, FieldType, Requirement, TooLong, ValueSource,
};

use crate::model::links::plain_url;
pub use values::{Group, Value};

/// One output record: a value (or nothing) per spec field, in spec order.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub values: Vec<Option<Value<'a>>>,
}

impl Record<'_> {
    pub fn text(&self, index: usize) -> Option<&str> {
        match self.values.get(index)? {
            Some(Value::Text(text)) => Some(text),
            _ => None,
        }
    }
}

/// An item's records in one feed. The records of a per-store channel differ only in the
/// store's own fields: everything else is kept (and was checked) once, and each store keeps
/// just its own values.
#[derive(Debug)]
pub struct Records<'a> {
    /// The record, or for a per-store channel the values every store shares.
    pub shared: Record<'a>,
    /// Per-store channels: the spec indices (ascending) of the fields each store sets.
    pub own_fields: &'a [usize],
    /// Each store's values of `own_fields`, store after store.
    own_values: Vec<Option<Value<'a>>>,
    count: usize,
}

impl<'a> Records<'a> {
    fn single(record: Record<'a>) -> Records<'a> {
        Records {
            shared: record,
            own_fields: &[],
            own_values: Vec::new(),
            count: 1,
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Record `index`'s values of [`Records::own_fields`].
    pub fn own_values(&self, index: usize) -> &[Option<Value<'a>>] {
        let width = self.own_fields.len();
        &self.own_values[index * width..(index + 1) * width]
    }

    /// Record `index` whole (a copy for per-store records).
    pub fn get(&self, index: usize) -> Cow<'_, Record<'a>> {
        if self.own_fields.is_empty() {
            return Cow::Borrowed(&self.shared);
        }
        let mut record = self.shared.clone();
        for (&field, value) in self.own_fields.iter().zip(self.own_values(index)) {
            record.values[field] = value.clone();
        }
        Cow::Owned(record)
    }

    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, Record<'a>>> {
        (0..self.count).map(|index| self.get(index))
    }
}

pub enum Outcome<'a> {
    /// Left out by the feed's filter of this name.
    Filtered(&'static str),
    /// Left out for an error; the findings say which.
    Rejected(Vec<Finding>),
    Written {
        records: Records<'a>,
        warnings: Vec<Finding>,
    },
}

/// What a feed needs at hand for every item, worked out once per run.
pub struct FeedContext<'f> {
    pub feed: &'f Feed,
    /// Unique in the process: names this context's entries in per-thread caches.
    id: u64,
    pub catalog_file: Arc<str>,
    feed_label: Arc<str>,
    /// By location index: whether its stock counts for this feed.
    counted: Vec<bool>,
    /// Per-store channels: the stores that get records, and their store codes.
    stores: Vec<(u16, String)>,
    /// Stores' own prices (the store prices table).
    store_prices: Arc<crate::load::store_prices::StorePrices>,
    /// By store slot: the store's pickup method and SLA from the locations table.
    store_pickup: Vec<(String, String)>,
    /// By location index: its position in `stores`.
    store_slot: Vec<Option<u16>>,
    /// Per-store channels: the fields whose values come from the store.
    own_fields: Vec<usize>,
    /// For each of `own_fields`: which of its values are known to pass as they are.
    own_trust: Vec<OwnTrust>,
    has_inventory: bool,
    /// Whether the channel's availability field has a value for `limited_availability`
    /// (the spec says; see `[stock.thresholds]`).
    limited_offered: bool,
    /// When the run started: the reference for `max_days_ahead` and sale windows.
    now: jiff::Timestamp,
    /// When the next run is due (`diff --next-run`): sales that start or end before it are
    /// collected in `sale_changes`.
    next_run: Option<jiff::Timestamp>,
    sale_changes: std::sync::Mutex<Vec<sale::SaleChange>>,
    /// The catalog columns in the feed's language (`title_de`).
    localized: market::Localized,
}

impl<'f> FeedContext<'f> {
    pub fn new(
        feed: &'f Feed,
        locations: &Locations,
        catalog_file: Arc<str>,
        now: jiff::Timestamp,
    ) -> FeedContext<'f> {
        let per_store = feed.spec.per_store;
        let listed = |id: &str| {
            feed.stock_locations
                .as_ref()
                .is_none_or(|names| names.iter().any(|name| name == id))
        };
        let counted = locations
            .list
            .iter()
            .map(|location| {
                let default_kind = if per_store {
                    LocationKind::Store
                } else {
                    LocationKind::Warehouse
                };
                match &feed.stock_locations {
                    Some(_) => listed(&location.id),
                    None => location.kind == default_kind,
                }
            })
            .collect();
        let stores = locations
            .list
            .iter()
            .enumerate()
            // A store without a code cannot appear in a local feed (validation reports it).
            .filter(|(_, l)| {
                l.kind == LocationKind::Store && !l.store_code.is_empty() && listed(&l.id)
            })
            .filter_map(|(i, l)| Some((u16::try_from(i).ok()?, l.store_code.clone())))
            .collect::<Vec<_>>();
        let store_pickup: Vec<(String, String)> = stores
            .iter()
            .map(|(location, _)| {
                let location = locations.get(*location);
                (location.pickup_method.clone(), location.pickup_sla.clone())
            })
            .collect();
        let mut store_slot = vec![None; locations.list.len()];
        for (slot, (location, _)) in (0..).zip(&stores) {
            store_slot[usize::from(*location)] = Some(slot);
        }
        let own_fields = feed
            .spec
            .fields
            .iter()
            .enumerate()
            .filter(|&(index, field)| {
                // Overridden ones too: they are checked per store, in field order, as the
                // rest of the store's values are. A store setting the feed overrides, or
                // that no store has, is the same everywhere, so it is shared.
                let setting_everywhere_alike = values::is_store_setting(field)
                    && (feed.overrides[index].is_some()
                        || match field.source {
                            // The SLA's requirement reads the method: both are the store's
                            // own unless no store has either.
                            ValueSource::Derived(
                                crate::spec::Derived::StorePickupSla
                                | crate::spec::Derived::StorePickupMethod,
                            ) => store_pickup
                                .iter()
                                .all(|(method, sla)| method.is_empty() && sla.is_empty()),
                            _ => locations.store_prices.is_empty(),
                        });
                per_store && values::is_store_field(field) && !setting_everywhere_alike
            })
            .map(|(index, _)| index)
            .collect::<Vec<_>>();
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let own_trust = own_fields
            .iter()
            .map(|&index| match feed.overrides[index] {
                Some(_) => OwnTrust::Unknown,
                None => OwnTrust::new(&feed.spec.fields[index], &stores, &store_pickup),
            })
            .collect();
        FeedContext {
            feed,
            limited_offered: offers_limited_availability(&feed.spec),
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            catalog_file,
            feed_label: Arc::from(feed.id.as_str()),
            counted,
            stores,
            store_pickup,
            store_prices: Arc::clone(&locations.store_prices),
            store_slot,
            own_fields,
            own_trust,
            has_inventory: locations.inventory_table,
            now,
            next_run: None,
            sale_changes: std::sync::Mutex::new(Vec::new()),
            localized: market::Localized::new(feed),
        }
    }

    /// Collects the sales that start or end after `now` and by `next_run`.
    pub fn with_next_run(mut self, next_run: Option<jiff::Timestamp>) -> FeedContext<'f> {
        self.next_run = next_run;
        self
    }

    /// The sale changes collected so far (see [`FeedContext::with_next_run`]), by time.
    pub fn take_sale_changes(&self) -> Vec<sale::SaleChange> {
        let mut changes = match self.sale_changes.lock() {
            Ok(mut changes) => std::mem::take(&mut *changes),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        changes.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.sku.cmp(&b.sku)));
        changes
    }

    /// The item's text of `field` in the feed's language, when the catalog has it.
    pub fn localized<'a>(
        &self,
        variant: &crate::model::Variant<'a>,
        field: Field,
    ) -> Option<&'a str> {
        self.localized.text(variant, field)
    }

    pub fn finding(
        &self,
        rule: &'static Rule,
        item: &CatalogItem<'_>,
        field: &str,
        message: String,
    ) -> Finding {
        Finding::new(rule, &self.catalog_file, message)
            .line(item.variant.line)
            .sku(item.variant.sku)
            .field(field.to_owned())
            .feed(&self.feed_label)
    }

    /// The physical stock this feed counts: the stock at the counted locations when the
    /// inventory table has rows for the SKU (a counted location without a row adds 0);
    /// otherwise the products' stock column; otherwise none (0) with an inventory table,
    /// unknown without one. The column is the fallback, never added to the table's stock:
    /// one count, not two.
    pub fn counted_stock(&self, item: &CatalogItem<'_>) -> Option<u64> {
        if !item.stock.is_empty() {
            Some(
                item.stock
                    .iter()
                    .filter(|level| {
                        self.counted
                            .get(usize::from(level.location))
                            .copied()
                            .unwrap_or(false)
                    })
                    .map(|level| u64::from(level.quantity))
                    .sum(),
            )
        } else if let Some(column) = item.variant.stock {
            Some(u64::from(column))
        } else if self.has_inventory {
            Some(0)
        } else {
            None
        }
    }

    /// The quantity this feed publishes (see [`crate::allocate`]): the counted stock, the
    /// feed's part of its partition, then `[stock]` buffer, share, cap and thresholds.
    /// Unknown stock stays unknown. `trace` collects the steps for `preview`.
    pub fn allocated(
        &self,
        item: &CatalogItem<'_>,
        mut trace: Option<&mut crate::allocate::Trace>,
    ) -> Option<u64> {
        let stock = self.counted_stock(item)?;
        let part = match &self.feed.partition {
            None => stock,
            Some((partition, slot)) if trace.is_none() => partition.part_of(stock, *slot),
            Some((partition, slot)) => {
                let parts = partition.split(stock);
                let part = parts.get(*slot).copied().unwrap_or(0);
                if let Some(trace) = trace.as_deref_mut() {
                    trace.steps.push(crate::allocate::Step::Partition {
                        feed_slot: *slot,
                        parts: partition
                            .members
                            .iter()
                            .map(|(name, _)| name.clone())
                            .zip(parts)
                            .collect(),
                    });
                }
                part
            }
        };
        Some(
            self.feed
                .stock_policy
                .apply(part, self.limited_offered, trace)
                .0,
        )
    }

    /// Sellable quantity for this feed (see [`FeedContext::allocated`]).
    pub fn quantity(&self, item: &CatalogItem<'_>) -> Option<u64> {
        self.allocated(item, None)
    }

    /// Whether the stock at location `index` counts for this feed.
    pub fn counts(&self, index: usize) -> bool {
        self.counted.get(index).copied().unwrap_or(false)
    }

    /// Whether the channel has a `limited_availability` value this feed can send.
    pub fn offers_limited(&self) -> bool {
        self.limited_offered
    }

    /// The item's availability: what the catalog states wins (preorder, backorder, …);
    /// otherwise the published quantity decides through the feed's thresholds, and an item
    /// with none left is on backorder when the catalog allows backorders and says when
    /// the item is back (`availability_date`): a backorder without a date is refused by
    /// channels that take backorders (Google), so without one it stays out of stock.
    pub fn availability(&self, item: &CatalogItem<'_>, quantity: Option<u64>) -> Availability {
        match (item.variant.availability, quantity) {
            (Some(stated), _) => stated,
            // No stock data at all: the catalog sells what it lists.
            (None, None) => Availability::InStock,
            (None, Some(0))
                if item.variant.backorder_allowed && item.variant.availability_date.is_some() =>
            {
                Availability::Backorder
            }
            (None, Some(0)) => Availability::OutOfStock,
            (None, Some(quantity)) => self.level_of(quantity),
        }
    }

    /// In stock or limited, for a published quantity above 0 (thresholds already made
    /// anything below the lowest one 0).
    fn level_of(&self, quantity: u64) -> Availability {
        if self.limited_offered && quantity < self.feed.stock_policy.thresholds.in_stock_from {
            Availability::LimitedAvailability
        } else {
            Availability::InStock
        }
    }

    /// What a store shows (see `values::store_availability`), with the feed's thresholds.
    pub(super) fn store_availability(
        &self,
        stated: Option<Availability>,
        quantity: u64,
    ) -> Availability {
        match values::store_availability(stated, quantity) {
            Availability::InStock => self.level_of(quantity),
            other => other,
        }
    }

    /// The filters in order; the name of the first that leaves the item out.
    pub fn filtered_by(
        &self,
        item: &CatalogItem<'_>,
        availability: Availability,
    ) -> Option<&'static str> {
        let filters = &self.feed.filters;
        let v = item.variant;
        if filters.in_stock_only && availability != Availability::InStock {
            return Some("in_stock_only");
        }
        if !filters.conditions.is_empty() {
            let condition = if v.condition.is_empty() {
                "new"
            } else {
                v.condition
            };
            if !filters.conditions.iter().any(|c| c == condition) {
                return Some("conditions");
            }
        }
        if !filters.brands.is_empty() && !filters.brands.iter().any(|b| b == v.brand) {
            return Some("brands");
        }
        if filters.exclude_brands.iter().any(|b| b == v.brand) {
            return Some("exclude_brands");
        }
        if !filters.product_types.is_empty()
            && !filters
                .product_types
                .iter()
                .any(|p| v.product_type.starts_with(p.as_str()))
        {
            return Some("product_types");
        }
        if filters
            .exclude_product_types
            .iter()
            .any(|p| v.product_type.starts_with(p.as_str()))
        {
            return Some("exclude_product_types");
        }
        for (column, wanted) in &filters.custom {
            let value = v
                .custom
                .iter()
                .find(|(name, _)| &**name == column)
                .map(|(_, value)| *value);
            if value != Some(wanted.as_str()) {
                return Some("custom");
            }
        }
        None
    }

    /// The price this feed sends for the item now: in the feed's currency (see
    /// [`market::price`]), with the sale as it stands at the run's time (see [`sale`]).
    fn price(&self, item: &CatalogItem<'_>) -> Result<Price, market::NoPrice> {
        let price = market::price(self.feed, item.variant, item.other_currency_row)?;
        let window = price.sale.and_then(|sale| {
            sale::window_in(&sale, &self.feed.catalog_time_zone, &self.feed.time_zone)
        });
        if let Some(next_run) = self.next_run {
            // The prices the feed will send then: after its `price_adjust`. Where the rule
            // refuses one (takes it to zero or below) no change is listed: the item is left
            // out of the feed while that price holds, and the export then names it.
            let sent = match &self.feed.price_adjust {
                None => Some(price),
                Some(rule) => rule.apply_price(&price).ok(),
            };
            let changes = sent.map_or_else(Vec::new, |sent| {
                sale::changes_before(item.variant.sku, &sent, window, self.now, next_run)
            });
            if !changes.is_empty() {
                match self.sale_changes.lock() {
                    Ok(mut all) => all.extend(changes),
                    Err(poisoned) => poisoned.into_inner().extend(changes),
                }
            }
        }
        let schedules = self.feed.spec.sale_effective_dates;
        Ok(sale::price_at(&price, window, self.now, schedules).0)
    }

    /// How the item's price for this feed comes about, for `preview`: the currency's
    /// source, and where the sale stands at the run's time.
    pub fn describe_price(&self, item: &CatalogItem<'_>) -> String {
        let feed = self.feed;
        let price = match market::price(feed, item.variant, item.other_currency_row) {
            Ok(price) => price,
            Err(market::NoPrice::Filtered) => return "none in the feed's currency".to_owned(),
            Err(market::NoPrice::Missing { currency, from }) => {
                return market::missing_message(feed, currency, from);
            }
        };
        let source = match feed.currency {
            Some(currency) if item.variant.price_in(currency).is_none() => {
                let from = item.variant.prices.first().map(|p| p.regular);
                match (from, feed.rates.as_ref()) {
                    (Some(from), Some(rates)) => format!(
                        " (converted from {from} at {}, rounded half-even)",
                        rates
                            .rate(from.currency, currency)
                            .map(|r| r.to_string())
                            .unwrap_or_default()
                    ),
                    _ => String::new(),
                }
            }
            _ => " (catalog)".to_owned(),
        };
        let Some(sale) = price.sale else {
            return format!("{}{source}, no sale", price.regular);
        };
        let window = sale::window_in(&sale, &feed.catalog_time_zone, &feed.time_zone);
        let (sent, state) =
            sale::price_at(&price, window, self.now, feed.spec.sale_effective_dates);
        let local = |at: jiff::Timestamp| {
            at.to_zoned(feed.time_zone.clone())
                .strftime("%Y-%m-%dT%H:%M%:z")
                .to_string()
        };
        let when = window.map_or_else(
            || "without dates".to_owned(),
            |(start, end)| format!("from {} until {}", local(start), local(end)),
        );
        let state = match state {
            Some(sale::SaleState::Open | sale::SaleState::Active) => "on: sent",
            Some(sale::SaleState::Upcoming) if sent.sale.is_some() => {
                "upcoming: sent ahead, the channel schedules it by its dates"
            }
            Some(sale::SaleState::Upcoming) => {
                "upcoming: not sent yet, the channel has no effective dates"
            }
            Some(sale::SaleState::Expired) | None => "expired: not sent",
        };
        format!(
            "{}{source}, sale {} {when} at {}: {state}",
            price.regular,
            sale.price,
            local(self.now)
        )
    }

    /// The finding for an item whose price the feed's `price_adjust` takes to zero or below.
    fn price_adjust_refused(
        &self,
        item: &CatalogItem<'_>,
        rule: &crate::feed::PriceAdjust,
        amount: crate::model::Money,
    ) -> Finding {
        let field = self
            .feed
            .spec
            .roles
            .price
            .as_ref()
            .map_or("price", |role| role.name.as_str());
        self.finding(
            &rules::FEED_PRICE_ADJUST,
            item,
            field,
            format!(
                "price_adjust `{rule}` takes {amount} to zero or below; {} is not sent this item",
                self.feed.spec.id
            ),
        )
    }

    /// Runs one item through this feed.
    pub fn transform<'a>(&'a self, item: &CatalogItem<'a>) -> Outcome<'a> {
        match self.records(item) {
            Err(filter) => Outcome::Filtered(filter),
            Ok((records, findings)) => {
                // One store record's problem is the item's problem: the same data feeds
                // them all, so each finding is reported once.
                let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
                for finding in findings {
                    let repeat = kept.iter().any(|k| {
                        k.rule == finding.rule
                            && k.field == finding.field
                            && k.message == finding.message
                    });
                    if !repeat {
                        kept.push(finding);
                    }
                }
                let findings = kept;
                if findings.iter().any(Finding::is_error) {
                    Outcome::Rejected(findings)
                } else {
                    Outcome::Written {
                        records,
                        warnings: findings,
                    }
                }
            }
        }
    }

    /// The item's checked records and findings, or the filter that leaves it out.
    pub fn records<'a>(
        &'a self,
        item: &CatalogItem<'a>,
    ) -> Result<(Records<'a>, Vec<Finding>), &'static str> {
        let quantity = self.quantity(item);
        let availability = self.availability(item, quantity);
        if let Some(filter) = self.filtered_by(item, availability) {
            return Err(filter);
        }
        // A feed for one currency's market carries the items priced in it; the others are
        // counted as filtered by currency, not errors.
        let price = match self.price(item) {
            Ok(price) => price,
            Err(market::NoPrice::Filtered) => return Err("currency"),
            Err(market::NoPrice::Missing { currency, from }) => {
                let finding = self.finding(
                    &rules::FEED_NO_PRICE_IN_CURRENCY,
                    item,
                    "price",
                    market::missing_message(self.feed, currency, from),
                );
                let empty = Record {
                    values: vec![None; self.feed.spec.fields.len()],
                };
                return Ok((Records::single(empty), vec![finding]));
            }
        };
        let mut findings = Vec::new();
        let price = match &self.feed.price_adjust {
            None => price,
            Some(rule) => match rule.apply_price(&price) {
                Ok(adjusted) => adjusted,
                Err(amount) => {
                    findings.push(self.price_adjust_refused(item, rule, amount));
                    let nothing = Record {
                        values: vec![None; self.feed.spec.fields.len()],
                    };
                    return Ok((Records::single(nothing), findings));
                }
            },
        };
        let base = values::ItemValues {
            context: self,
            item,
            price: &price,
            quantity,
            availability,
        };
        if !self.feed.spec.per_store {
            let mut record = base.record(None, &mut findings);
            self.check(item, &mut record, &mut findings, |_| true);
            return Ok((Records::single(record), findings));
        }
        // Everything but the store's own values is the same for every store: it is built
        // and checked once, and each store adds and checks only its own fields.
        let own: &'a [usize] = &self.own_fields;
        let is_own = |index: usize| own.binary_search(&index).is_ok();
        let mut shared = base.record(None, &mut findings);
        self.check(item, &mut shared, &mut findings, |index| !is_own(index));
        let mut own_values = Vec::with_capacity(self.stores.len() * own.len());
        let mut count = 0;
        // Each store's level, found in one pass over the item's levels (the first row of a
        // location counts, as everywhere else).
        let mut at_store: Vec<Option<u32>> = vec![None; self.stores.len()];
        for level in item.stock {
            if let Some(&Some(slot)) = self.store_slot.get(usize::from(level.location)) {
                at_store[usize::from(slot)].get_or_insert(level.quantity);
            }
        }
        for (slot, ((location, code), quantity)) in self.stores.iter().zip(at_store).enumerate() {
            let Some(quantity) = quantity else {
                continue;
            };
            // Each store's own stock goes through the feed's buffer, share, cap and
            // thresholds.
            let (quantity, _) =
                self.feed
                    .stock_policy
                    .apply(u64::from(quantity), self.limited_offered, None);
            let availability = self.store_availability(item.variant.availability, quantity);
            let (pickup_method, pickup_sla) = &self.store_pickup[slot];
            let store = values::StoreValues {
                code,
                quantity,
                availability,
                pickup_method,
                pickup_sla,
                own_price: self.store_prices.get(item.variant.sku, *location).copied(),
            };
            count += 1;
            let trusted = self
                .own_trust
                .iter()
                .all(|trust| trust.passes(slot, store.quantity, availability));
            if trusted {
                for &index in own {
                    own_values
                        .push(base.trusted_store_value(&self.feed.spec.fields[index], &store));
                }
                continue;
            }
            let start = own_values.len();
            let mut complete = true;
            for &index in own {
                let field = &self.feed.spec.fields[index];
                let value = match self.feed.overrides[index] {
                    // The feed's value, the same in every store.
                    Some(_) => shared.values[index].clone(),
                    None => base.store_value(field, &store),
                };
                complete &= value.as_ref().is_some_and(|v| !v.is_empty());
                own_values.push(value);
            }
            // Every store's own values are checked: one store without a code must not slip
            // through because another had one. Repeats are folded by `transform`.
            if complete {
                for (slot, &index) in own_values[start..].iter_mut().zip(own) {
                    if let Some(value) = slot
                        && !self.check_present(item, index, value, &mut findings)
                    {
                        *slot = None;
                    }
                }
            } else {
                // A missing value may be required on a condition that reads other fields:
                // that takes the whole record.
                let mut record = shared.clone();
                for (value, &index) in own_values[start..].iter_mut().zip(own) {
                    record.values[index] = value.take();
                }
                self.check(item, &mut record, &mut findings, is_own);
                for (value, &index) in own_values[start..].iter_mut().zip(own) {
                    *value = record.values[index].take();
                }
            }
        }
        if count == 0 {
            // No store carries the item: nothing to say about it locally.
            return Err("no_store_stock");
        }
        let records = Records {
            shared,
            own_fields: own,
            own_values,
            count,
        };
        Ok((records, findings))
    }

    /// Checks a record against the spec: requirements, types, lengths. Cuts values where the
    /// spec says to, and drops extra repeated values.
    fn check<'r>(
        &self,
        item: &CatalogItem<'_>,
        record: &mut Record<'r>,
        findings: &mut Vec<Finding>,
        which: impl Fn(usize) -> bool,
    ) where
        'f: 'r,
    {
        let spec = &self.feed.spec;
        // Fallbacks first: a requirement may read the value one gives (`mpn` is not
        // required once `identifier_exists` is `no`).
        for (index, field) in spec.fields.iter().enumerate() {
            let Some(fallback) = &field.fallback else {
                continue;
            };
            let present = record.values[index].as_ref().is_some_and(|v| !v.is_empty());
            if !which(index) || present || !self.holds(&fallback.when, record, item) {
                continue;
            }
            record.values[index] = Some(Value::Text(Cow::Borrowed(&fallback.value)));
            findings.push(self.finding(
                &rules::FEED_FALLBACK,
                item,
                &field.name,
                format!(
                    "`{}` sent as `{}`, as {} documents for items like this{}",
                    field.name,
                    fallback.value,
                    spec.id,
                    describe_condition(spec, &fallback.when)
                ),
            ));
        }
        for (index, field) in spec.fields.iter().enumerate() {
            if !which(index) {
                continue;
            }
            let present = record.values[index].as_ref().is_some_and(|v| !v.is_empty());
            if !present {
                record.values[index] = None;
                self.check_missing(item, field, record, findings);
            } else if let Some(value) = &mut record.values[index]
                && !self.check_present(item, index, value, findings)
            {
                record.values[index] = None;
            }
        }
        for group in &spec.at_least_one_of {
            if !group.fields.iter().all(|&index| which(index)) {
                continue;
            }
            let any = group
                .fields
                .iter()
                .any(|&index| record.values[index].as_ref().is_some_and(|v| !v.is_empty()));
            let applies = group
                .when
                .as_ref()
                .is_none_or(|when| self.holds(when, record, item));
            if any || !applies {
                continue;
            }
            let names: Vec<&str> = group
                .fields
                .iter()
                .map(|&index| spec.fields[index].name.as_str())
                .collect();
            let because = group
                .note
                .as_deref()
                .map_or(String::new(), |note| format!(" ({note})"));
            findings.push(
                self.finding(
                    &rules::FEED_MISSING_REQUIRED,
                    item,
                    &names.join("|"),
                    format!(
                        "{} requires at least one of `{}`, and all are empty{because}",
                        spec.id,
                        names.join("`, `")
                    ),
                )
                .downgrade(group.confidence == Confidence::Unconfirmed),
            );
        }
    }

    /// A field without a value: an error if required (perhaps on a condition), a warning
    /// if recommended.
    fn check_missing(
        &self,
        item: &CatalogItem<'_>,
        field: &FieldSpec,
        record: &Record<'_>,
        findings: &mut Vec<Finding>,
    ) {
        let spec = &self.feed.spec;
        let unconfirmed = field.confidence == Confidence::Unconfirmed;
        let required = match field.requirement {
            Requirement::Required => Some(true),
            Requirement::Recommended => Some(false),
            Requirement::Conditional => field
                .condition
                .as_ref()
                .is_some_and(|condition| self.holds(condition, record, item))
                .then_some(true),
            Requirement::Optional => None,
        };
        match required {
            Some(true) => findings.push(
                self.finding(
                    &rules::FEED_MISSING_REQUIRED,
                    item,
                    &field.name,
                    format!("`{}` is required by {} but empty", field.name, spec.id),
                )
                .downgrade(unconfirmed),
            ),
            Some(false) => findings.push(self.finding(
                &rules::FEED_MISSING_RECOMMENDED,
                item,
                &field.name,
                format!("`{}` is recommended by {}", field.name, spec.id),
            )),
            None => {}
        }
    }

    /// Type, length and count checks of a field's (non-empty) value. False when the value
    /// must not be sent at all: an enum value outside the channel's list never goes out,
    /// even where an unconfirmed rule keeps the item.
    fn check_present(
        &self,
        item: &CatalogItem<'_>,
        index: usize,
        value: &mut Value<'_>,
        findings: &mut Vec<Finding>,
    ) -> bool {
        let spec = &self.feed.spec;
        let field = &spec.fields[index];
        let unconfirmed = field.confidence == Confidence::Unconfirmed;
        if let Value::List(list) = value
            && let Some(max) = field.max_values
            && list.len() > max
        {
            findings.push(self.finding(
                &rules::FEED_TOO_MANY_VALUES,
                item,
                &field.name,
                format!(
                    "{} values for `{}`; {} takes {max}, the rest are not sent",
                    list.len(),
                    field.name,
                    spec.id
                ),
            ));
            list.truncate(max);
        }
        let mut problems = Vec::new();
        // Catalog links were checked when the catalog was read; only feed-made ones
        // (templates, constants) need checking here.
        let checked_link = self.feed.overrides[index].is_none()
            && matches!(
                field.source,
                ValueSource::Field(Field::Link | Field::ImageLink | Field::AdditionalImageLinks)
            );
        value.for_each_mut(|text| check_text(field, text, checked_link, &mut problems));
        if let Some(days) = field.max_days_ahead {
            value.for_each_mut(|text| self.check_days_ahead(field, text, days, &mut problems));
        }
        let mut keep = true;
        for (rule, mut message) in problems {
            let downgrade = unconfirmed && rule.severity == crate::rules::Severity::Error;
            if downgrade
                && field.kind == FieldType::Enum
                && std::ptr::eq(rule, &rules::FEED_INVALID_VALUE)
            {
                keep = false;
                message.push_str("; not sent (the rule is unconfirmed, so the item stays)");
            }
            findings.push(
                self.finding(rule, item, &field.name, message)
                    .downgrade(downgrade),
            );
        }
        keep
    }

    /// A date past `days` after the run is refused (Google: availability_date at most one
    /// year ahead). A value that does not read back in the field's format is left to the
    /// channel: templates may write other forms.
    fn check_days_ahead(
        &self,
        field: &FieldSpec,
        text: &str,
        days: u32,
        problems: &mut Vec<(&'static Rule, String)>,
    ) {
        let Ok(when) = jiff::fmt::strtime::parse(field.date_format.as_bytes(), text)
            .and_then(|parsed| parsed.to_timestamp())
        else {
            return;
        };
        let latest = self
            .now
            .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days)))
            .unwrap_or(jiff::Timestamp::MAX);
        if when > latest {
            problems.push((
                &rules::FEED_INVALID_VALUE,
                format!(
                    "`{}` value `{text}` is more than {days} days ahead; {} takes dates up to {}",
                    field.name,
                    self.feed.spec.id,
                    latest.strftime("%Y-%m-%d")
                ),
            ));
        }
    }

    fn holds(&self, condition: &Condition, record: &Record<'_>, item: &CatalogItem<'_>) -> bool {
        if !condition.countries.is_empty() {
            let country = self.feed.country.as_deref().unwrap_or("");
            if !condition.countries.iter().any(|c| c == country) {
                return false;
            }
        }
        if let Some(other) = condition.field {
            let value = record.text(other).unwrap_or("");
            let listed = condition.one_of.iter().any(|wanted| wanted == value);
            if listed == condition.negated {
                return false;
            }
        }
        if condition
            .empty
            .iter()
            .any(|&other| record.values[other].as_ref().is_some_and(|v| !v.is_empty()))
        {
            return false;
        }
        if !condition.category_under.is_empty() || !condition.not_category_under.is_empty() {
            let category = values::category(self, item);
            let taxonomy = &self.feed.taxonomy;
            let under = |ids: &[u32]| ids.iter().any(|&id| taxonomy.is_under(&category, id));
            if !condition.category_under.is_empty() && !under(&condition.category_under) {
                return false;
            }
            if under(&condition.not_category_under) {
                return false;
            }
        }
        true
    }
}

/// Whether the spec's availability field takes a value for `limited_availability`: its
/// mapped spelling is among the field's values. Channels without one never get it.
fn offers_limited_availability(spec: &ChannelSpec) -> bool {
    use crate::spec::Derived;
    spec.fields.iter().any(|field| {
        matches!(
            field.source,
            ValueSource::Derived(Derived::Availability | Derived::StoreAvailability)
        ) && field.values.as_ref().is_some_and(|values| {
            let canonical = Availability::LimitedAvailability.as_str();
            let mapped = field
                .map
                .iter()
                .find(|(from, _)| from == canonical)
                .map_or(canonical, |(_, to)| to.as_str());
            values.iter().any(|value| value == mapped)
        })
    })
}

/// Which values of one of a per-store channel's own fields pass as they are. They come from
/// the store alone (its code, a count, an availability), so they are finished and checked
/// once per run instead of once per item and store: 14 million times for a million items in
/// twenty stores. Anything not known to pass takes the full path.
enum OwnTrust {
    /// By store slot.
    Code(Vec<bool>),
    /// By count, below the count table's end.
    Quantity(Vec<bool>),
    /// By availability, in [`Availability::ALL`] order.
    Availability(Vec<bool>),
    Unknown,
}

impl OwnTrust {
    fn new(field: &FieldSpec, stores: &[(u16, String)], pickup: &[(String, String)]) -> OwnTrust {
        use crate::spec::Derived;
        match field.source {
            ValueSource::Derived(Derived::StorePickupMethod) => OwnTrust::Code(
                pickup
                    .iter()
                    .map(|(method, _)| values::passes_as_is(field, method))
                    .collect(),
            ),
            ValueSource::Derived(Derived::StorePickupSla) => OwnTrust::Code(
                pickup
                    .iter()
                    .map(|(_, sla)| values::passes_as_is(field, sla))
                    .collect(),
            ),
            ValueSource::Derived(Derived::StoreCode) => OwnTrust::Code(
                stores
                    .iter()
                    .map(|(_, code)| values::passes_as_is(field, code))
                    .collect(),
            ),
            ValueSource::Derived(Derived::StoreQuantity) => OwnTrust::Quantity(
                (0..values::COUNT_TABLE)
                    .map(|count| values::passes_as_is(field, &values::count_text(count)))
                    .collect(),
            ),
            ValueSource::Derived(Derived::StoreAvailability) => OwnTrust::Availability(
                Availability::ALL
                    .iter()
                    .map(|availability| {
                        values::map_value(field, availability.as_str()).is_some_and(|value| {
                            matches!(value, Value::Text(text) if values::passes_as_is(field, &text))
                        })
                    })
                    .collect(),
            ),
            _ => OwnTrust::Unknown,
        }
    }

    fn passes(&self, slot: usize, quantity: u64, availability: Availability) -> bool {
        let known = match self {
            OwnTrust::Code(by_slot) => by_slot.get(slot),
            OwnTrust::Quantity(by_count) => usize::try_from(quantity)
                .ok()
                .and_then(|count| by_count.get(count)),
            OwnTrust::Availability(by_availability) => Availability::ALL
                .iter()
                .position(|a| *a == availability)
                .and_then(|position| by_availability.get(position)),
            OwnTrust::Unknown => None,
        };
        known.copied().unwrap_or(false)
    }
}

/// Type and length checks of one value; may cut it where the spec says so.
fn check_text(
    field: &FieldSpec,
    text: &mut Cow<'_, str>,
    checked_link: bool,
    problems: &mut Vec<(&'static Rule, String)>,
) {
    value_rules::check(field, text, problems);
    match field.kind {
        FieldType::Url if checked_link => {}
        FieldType::Url => {
            if !plain_url(text) {
                let valid = url::Url::parse(text)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
                if !valid {
                    problems.push((
                        &rules::FEED_INVALID_URL,
                        format!(
                            "`{}` value `{text}` is not an absolute http(s) URL",
                            field.name
                        ),
                    ));
                }
            }
        }
        FieldType::Enum => {
            if let Some(values) = &field.values
                && !values.iter().any(|v| v == text.as_ref())
            {
                problems.push((
                    &rules::FEED_INVALID_VALUE,
                    format!(
                        "`{}` value `{text}` is not one of {}",
                        field.name,
                        values.join(", ")
                    ),
                ));
            }
        }
        FieldType::Integer => {
            if text.parse::<i64>().is_err() {
                problems.push((
                    &rules::FEED_INVALID_VALUE,
                    format!("`{}` value `{text}` is not a whole number", field.name),
                ));
            }
        }
        FieldType::Decimal => {
            if rust_decimal::Decimal::from_str_exact(text).is_err() {
                problems.push((
                    &rules::FEED_INVALID_VALUE,
                    format!("`{}` value `{text}` is not a number", field.name),
                ));
            }
        }
        FieldType::Boolean => {
            if !matches!(text.as_ref(), "true" | "false" | "yes" | "no") {
                problems.push((
                    &rules::FEED_INVALID_VALUE,
                    format!("`{}` value `{text}` is not true/false/yes/no", field.name),
                ));
            }
        }
        FieldType::Text
        | FieldType::Price
        | FieldType::Gtin
        | FieldType::Date
        | FieldType::DateRange
        | FieldType::Group => {}
    }
    // Byte length bounds the character count from above, so most values need no count.
    // (and a quarter of it from below: UTF-8 takes at most four bytes a character).
    let needs_count = field.min_length.is_some_and(|min| text.len() < min * 4)
        || field.max_length.is_some_and(|max| text.len() > max);
    if !needs_count {
        return;
    }
    let length = text.chars().count();
    if let Some(min) = field.min_length
        && length < min
    {
        problems.push((
            &rules::FEED_TOO_SHORT,
            format!("`{}` has {length} characters; at least {min}", field.name),
        ));
    }
    if let Some(max) = field.max_length
        && length > max
    {
        match field.on_too_long {
            TooLong::Truncate if truncate_at_word(text, max).is_empty() => problems.push((
                &rules::FEED_TOO_LONG,
                format!(
                    "`{}` has {length} characters and no word boundary to cut at within {max}",
                    field.name
                ),
            )),
            TooLong::Truncate => {
                *text = Cow::Owned(truncate_at_word(text, max).to_owned());
                problems.push((
                    &rules::FEED_TRUNCATED,
                    format!("`{}` cut from {length} to {max} characters", field.name),
                ));
            }
            TooLong::Error => problems.push((
                &rules::FEED_TOO_LONG,
                format!(
                    "`{}` has {length} characters; the limit is {max}",
                    field.name
                ),
            )),
        }
    }
}

/// The longest prefix of at most `max` characters that ends at a word boundary (or at
/// `max` characters when the first word is longer).
pub fn truncate_at_word(text: &str, max: usize) -> &str {
    let Some((cut, _)) = text.char_indices().nth(max) else {
        return text;
    };
    let head = &text[..cut];
    let boundary_follows = text[cut..].starts_with(char::is_whitespace);
    let kept = if boundary_follows {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(space) if space > 0 => &head[..space],
            _ => head,
        }
    };
    kept.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-'))
}

/// The empty fields a condition asks for, for a message: ` (no gtin, no mpn)`.
fn describe_condition(spec: &ChannelSpec, condition: &Condition) -> String {
    if condition.empty.is_empty() {
        return String::new();
    }
    let names: Vec<String> = condition
        .empty
        .iter()
        .map(|&index| format!("no {}", spec.fields[index].name))
        .collect();
    format!(" ({})", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::truncate_at_word;

    #[test]
    fn cuts_at_the_last_word_boundary() {
        assert_eq!(truncate_at_word("Northwind Classic Shirt", 15), "Northwind");
        assert_eq!(
            truncate_at_word("Northwind Classic Shirt", 17),
            "Northwind Classic"
        );
        assert_eq!(
            truncate_at_word("Northwind Classic Shirt", 100),
            "Northwind Classic Shirt"
        );
        assert_eq!(truncate_at_word("Supercalifragilistic", 5), "Super");
        assert_eq!(truncate_at_word("Café Olé - Red - M", 13), "Café Olé");
        assert!(truncate_at_word("東京ギア Pro Earbuds", 6).chars().count() <= 6);
    }
}

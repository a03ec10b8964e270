//! The way from stock to published quantity and availability, step by step, as
//! `omnifeed preview` prints it.

use super::FeedContext;
use crate::allocate::{Step, Trace};
use crate::load::{CatalogItem, LocationKind, Locations};

impl FeedContext<'_> {
    /// Lines describing how this feed arrives at the item's quantity and availability:
    /// each location's stock and whether it counts, then every allocation step.
    pub fn explain_stock(&self, item: &CatalogItem<'_>, locations: &Locations) -> Vec<String> {
        let mut lines = vec!["stock:".to_owned()];
        let per_store = self.feed.spec.per_store;
        for (index, location) in locations.list.iter().enumerate() {
            let level = item
                .stock
                .iter()
                .find(|level| usize::from(level.location) == index);
            let counted = self.counts(index);
            if level.is_none() && !counted {
                continue;
            }
            let kind = match location.kind {
                LocationKind::Warehouse => "warehouse",
                LocationKind::Store => "store",
            };
            let amount = level.map_or("no inventory row: 0".to_owned(), |l| l.quantity.to_string());
            let verdict = if counted { "counted" } else { "not counted" };
            lines.push(format!("  {} ({kind}): {amount}, {verdict}", location.id));
        }
        let policy = &self.feed.stock_policy;
        if per_store {
            lines.push("  each store publishes its own stock, through the steps below".to_owned());
            for level in item.stock {
                let location = locations.get(level.location);
                if !self.counts(usize::from(level.location)) || location.kind != LocationKind::Store
                {
                    continue;
                }
                let mut trace = Trace::default();
                let (quantity, _) = policy.apply(
                    u64::from(level.quantity),
                    self.offers_limited(),
                    Some(&mut trace),
                );
                let availability = self.store_availability(item.variant.availability, quantity);
                lines.push(format!(
                    "  store {}: {}{} -> quantity {quantity}, {}",
                    location.id,
                    level.quantity,
                    steps_text(&trace),
                    availability.as_str()
                ));
            }
            return lines;
        }
        let Some(counted) = self.counted_stock(item) else {
            lines.push(
                "  no stock data (no inventory table, no stock column): quantity unknown, \
                 the item is sold as listed"
                    .to_owned(),
            );
            lines.push(format!(
                "  availability: {}",
                self.availability(item, None).as_str()
            ));
            return lines;
        };
        let source = if item.stock.is_empty() && item.variant.stock.is_some() {
            " (the products' stock column: no inventory rows)"
        } else {
            ""
        };
        lines.push(format!("  counted stock: {counted}{source}"));
        let mut trace = Trace::default();
        let quantity = self.allocated(item, Some(&mut trace)).unwrap_or(0);
        if self.feed.partition.is_none() {
            lines.push("  allocation: shared (this feed sees the whole stock)".to_owned());
        }
        for step in &trace.steps {
            lines.push(format!("  {}", step_text(step)));
        }
        let thresholds = policy.thresholds;
        let limited = match (thresholds.limited_from, self.offers_limited()) {
            (Some(from), true) => format!(", limited_availability from {from}"),
            (Some(from), false) => format!(
                ", limited_availability from {from} (not offered by {}: in_stock)",
                self.feed.spec.id
            ),
            (None, _) => String::new(),
        };
        lines.push(format!(
            "  thresholds: in_stock from {}{limited}",
            thresholds.in_stock_from
        ));
        let availability = self.availability(item, Some(quantity));
        let why = match item.variant.availability {
            Some(_) => " (stated by the catalog)",
            None if quantity == 0 && item.variant.backorder_allowed => {
                if item.variant.availability_date.is_some() {
                    " (backorder_allowed, with an availability_date)"
                } else {
                    " (backorder_allowed, but no availability_date: stays out of stock)"
                }
            }
            None => "",
        };
        lines.push(format!(
            "  quantity {quantity}, availability {}{why}",
            availability.as_str()
        ));
        lines
    }
}

fn steps_text(trace: &Trace) -> String {
    trace
        .steps
        .iter()
        .map(|step| format!(", {}", step_text(step)))
        .collect()
}

fn step_text(step: &Step) -> String {
    match step {
        Step::Partition { feed_slot, parts } => {
            let all: Vec<String> = parts
                .iter()
                .map(|(name, part)| format!("{name} {part}"))
                .collect();
            let own = parts.get(*feed_slot).map_or(0, |(_, part)| *part);
            format!("partition: {} -> this feed {own}", all.join(", "))
        }
        Step::Buffer { buffer, left } => format!("buffer {buffer}: {left}"),
        Step::Share { percent, left } => format!("share {percent} % (rounded down): {left}"),
        Step::Cap { cap, left } => format!("cap {cap}: {left}"),
        Step::BelowThreshold { from, left } => {
            format!("{left} is below the lowest threshold ({from}): 0 published")
        }
    }
}

//! Sale windows evaluated at the run's time, in the feed's time zone: which sale a channel
//! gets now, and which sales start or end before the next run.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::model::{Price, Sale};

/// Where a sale stands at the run's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleState {
    /// A sale price without dates: it runs until the catalog removes it.
    Open,
    /// `start <= now < end`.
    Active,
    /// `now < start`.
    Upcoming,
    /// `end <= now`.
    Expired,
}

/// A sale's window as this feed reads it: a window written without an offset is the same
/// wall-clock times in the feed's zone (see [`Sale::local_time`]).
pub fn window_in(
    sale: &Sale,
    catalog_zone: &TimeZone,
    feed_zone: &TimeZone,
) -> Option<(Timestamp, Timestamp)> {
    let (start, end) = sale.window?;
    if !sale.local_time || catalog_zone == feed_zone {
        return Some((start, end));
    }
    let reread = |at: Timestamp| {
        // Wall-clock time in the catalog's zone, placed in the feed's; a time the feed's
        // zone skips (a DST gap) moves forward, as jiff's `compatible` rule does.
        at.to_zoned(catalog_zone.clone())
            .datetime()
            .to_zoned(feed_zone.clone())
            .map(|zoned| zoned.timestamp())
            .unwrap_or(at)
    };
    Some((reread(start), reread(end)))
}

pub fn state(window: Option<(Timestamp, Timestamp)>, now: Timestamp) -> SaleState {
    match window {
        None => SaleState::Open,
        Some((_, end)) if end <= now => SaleState::Expired,
        Some((start, _)) if now < start => SaleState::Upcoming,
        Some(_) => SaleState::Active,
    }
}

/// The price a channel gets at `now`: an expired sale is dropped (the regular price goes
/// out), an upcoming one only where the channel schedules sales by their dates.
pub fn price_at(
    price: &Price,
    window: Option<(Timestamp, Timestamp)>,
    now: Timestamp,
    channel_schedules: bool,
) -> (Price, Option<SaleState>) {
    let Some(sale) = price.sale else {
        return (*price, None);
    };
    let state = state(window, now);
    let keep = match state {
        SaleState::Open | SaleState::Active => true,
        SaleState::Upcoming => channel_schedules,
        SaleState::Expired => false,
    };
    let sale = keep.then_some(Sale { window, ..sale });
    (
        Price {
            regular: price.regular,
            sale,
        },
        Some(state),
    )
}

/// A sale that starts or ends after this run and before the next: the channel's price
/// changes in between (or, where the channel does not schedule sales, at the next run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaleChange {
    pub sku: String,
    /// `sale_starts` or `sale_ends`.
    pub change: SaleChangeKind,
    pub at: Timestamp,
    /// The price before and after the change, as `19.99 EUR`.
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleChangeKind {
    SaleStarts,
    SaleEnds,
}

/// The changes of `price`'s sale in `(now, next_run]`, by time: its start, its end, or
/// both for a sale that opens and closes before the next run.
pub fn changes_before(
    sku: &str,
    price: &Price,
    window: Option<(Timestamp, Timestamp)>,
    now: Timestamp,
    next_run: Timestamp,
) -> Vec<SaleChange> {
    let (Some(sale), Some((start, end))) = (price.sale, window) else {
        return Vec::new();
    };
    let within = |at: Timestamp| now < at && at <= next_run;
    let change = |change, at, before: crate::model::Money, after: crate::model::Money| SaleChange {
        sku: sku.to_owned(),
        change,
        at,
        before: before.to_string(),
        after: after.to_string(),
    };
    let mut changes = Vec::new();
    if within(start) {
        changes.push(change(
            SaleChangeKind::SaleStarts,
            start,
            price.regular,
            sale.price,
        ));
    }
    if within(end) {
        changes.push(change(
            SaleChangeKind::SaleEnds,
            end,
            sale.price,
            price.regular,
        ));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Currency, Money};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn eur(amount: &str) -> Money {
        Money {
            amount: amount.parse().unwrap(),
            currency: Currency::parse("EUR").unwrap(),
        }
    }

    fn on_sale(start: &str, end: &str, local_time: bool) -> Price {
        Price {
            regular: eur("20.00"),
            sale: Some(Sale {
                price: eur("15.00"),
                window: Some((at(start), at(end))),
                local_time,
            }),
        }
    }

    #[test]
    fn the_window_is_half_open() {
        let price = on_sale("2026-11-27T00:00:00Z", "2026-11-30T00:00:00Z", false);
        let window = price.sale.unwrap().window;
        let sent = |now| price_at(&price, window, at(now), false);
        let before = sent("2026-11-26T23:59:59Z");
        assert_eq!(before.1, Some(SaleState::Upcoming));
        assert!(before.0.sale.is_none());
        let start = sent("2026-11-27T00:00:00Z");
        assert_eq!(start.1, Some(SaleState::Active));
        assert_eq!(start.0.sale.unwrap().price, eur("15.00"));
        let last = sent("2026-11-29T23:59:59.999Z");
        assert_eq!(last.1, Some(SaleState::Active));
        let end = sent("2026-11-30T00:00:00Z");
        assert_eq!(end.1, Some(SaleState::Expired));
        assert!(end.0.sale.is_none());
        assert_eq!(end.0.regular, eur("20.00"));
    }

    #[test]
    fn upcoming_sales_go_ahead_only_to_channels_that_schedule_them() {
        let price = on_sale("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", false);
        let window = price.sale.unwrap().window;
        let now = at("2026-11-30T00:00:00Z");
        assert!(price_at(&price, window, now, false).0.sale.is_none());
        let ahead = price_at(&price, window, now, true).0.sale.unwrap();
        assert_eq!(ahead.window, window);
        // Expired sales go to no channel.
        let later = at("2026-12-03T00:00:00Z");
        assert!(price_at(&price, window, later, true).0.sale.is_none());
    }

    #[test]
    fn a_sale_without_dates_runs_until_removed() {
        let price = Price {
            regular: eur("20.00"),
            sale: Some(Sale {
                price: eur("15.00"),
                window: None,
                local_time: false,
            }),
        };
        let (sent, state) = price_at(&price, None, at("2030-01-01T00:00:00Z"), false);
        assert_eq!(state, Some(SaleState::Open));
        assert_eq!(sent, price);
    }

    #[test]
    fn local_times_are_read_again_in_the_feeds_zone() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let new_york = TimeZone::get("America/New_York").unwrap();
        // Midnight 27 November in Berlin (UTC+1) to midnight 30 November.
        let sale = on_sale("2026-11-26T23:00:00Z", "2026-11-29T23:00:00Z", true)
            .sale
            .unwrap();
        let (start, end) = window_in(&sale, &berlin, &new_york).unwrap();
        // The same wall-clock times in New York (UTC-5).
        assert_eq!(start, at("2026-11-27T05:00:00Z"));
        assert_eq!(end, at("2026-11-30T05:00:00Z"));
        assert_eq!(window_in(&sale, &berlin, &berlin), sale.window);
        // A window with an offset is one instant everywhere.
        let fixed = Sale {
            local_time: false,
            ..sale
        };
        assert_eq!(window_in(&fixed, &berlin, &new_york), sale.window);
    }

    #[test]
    fn dst_changes_keep_wall_clock_times() {
        let utc = TimeZone::UTC;
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // Written as 2026-03-29T00:00 to 2026-03-29T12:00 in a UTC catalog: in Berlin the
        // clocks go from 02:00 to 03:00 that night, so midnight is +01:00 and noon +02:00.
        let spring = on_sale("2026-03-29T00:00:00Z", "2026-03-29T12:00:00Z", true)
            .sale
            .unwrap();
        let (start, end) = window_in(&spring, &utc, &berlin).unwrap();
        assert_eq!(start, at("2026-03-28T23:00:00Z"));
        assert_eq!(end, at("2026-03-29T10:00:00Z"));
        // 02:30 does not exist in Berlin that night: it is read as 03:30 (+02:00).
        let gap = on_sale("2026-03-29T02:30:00Z", "2026-03-30T00:00:00Z", true)
            .sale
            .unwrap();
        assert_eq!(
            window_in(&gap, &utc, &berlin).unwrap().0,
            at("2026-03-29T01:30:00Z")
        );
        // 02:30 happens twice on 25 October: the first (+02:00) is taken.
        let fold = on_sale("2026-10-25T02:30:00Z", "2026-10-26T00:00:00Z", true)
            .sale
            .unwrap();
        assert_eq!(
            window_in(&fold, &utc, &berlin).unwrap().0,
            at("2026-10-25T00:30:00Z")
        );
    }

    #[test]
    fn changes_before_the_next_run_are_named() {
        let price = on_sale("2026-11-27T00:00:00Z", "2026-11-30T00:00:00Z", false);
        let window = price.sale.unwrap().window;
        let changes = |now, next| changes_before("A", &price, window, at(now), at(next));
        let ends = changes("2026-11-29T23:30:00Z", "2026-11-30T00:00:00Z");
        assert_eq!(ends.len(), 1);
        assert_eq!(ends[0].change, SaleChangeKind::SaleEnds);
        assert_eq!(
            (ends[0].before.as_str(), ends[0].after.as_str()),
            ("15.00 EUR", "20.00 EUR")
        );
        let starts = changes("2026-11-26T23:30:00Z", "2026-11-27T01:00:00Z");
        assert_eq!(starts.len(), 1);
        assert_eq!(starts[0].change, SaleChangeKind::SaleStarts);
        // A change exactly at `now` has happened: this run sends it.
        assert!(changes("2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z").is_empty());
        assert!(changes("2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z").is_empty());
        // A sale that opens and closes before the next run: both, in order.
        let both = changes("2026-11-26T00:00:00Z", "2026-12-01T00:00:00Z");
        assert_eq!(
            both.iter()
                .map(|c| (c.change, c.at, c.before.as_str(), c.after.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (
                    SaleChangeKind::SaleStarts,
                    at("2026-11-27T00:00:00Z"),
                    "20.00 EUR",
                    "15.00 EUR"
                ),
                (
                    SaleChangeKind::SaleEnds,
                    at("2026-11-30T00:00:00Z"),
                    "15.00 EUR",
                    "20.00 EUR"
                ),
            ]
        );
    }
}

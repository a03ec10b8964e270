//! A feed's own stock steps (`[stock]` buffer, share, cap, thresholds), with a trace of each
//! for `omnifeed preview`.

use serde::Deserialize;

/// `[stock.thresholds]`: the published quantity from which each availability applies.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThresholds {
    /// From this many units up: `in_stock` (default 1).
    pub in_stock: Option<u64>,
    /// From this many units up, below `in_stock`: `limited_availability` where the
    /// channel's spec lists it, `in_stock` where it does not. Below it: `out_of_stock`.
    pub limited_availability: Option<u64>,
}

/// Which availability a published quantity means, before the channel's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub in_stock_from: u64,
    pub limited_from: Option<u64>,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            in_stock_from: 1,
            limited_from: None,
        }
    }
}

impl RawThresholds {
    pub fn compile(&self, problems: &mut Vec<String>) -> Thresholds {
        let in_stock_from = self.in_stock.unwrap_or(1);
        if in_stock_from == 0 {
            problems.push(
                "[stock.thresholds] in_stock = 0 would call 0 units in stock; use 1 or more"
                    .to_owned(),
            );
        }
        if let Some(limited) = self.limited_availability
            && (limited == 0 || limited >= in_stock_from)
        {
            problems.push(format!(
                "[stock.thresholds] limited_availability = {limited} must be at least 1 and \
                 below in_stock = {in_stock_from}"
            ));
        }
        Thresholds {
            in_stock_from: in_stock_from.max(1),
            limited_from: self.limited_availability,
        }
    }
}

/// A published quantity's availability class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    InStock,
    Limited,
    OutOfStock,
}

/// One feed's `[stock]` steps after the counted stock (and its partition part).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StockPolicy {
    pub buffer: u32,
    /// Percent published, 1 to 100; None is 100.
    pub share: Option<u8>,
    pub cap: Option<u64>,
    pub thresholds: Thresholds,
}

/// One step of the way from physical stock to the published quantity, for `preview`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The feed's part of a partition.
    Partition {
        feed_slot: usize,
        parts: Vec<(String, u64)>,
    },
    Buffer {
        buffer: u32,
        left: u64,
    },
    Share {
        percent: u8,
        left: u64,
    },
    Cap {
        cap: u64,
        left: u64,
    },
    /// Below the lowest threshold: nothing is published.
    BelowThreshold {
        from: u64,
        left: u64,
    },
}

/// The steps taken, and the result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trace {
    pub steps: Vec<Step>,
}

impl StockPolicy {
    /// The published quantity of `stock` (counted, and partitioned where the feed is in a
    /// partition) and its level. `limited_offered`: whether the channel's spec has a
    /// limited-availability value; without it that band is `in_stock`.
    pub fn apply(
        &self,
        stock: u64,
        limited_offered: bool,
        mut trace: Option<&mut Trace>,
    ) -> (u64, Level) {
        let mut note = |step: Step| {
            if let Some(trace) = trace.as_deref_mut() {
                trace.steps.push(step);
            }
        };
        let mut left = stock;
        if self.buffer > 0 {
            left = left.saturating_sub(u64::from(self.buffer));
            note(Step::Buffer {
                buffer: self.buffer,
                left,
            });
        }
        if let Some(percent) = self.share.filter(|&p| p < 100) {
            // Rounded down: a share never promises a unit that is not there.
            left = u64::try_from(u128::from(left) * u128::from(percent) / 100).unwrap_or(left);
            note(Step::Share { percent, left });
        }
        if let Some(cap) = self.cap {
            left = left.min(cap);
            note(Step::Cap { cap, left });
        }
        let thresholds = self.thresholds;
        let lowest = thresholds.limited_from.unwrap_or(thresholds.in_stock_from);
        let level = if left >= thresholds.in_stock_from {
            Level::InStock
        } else if left >= lowest && left > 0 {
            if limited_offered {
                Level::Limited
            } else {
                Level::InStock
            }
        } else {
            if left > 0 {
                note(Step::BelowThreshold { from: lowest, left });
            }
            left = 0;
            Level::OutOfStock
        };
        (left, level)
    }
}

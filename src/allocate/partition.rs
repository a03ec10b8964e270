//! `[allocation]` in omnifeed.toml: how the feeds it names split each SKU's stock.

use serde::Deserialize;

/// Project-wide stock allocation. With `mode = "shared"` (the default) every feed sees the
/// whole stock of its counted locations, as before. With `mode = "partition"` the feeds
/// listed under `[[allocation.feeds]]` split each SKU's stock between them, so the
/// quantities they publish never add up to more than the units on hand:
///
/// ```toml
/// [allocation]
/// mode = "partition"
/// locations = ["WH-BERLIN"]   # the stock to split (default: every warehouse)
/// [[allocation.feeds]]
/// feed = "amazon"
/// percent = 30                # at most 30 % of the stock, rounded down
/// [[allocation.feeds]]
/// feed = "google"
/// weight = 1                  # the rest, split by weight
/// [[allocation.feeds]]
/// feed = "shop"
/// weight = 2
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAllocation {
    /// `shared` (default) or `partition`.
    pub mode: Option<String>,
    /// Partition: the locations whose stock is split (default: every warehouse). A feed
    /// of the partition takes its locations from here, not from its own `[stock]`.
    pub locations: Option<Vec<String>>,
    /// Partition: the feeds that split the stock, each with one claim.
    #[serde(default)]
    pub feeds: Vec<RawMember>,
}

/// One feed of a partition and its claim: exactly one of `units`, `percent`, `weight`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMember {
    /// The feed's name (its file stem in the feeds folder).
    pub feed: String,
    /// A fixed reservation: these units first (in the order listed), or all there are.
    pub units: Option<u64>,
    /// At most this percentage of the stock, rounded down.
    pub percent: Option<u8>,
    /// A share of what the `units` and `percent` claims leave, by weight.
    pub weight: Option<u32>,
}

/// A feed's claim on the partitioned stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Units(u64),
    Percent(u8),
    Weight(u32),
}

/// A compiled `mode = "partition"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Feed names and claims, in the order listed (the order breaks rounding ties).
    pub members: Vec<(String, Claim)>,
    pub locations: Option<Vec<String>>,
}

impl RawAllocation {
    /// The partition, None in shared mode, or every problem (one line each, naming the key).
    pub fn compile(&self) -> Result<Option<Partition>, Vec<String>> {
        let mut problems = Vec::new();
        match self.mode.as_deref() {
            None | Some("shared") => {
                if !self.feeds.is_empty() || self.locations.is_some() {
                    problems.push(
                        "[allocation] lists feeds or locations but mode is `shared`, where every \
                         feed sees the whole stock; set mode = \"partition\" to split it"
                            .to_owned(),
                    );
                }
                return if problems.is_empty() {
                    Ok(None)
                } else {
                    Err(problems)
                };
            }
            Some("partition") => {}
            Some(other) => {
                return Err(vec![format!(
                    "[allocation] mode `{other}` is not `shared` or `partition`"
                )]);
            }
        }
        if self.feeds.len() < 2 {
            problems.push(
                "[allocation] mode = \"partition\" needs at least two [[allocation.feeds]] to \
                 split the stock between"
                    .to_owned(),
            );
        }
        let mut members = Vec::with_capacity(self.feeds.len());
        let mut percents = 0u32;
        for member in &self.feeds {
            let name = &member.feed;
            if members.iter().any(|(seen, _)| seen == name) {
                problems.push(format!(
                    "[[allocation.feeds]] feed `{name}` is listed twice; give it one claim"
                ));
                continue;
            }
            let claim = match (member.units, member.percent, member.weight) {
                (Some(units), None, None) => Claim::Units(units),
                (None, Some(percent), None) if (1..=100).contains(&percent) => {
                    percents += u32::from(percent);
                    Claim::Percent(percent)
                }
                (None, Some(percent), None) => {
                    problems.push(format!(
                        "[[allocation.feeds]] feed `{name}`: percent = {percent} is not 1 to 100"
                    ));
                    continue;
                }
                (None, None, Some(weight)) if weight > 0 => Claim::Weight(weight),
                (None, None, Some(_)) => {
                    problems.push(format!(
                        "[[allocation.feeds]] feed `{name}`: weight must be at least 1 (leave \
                         the feed out to give it nothing)"
                    ));
                    continue;
                }
                _ => {
                    problems.push(format!(
                        "[[allocation.feeds]] feed `{name}` needs exactly one of units, percent \
                         or weight"
                    ));
                    continue;
                }
            };
            members.push((name.clone(), claim));
        }
        if percents > 100 {
            problems.push(format!(
                "[[allocation.feeds]] percents add up to {percents} %; at most 100 % can be \
                 promised"
            ));
        }
        if problems.is_empty() {
            Ok(Some(Partition {
                members,
                locations: self.locations.clone(),
            }))
        } else {
            Err(problems)
        }
    }
}

impl Partition {
    /// The position of `feed` among the members.
    pub fn slot_of(&self, feed: &str) -> Option<usize> {
        self.members.iter().position(|(name, _)| name == feed)
    }

    /// Member `slot`'s part of `stock`: the same as `split(stock)[slot]`, without building
    /// every part (each feed asks for its own, for every item).
    pub fn part_of(&self, stock: u64, slot: usize) -> u64 {
        let Some(&(_, own)) = self.members.get(slot) else {
            return 0;
        };
        let (left, fixed) = self.fixed_claims(stock, Some(slot));
        let Claim::Weight(weight) = own else {
            return fixed;
        };
        let total_weight = self.total_weight();
        let share = |weight: u32| {
            let exact = u128::from(left) * u128::from(weight);
            (exact / total_weight, exact % total_weight)
        };
        let (floor, remainder) = share(weight);
        let mut given = 0u128;
        // How many weighted members come before this one in the leftover order.
        let mut ahead = 0u128;
        for (other, (_, claim)) in self.members.iter().enumerate() {
            if let Claim::Weight(other_weight) = *claim {
                let (other_floor, other_remainder) = share(other_weight);
                given += other_floor;
                if other_remainder > remainder || (other_remainder == remainder && other < slot) {
                    ahead += 1;
                }
            }
        }
        let leftover = u128::from(left) - given;
        // At most `left`: a part of it.
        u64::try_from(floor + u128::from(ahead < leftover)).unwrap_or(left)
    }

    /// What the `units` and `percent` claims leave of `stock`, and what they give `slot`.
    fn fixed_claims(&self, stock: u64, slot: Option<usize>) -> (u64, u64) {
        let mut left = stock;
        let mut own = 0;
        for (index, (_, claim)) in self.members.iter().enumerate() {
            if let Claim::Units(units) = *claim {
                let part = units.min(left);
                left -= part;
                if Some(index) == slot {
                    own = part;
                }
            }
        }
        for (index, (_, claim)) in self.members.iter().enumerate() {
            if let Claim::Percent(percent) = *claim {
                // Below u64::MAX: a percentage of at most 100 of a u64.
                let floor = u128::from(stock) * u128::from(percent) / 100;
                let part = u64::try_from(floor).unwrap_or(u64::MAX).min(left);
                left -= part;
                if Some(index) == slot {
                    own = part;
                }
            }
        }
        (left, own)
    }

    fn total_weight(&self) -> u128 {
        self.members
            .iter()
            .map(|(_, claim)| match claim {
                Claim::Weight(weight) => u128::from(*weight),
                _ => 0,
            })
            .sum()
    }

    /// Each member's part of `stock`, in member order; the parts never add up to more.
    ///
    /// `units` claims are served first, in the order listed; then each `percent` claim
    /// gets `floor(stock × percent / 100)` of the whole stock (or what is left); then the
    /// `weight` claims split the rest by the largest-remainder method: everyone gets the
    /// whole units of its exact share, and the units left over go one each to the largest
    /// fractional remainders, equal remainders to the member listed first. So 10 units
    /// over weights 1:1:1 give 4/3/3, and each weighted part is within one unit of its
    /// exact share. With no weight claim, what the others leave is published nowhere.
    pub fn split(&self, stock: u64) -> Vec<u64> {
        let mut parts: Vec<u64> = (0..self.members.len())
            .map(|slot| match self.members[slot].1 {
                Claim::Weight(_) => 0,
                _ => self.fixed_claims(stock, Some(slot)).1,
            })
            .collect();
        let (left, _) = self.fixed_claims(stock, None);
        let total_weight = self.total_weight();
        if total_weight == 0 {
            return parts;
        }
        // (remainder, slot) of each weighted member, for the leftover units.
        let mut remainders = Vec::new();
        let mut given = 0u64;
        for (slot, (part, (_, claim))) in parts.iter_mut().zip(&self.members).enumerate() {
            if let Claim::Weight(weight) = *claim {
                let exact = u128::from(left) * u128::from(weight);
                // At most `left`: the weight is part of the total.
                *part = u64::try_from(exact / total_weight).unwrap_or(left);
                given += *part;
                remainders.push((exact % total_weight, slot));
            }
        }
        // Largest remainder first; equal remainders in listed order.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let leftover = left - given;
        for &(_, slot) in remainders
            .iter()
            .take(usize::try_from(leftover).unwrap_or(0))
        {
            parts[slot] += 1;
        }
        parts
    }
}

//! Allocation arithmetic, with expectations worked out by hand.

use proptest::prelude::*;

use super::{
    Claim, Level, Partition, RawAllocation, RawMember, Step, StockPolicy, Thresholds, Trace,
};

fn partition(claims: &[Claim]) -> Partition {
    Partition {
        members: claims
            .iter()
            .enumerate()
            .map(|(i, claim)| (format!("feed{i}"), *claim))
            .collect(),
        locations: None,
    }
}

fn policy(buffer: u32, share: Option<u8>, cap: Option<u64>) -> StockPolicy {
    StockPolicy {
        buffer,
        share,
        cap,
        thresholds: Thresholds::default(),
    }
}

#[test]
fn ten_units_over_one_one_one_give_four_three_three_never_four_four_three() {
    let parts = partition(&[Claim::Weight(1), Claim::Weight(1), Claim::Weight(1)]).split(10);
    assert_eq!(parts, vec![4, 3, 3]);
}

#[test]
fn the_largest_remainder_gets_the_leftover_unit_whatever_the_order() {
    // 10 × 1/6 = 1.67, 10 × 2/6 = 3.33, 10 × 3/6 = 5: floors 1+3+5 = 9, the one unit
    // left goes to the largest remainder (0.67, the first feed).
    let parts = partition(&[Claim::Weight(1), Claim::Weight(2), Claim::Weight(3)]).split(10);
    assert_eq!(parts, vec![2, 3, 5]);
    // 7 over 3:3:1: exact 3, 3, 1; no leftover.
    let parts = partition(&[Claim::Weight(3), Claim::Weight(3), Claim::Weight(1)]).split(7);
    assert_eq!(parts, vec![3, 3, 1]);
    // 5 over 1:1:1:1 (1.25 each): the leftover unit goes to the first listed.
    let parts = partition(&[
        Claim::Weight(1),
        Claim::Weight(1),
        Claim::Weight(1),
        Claim::Weight(1),
    ])
    .split(5);
    assert_eq!(parts, vec![2, 1, 1, 1]);
}

#[test]
fn a_marketplace_at_thirty_percent_and_the_shop_gets_the_rest() {
    let split = partition(&[Claim::Percent(30), Claim::Weight(1)]);
    // 30 % of 7 is 2.1: 2; the shop the other 5.
    assert_eq!(split.split(7), vec![2, 5]);
    assert_eq!(split.split(3), vec![0, 3]);
    assert_eq!(split.split(100), vec![30, 70]);
}

#[test]
fn fixed_reservations_come_first_and_never_exceed_the_stock() {
    let split = partition(&[Claim::Weight(1), Claim::Units(5), Claim::Units(4)]);
    // 12: 5 and 4 reserved, the weighted feed gets the 3 left.
    assert_eq!(split.split(12), vec![3, 5, 4]);
    // 7: 5 for the first reservation, 2 for the second, nothing left.
    assert_eq!(split.split(7), vec![0, 5, 2]);
}

#[test]
fn zero_stock_gives_everyone_zero() {
    let split = partition(&[Claim::Percent(50), Claim::Weight(1), Claim::Units(3)]);
    assert_eq!(split.split(0), vec![0, 0, 0]);
}

#[test]
fn buffer_share_and_cap_apply_in_that_order_and_round_down() {
    // 20 - 2 = 18; 50 % of 18 = 9; cap 5.
    assert_eq!(
        policy(2, Some(50), Some(5)).apply(20, false, None),
        (5, Level::InStock)
    );
    // 9 - 2 = 7; 50 % of 7 = 3.5 -> 3; cap 5 does not bite.
    assert_eq!(
        policy(2, Some(50), Some(5)).apply(9, false, None),
        (3, Level::InStock)
    );
    // Buffer larger than the stock: 0, out of stock.
    assert_eq!(
        policy(5, None, None).apply(3, false, None),
        (0, Level::OutOfStock)
    );
    // 33 % of 2 = 0.66 -> 0.
    assert_eq!(
        policy(0, Some(33), None).apply(2, false, None),
        (0, Level::OutOfStock)
    );
    assert_eq!(
        policy(0, None, None).apply(0, false, None),
        (0, Level::OutOfStock)
    );
}

#[test]
fn thresholds_map_the_published_quantity() {
    let policy = StockPolicy {
        thresholds: Thresholds {
            in_stock_from: 5,
            limited_from: Some(2),
        },
        ..StockPolicy::default()
    };
    assert_eq!(policy.apply(5, true, None), (5, Level::InStock));
    assert_eq!(policy.apply(4, true, None), (4, Level::Limited));
    assert_eq!(policy.apply(2, true, None), (2, Level::Limited));
    // A channel without limited availability: those units are in stock.
    assert_eq!(policy.apply(2, false, None), (2, Level::InStock));
    // Below the lowest threshold nothing is published, not even the one unit.
    let mut trace = Trace::default();
    assert_eq!(
        policy.apply(1, true, Some(&mut trace)),
        (0, Level::OutOfStock)
    );
    assert_eq!(trace.steps, vec![Step::BelowThreshold { from: 2, left: 1 }]);
    let without_limited = StockPolicy {
        thresholds: Thresholds {
            in_stock_from: 3,
            limited_from: None,
        },
        ..StockPolicy::default()
    };
    assert_eq!(without_limited.apply(2, true, None), (0, Level::OutOfStock));
    assert_eq!(without_limited.apply(3, true, None), (3, Level::InStock));
}

#[test]
fn the_trace_names_every_step_taken() {
    let mut trace = Trace::default();
    policy(2, Some(50), Some(5)).apply(20, false, Some(&mut trace));
    assert_eq!(
        trace.steps,
        vec![
            Step::Buffer {
                buffer: 2,
                left: 18
            },
            Step::Share {
                percent: 50,
                left: 9
            },
            Step::Cap { cap: 5, left: 5 },
        ]
    );
}

fn member(feed: &str, units: Option<u64>, percent: Option<u8>, weight: Option<u32>) -> RawMember {
    RawMember {
        feed: feed.into(),
        units,
        percent,
        weight,
    }
}

#[test]
fn the_allocation_table_is_checked_whole() {
    let shared = RawAllocation::default();
    assert_eq!(shared.compile(), Ok(None));
    let bad = RawAllocation {
        mode: Some("partition".into()),
        locations: None,
        feeds: vec![
            member("amazon", None, Some(70), None),
            member("ebay", None, Some(40), None),
            member("shop", None, None, Some(0)),
            member("meta", Some(1), None, Some(1)),
            member("amazon", None, None, Some(1)),
        ],
    };
    let problems = bad.compile().unwrap_err();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`shop`") && p.contains("weight"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`meta`") && p.contains("exactly one"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`amazon` is listed twice"))
    );
    assert!(problems.iter().any(|p| p.contains("110 %")));
    let listed_but_shared = RawAllocation {
        mode: None,
        locations: None,
        feeds: vec![member("a", None, None, Some(1))],
    };
    assert!(listed_but_shared.compile().is_err());
    let unknown_mode = RawAllocation {
        mode: Some("split".into()),
        ..RawAllocation::default()
    };
    assert!(unknown_mode.compile().unwrap_err()[0].contains("`split`"));
}

fn claim() -> impl Strategy<Value = Claim> {
    prop_oneof![
        (1u32..1000).prop_map(Claim::Weight),
        (1u8..=50).prop_map(Claim::Percent),
        (0u64..1000).prop_map(Claim::Units),
    ]
}

proptest! {
    /// However the stock is split, the parts never add up to more than it, and every
    /// weighted part is within one unit of its exact share of what the other claims left.
    #[test]
    fn partitioned_quantities_never_exceed_the_physical_stock(
        stock in prop_oneof![0u64..100, 0u64..1_000_000, Just(u64::MAX)],
        claims in prop::collection::vec(claim(), 2..6),
    ) {
        let partition = partition(&claims);
        let parts = partition.split(stock);
        let total: u128 = parts.iter().map(|&p| u128::from(p)).sum();
        prop_assert!(total <= u128::from(stock));
        let fixed: u128 = claims
            .iter()
            .zip(&parts)
            .filter(|(c, _)| !matches!(c, Claim::Weight(_)))
            .map(|(_, &p)| u128::from(p))
            .sum();
        let rest = u128::from(stock) - fixed;
        let weights: u128 = claims
            .iter()
            .map(|c| match c { Claim::Weight(w) => u128::from(*w), _ => 0 })
            .sum();
        for (claim, &part) in claims.iter().zip(&parts) {
            match *claim {
                Claim::Weight(w) => {
                    // |part - rest × w / weights| < 1, in integers.
                    let exact = rest * u128::from(w);
                    let scaled = u128::from(part) * weights;
                    prop_assert!(scaled.abs_diff(exact) < weights, "{part} vs {exact}/{weights}");
                }
                Claim::Percent(p) => {
                    prop_assert!(u128::from(part) * 100 <= u128::from(stock) * u128::from(p));
                }
                Claim::Units(u) => prop_assert!(part <= u),
            }
        }
        if weights > 0 {
            // The weighted feeds take everything the fixed claims leave.
            prop_assert_eq!(total, u128::from(stock));
        }
    }

    /// One feed's part, worked out alone, is its part of the whole split.
    #[test]
    fn one_part_alone_equals_the_split(
        stock in prop_oneof![0u64..100, 0u64..1_000_000, Just(u64::MAX)],
        claims in prop::collection::vec(claim(), 2..6),
    ) {
        let partition = partition(&claims);
        let parts = partition.split(stock);
        for (slot, part) in parts.iter().enumerate() {
            prop_assert_eq!(partition.part_of(stock, slot), *part, "slot {}", slot);
        }
    }

    /// A feed's own steps only ever lower the quantity.
    #[test]
    fn the_feed_steps_never_publish_more_than_they_get(
        stock in 0u64..10_000,
        buffer in 0u32..50,
        share in prop::option::of(1u8..=100),
        cap in prop::option::of(0u64..500),
    ) {
        let (published, _) = policy(buffer, share, cap).apply(stock, true, None);
        prop_assert!(published <= stock);
    }
}

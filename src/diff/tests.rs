use std::collections::HashMap;

use super::*;
use crate::spec::{RoleField, Roles};

/// Google-style roles: the price and availability fields of the test items.
fn roles() -> Roles {
    Roles {
        price: Some(RoleField::new("price", &[])),
        availability: Some(RoleField::new("availability", &[])),
        ..Roles::default()
    }
}

pub(super) fn f(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Diffs `current` against `previous` (key -> fields), both as a caller would.
fn diff(previous: &[(&str, Fields)], current: &[(&str, Fields)]) -> FeedDiff {
    let accepted: HashMap<String, u128> = previous
        .iter()
        .map(|(k, fields)| ((*k).to_owned(), content_hash(fields)))
        .collect();
    let mut builder = DiffBuilder::new(accepted);
    for (key, fields) in current {
        builder
            .push(CurrentItem {
                key: (*key).to_owned(),
                hash: content_hash(fields),
                fields: fields.clone(),
            })
            .expect("unique keys");
    }
    let before: HashMap<String, Fields> = previous
        .iter()
        .filter(|(k, _)| builder.keys_needing_before().contains(k))
        .map(|(k, fields)| ((*k).to_owned(), fields.clone()))
        .collect();
    builder
        .finish(&mut lookup(&before), &Ranking::new(&roles()))
        .expect("diff")
}

/// A lookup of accepted values from `before`, as a store answers: only the keys asked for,
/// never more than a chunk of them at once.
pub(crate) fn lookup(
    before: &HashMap<String, Fields>,
) -> impl FnMut(&[&str]) -> Result<HashMap<String, Fields>, DiffError> + '_ {
    |keys| {
        assert!(
            keys.len() <= BEFORE_CHUNK,
            "{} keys in one lookup",
            keys.len()
        );
        Ok(keys
            .iter()
            .filter_map(|&key| Some((key.to_owned(), before.get(key)?.clone())))
            .collect())
    }
}

#[test]
fn hash_is_length_prefixed_and_order_independent() {
    assert_ne!(
        content_hash(&f(&[("ab", "c")])),
        content_hash(&f(&[("a", "bc")]))
    );
    assert_ne!(
        content_hash(&f(&[("a", "b"), ("c", "d")])),
        content_hash(&f(&[("a", "bc"), ("", "d")]))
    );
    assert_eq!(
        content_hash(&f(&[("a", "1"), ("b", "2")])),
        content_hash(&f(&[("b", "2"), ("a", "1")]))
    );
}

#[test]
fn diff_of_a_state_against_itself_is_empty() {
    let items = [
        ("A", f(&[("price", "1.00 EUR")])),
        ("B", f(&[("price", "2.00 EUR")])),
    ];
    let d = diff(&items, &items);
    assert!(d.is_empty());
    assert_eq!(d.totals.unchanged, 2);
}

#[test]
fn duplicate_keys_are_refused() {
    let mut builder = DiffBuilder::new(HashMap::from([("A".to_owned(), 1)]));
    builder.push_with("A", 1, Fields::new).expect("first");
    assert_eq!(
        builder.push_with("A", 1, Fields::new),
        Err(DiffError::DuplicateKey("A".into()))
    );
    builder.push_with("N", 2, Fields::new).expect("new");
    assert_eq!(
        builder.push_with("N", 2, Fields::new),
        Err(DiffError::DuplicateKey("N".into()))
    );
}

#[test]
fn changed_items_rank_availability_then_relative_price_then_key() {
    let p = |price: &str, avail: &str| f(&[("availability", avail), ("price", price)]);
    let previous = [
        ("small", p("100.00 EUR", "in_stock")),
        ("big", p("10.00 EUR", "in_stock")),
        ("stock", p("10.00 EUR", "in_stock")),
        ("tie-b", p("10.00 EUR", "in_stock")),
        ("tie-a", p("10.00 EUR", "in_stock")),
    ];
    let current = [
        // +5 absolute but 5 %.
        ("small", p("105.00 EUR", "in_stock")),
        // +2 absolute but 20 %.
        ("big", p("12.00 EUR", "in_stock")),
        ("stock", p("10.00 EUR", "out_of_stock")),
        ("tie-b", p("11.00 EUR", "in_stock")),
        ("tie-a", p("11.00 EUR", "in_stock")),
    ];
    let d = diff(&previous, &current);
    let order: Vec<&str> = d.changed.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(order, ["stock", "big", "tie-a", "tie-b", "small"]);
}

#[test]
fn relative_change_reads_amounts_with_or_without_currency() {
    let price = RoleField::new("price", &[]);
    let change = |before: Option<&str>, after: Option<&str>| FieldChange {
        field: "price".into(),
        before: before.map(Into::into),
        after: after.map(Into::into),
    };
    let relative = |before, after| rank::relative_change(&price, &change(before, after));
    assert!((relative(Some("10 EUR"), Some("15 EUR")) - 0.5).abs() < 1e-12);
    assert!((relative(Some("10.00"), Some("18.00")) - 0.8).abs() < 1e-12);
    assert_eq!(relative(Some("0 EUR"), Some("1 EUR")), f64::INFINITY);
    assert_eq!(relative(None, Some("1 EUR")), 1.0);
    assert_eq!(relative(Some("EUR 5"), Some("EUR 6")), 1.0);
}

/// Issue #9.1: a spec whose stock is a quantity and whose price is a bare number (Amazon's
/// `fulfillment_availability` and `purchasable_offer`) ranks by them through its roles.
#[test]
fn ranking_follows_the_roles_of_any_spec() {
    let amazon = Roles {
        price: Some(RoleField::new("offer", &[])),
        quantity: Some(RoleField::new("stock", &[])),
        ..Roles::default()
    };
    let item = |key: &str, offer: &str, stock: &str| {
        (key.to_owned(), f(&[("offer", offer), ("stock", stock)]))
    };
    let previous = [
        item("cheap", "10.00", "5"),
        item("empty", "10.00", "5"),
        item("pricey", "10.00", "5"),
    ];
    let current = [
        item("cheap", "11.00", "3"),
        item("empty", "10.00", "0"),
        item("pricey", "18.00", "5"),
    ];
    let accepted: HashMap<String, u128> = previous
        .iter()
        .map(|(k, fields)| (k.clone(), content_hash(fields)))
        .collect();
    let mut builder = DiffBuilder::new(accepted);
    for (key, fields) in &current {
        builder
            .push(CurrentItem {
                key: key.clone(),
                hash: content_hash(fields),
                fields: fields.clone(),
            })
            .expect("unique keys");
    }
    let before: HashMap<String, Fields> = previous.into_iter().collect();
    let d = builder
        .finish(&mut lookup(&before), &Ranking::new(&amazon))
        .expect("diff");
    let order: Vec<&str> = d.changed.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(order, ["empty", "pricey", "cheap"]);
    // Without roles, nothing is read: the count of changed fields, then the key.
    let mut unranked = d.changed.clone();
    unranked.sort_by(|a, b| rank::compare(a, b, &Ranking::default()));
    let order: Vec<&str> = unranked.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(order, ["cheap", "empty", "pricey"]);
}

/// A channel's spelling is read back through the field's `map`: Meta's `out of stock`.
#[test]
fn availability_is_compared_in_canonical_spelling() {
    let map = [
        ("in_stock".to_owned(), "in stock".to_owned()),
        ("out_of_stock".to_owned(), "out of stock".to_owned()),
    ];
    let field = RoleField::new("availability", &map);
    assert_eq!(
        field.availability("out of stock"),
        Some(crate::model::Availability::OutOfStock)
    );
    assert_eq!(
        field.availability("in_stock"),
        Some(crate::model::Availability::InStock)
    );
    assert_eq!(field.availability("sold"), None);
}

#[test]
fn filters_narrow_lists_but_keep_totals() {
    let previous = [
        ("A", f(&[("price", "1"), ("title", "x")])),
        ("B", f(&[("price", "1"), ("title", "x")])),
        ("C", f(&[("price", "1")])),
    ];
    let current = [
        ("A", f(&[("price", "2"), ("title", "x")])),
        ("B", f(&[("price", "1"), ("title", "y")])),
        ("D", f(&[("price", "1")])),
    ];
    let d = diff(&previous, &current);
    let totals = d.totals;
    let by_field = d.clone().retain_fields(&["price"]);
    assert_eq!(
        by_field
            .changed
            .iter()
            .map(|c| c.key.as_str())
            .collect::<Vec<_>>(),
        ["A"]
    );
    assert_eq!(by_field.added.len(), 1);
    assert_eq!(by_field.totals, totals);
    let by_key = d.clone().retain_keys(&["B", "C"]);
    assert_eq!(by_key.changed.len(), 1);
    assert_eq!(by_key.removed[0].key, "C");
    assert!(by_key.added.is_empty());
    let limited = d.limit(0);
    assert!(limited.changed.is_empty() && limited.added.is_empty() && limited.removed.is_empty());
    assert_eq!(limited.totals, totals);
}

#[test]
fn json_schema_is_stable() {
    let d = diff(
        &[("A", f(&[("price", "1")]))],
        &[("A", f(&[("price", "2")]))],
    );
    let json = serde_json::to_value(&d).expect("serialize");
    assert_eq!(
        json,
        serde_json::json!({
            "totals": {"previous": 1, "current": 1, "added": 0, "changed": 1, "removed": 0, "unchanged": 0},
            "added": [],
            "changed": [{"key": "A", "fields": [{"field": "price", "before": "1", "after": "2"}]}],
            "removed": []
        })
    );
}

#[test]
fn a_shared_set_names_only_what_the_caller_looks_up() {
    let accepted: Accepted = [("A", 1u128), ("B", 2), ("C", 3)]
        .into_iter()
        .map(|(k, h)| (k.to_owned(), h))
        .collect();
    let accepted = std::sync::Arc::new(accepted);
    let mut builder = DiffBuilder::shared(std::sync::Arc::clone(&accepted));
    let unchanged = |key: &str| {
        Seen::classify(
            &accepted,
            key,
            accepted.get(key).expect("in").hash,
            Fields::new,
        )
    };
    builder.push_seen(unchanged("A")).expect("first");
    let a = accepted.get("A").expect("in").index;
    assert_eq!(
        builder.push_seen(unchanged("A")),
        Err(Duplicate::Accepted(a)),
        "an unnamed duplicate is reported by index"
    );
    let mut unnamed = builder.unnamed_removed();
    unnamed.sort_unstable();
    let mut expected = vec![
        accepted.get("B").expect("in").index,
        accepted.get("C").expect("in").index,
    ];
    expected.sort_unstable();
    assert_eq!(unnamed, expected);
    builder.name(accepted.get("B").expect("in").index, "B".into());
    assert_eq!(builder.keys_needing_before(), vec!["B"]);
    let d = builder
        .finish(&mut lookup(&HashMap::new()), &Ranking::default())
        .expect("diff");
    // C was deleted from the state before it could be named: no longer accepted.
    assert_eq!(d.totals.previous, 2);
    assert_eq!(keys_of(&d.removed), vec!["B"]);
}

fn keys_of(items: &[ItemChange]) -> Vec<&str> {
    items.iter().map(|item| item.key.as_str()).collect()
}

mod hash;

/// More changed items than one lookup takes: every one comes back from the spill file
/// paired with its own accepted values, and each key is looked up once.
#[test]
fn changed_items_spill_and_pair_with_their_accepted_values_chunk_by_chunk() {
    let n = 2 * BEFORE_CHUNK + 5;
    let previous: Vec<(String, Fields)> = (0..n)
        .map(|i| {
            (
                format!("K{i:06}"),
                f(&[("price", &format!("{i}.00 EUR")), ("title", "T")]),
            )
        })
        .collect();
    let accepted: HashMap<String, u128> = previous
        .iter()
        .map(|(k, fields)| (k.clone(), content_hash(fields)))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut builder = DiffBuilder::new(accepted).spill_in(dir.path().to_owned());
    // Odd items change their price; even ones stay.
    for (i, (key, fields)) in previous.iter().enumerate() {
        let mut fields = fields.clone();
        if i % 2 == 1 {
            fields.insert("price".into(), format!("{i}.50 EUR"));
        }
        builder
            .push(CurrentItem {
                key: key.clone(),
                hash: content_hash(&fields),
                fields,
            })
            .expect("unique");
    }
    let before: HashMap<String, Fields> = previous.into_iter().collect();
    let mut asked: Vec<String> = Vec::new();
    let mut answer = lookup(&before);
    let d = builder
        .finish(
            &mut |keys: &[&str]| {
                asked.extend(keys.iter().map(|k| (*k).to_owned()));
                answer(keys)
            },
            &Ranking::default(),
        )
        .expect("diff");
    assert_eq!(d.totals.changed, (n / 2) as u64);
    assert_eq!(d.changed.len(), n / 2);
    for item in &d.changed {
        let i: usize = item.key[1..].parse().expect("number");
        assert_eq!(
            item.fields,
            vec![FieldChange {
                field: "price".into(),
                before: Some(format!("{i}.00 EUR")),
                after: Some(format!("{i}.50 EUR")),
            }],
            "{}",
            item.key
        );
    }
    asked.sort();
    let before_len = asked.len();
    asked.dedup();
    assert_eq!((before_len, asked.len()), (n / 2, n / 2));
}

/// A push needs removed items' keys only (their accepted values are never looked up),
/// and counts added items without listing them.
#[test]
fn keys_only_lists_removed_items_by_key_and_counts_added_ones() {
    let a = f(&[("price", "1.00 EUR")]);
    let accepted: HashMap<String, u128> = [("A".to_owned(), content_hash(&a))].into();
    let mut builder = DiffBuilder::new(accepted).listing(Listing::KeysOnly);
    builder
        .push(CurrentItem {
            key: "B".into(),
            hash: 7,
            fields: Fields::new(),
        })
        .expect("unique");
    assert!(builder.keys_needing_before().is_empty());
    let d = builder
        .finish(
            &mut |keys: &[&str]| -> Result<HashMap<String, Fields>, DiffError> {
                panic!("looked up {keys:?}")
            },
            &Ranking::default(),
        )
        .expect("diff");
    assert_eq!(d.totals.removed, 1);
    assert_eq!(d.removed[0].key, "A");
    assert!(d.removed[0].fields.is_empty());
    assert_eq!(d.totals.added, 1);
    assert!(
        d.added.is_empty(),
        "a push sends added items from its spill file"
    );
    // `--limit 0` shows totals only: no added item's fields are built.
    let totals_only = Listing::Shown(Shown {
        skus: Vec::new(),
        limit: Some(0),
    });
    assert!(!totals_only.lists_fields_of("B"));
}

/// A spill folder that takes no file (`diff` on a state folder it may only read) falls
/// back to the temp folder: the diff is whole.
#[test]
fn a_spill_folder_that_takes_no_file_falls_back_to_the_temp_folder() {
    let a = f(&[("price", "1.00 EUR")]);
    let accepted: HashMap<String, u128> = [("A".to_owned(), content_hash(&a))].into();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut builder = DiffBuilder::new(accepted).spill_in(dir.path().join("gone"));
    let changed = f(&[("price", "2.00 EUR")]);
    builder
        .push(CurrentItem {
            key: "A".into(),
            hash: content_hash(&changed),
            fields: changed,
        })
        .expect("unique");
    let before = HashMap::from([("A".to_owned(), a)]);
    let d = builder
        .finish(&mut lookup(&before), &Ranking::default())
        .expect("diff");
    assert_eq!(
        d.changed[0].fields,
        vec![FieldChange {
            field: "price".into(),
            before: Some("1.00 EUR".into()),
            after: Some("2.00 EUR".into()),
        }]
    );
}

/// `diff` builds and reads fields only for the added and removed items it shows: the first
/// `limit` by key among those `--sku` names, while the totals and the removed keys stay
/// whole.
#[test]
fn a_shown_listing_keeps_fields_for_the_items_shown_only() {
    let old = |i: usize| f(&[("price", &format!("{i}.00 EUR"))]);
    // R00..R09 were accepted and are gone; A00..A09 are new, pushed in reverse order.
    let accepted: HashMap<String, u128> = (0..10)
        .map(|i| (format!("R{i:02}"), content_hash(&old(i))))
        .collect();
    let before: HashMap<String, Fields> = (0..10).map(|i| (format!("R{i:02}"), old(i))).collect();
    let shown = |skus: &[&str], limit| {
        Listing::Shown(Shown {
            skus: skus.iter().map(|s| (*s).to_owned()).collect(),
            limit,
        })
    };
    let run = |listing: Listing| {
        let mut builder = DiffBuilder::new(accepted.clone()).listing(listing);
        for i in (0..10).rev() {
            let fields = f(&[("price", &format!("1{i}.00 EUR"))]);
            builder
                .push(CurrentItem {
                    key: format!("A{i:02}"),
                    hash: content_hash(&fields),
                    fields,
                })
                .expect("unique");
        }
        let mut asked = Vec::new();
        let mut answer = lookup(&before);
        let d = builder
            .finish(
                &mut |keys: &[&str]| {
                    asked.extend(keys.iter().map(|k| (*k).to_owned()));
                    answer(keys)
                },
                &Ranking::default(),
            )
            .expect("diff");
        (d, asked)
    };
    let with_fields = |items: &[ItemChange]| -> Vec<String> {
        items
            .iter()
            .filter(|i| !i.fields.is_empty())
            .map(|i| i.key.clone())
            .collect()
    };

    let (d, asked) = run(shown(&[], Some(3)));
    assert_eq!((d.totals.added, d.totals.removed), (10, 10));
    let added: Vec<&str> = d.added.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(added, ["A00", "A01", "A02"]);
    assert_eq!(d.added[0].fields[0].after.as_deref(), Some("10.00 EUR"));
    assert_eq!(d.removed.len(), 10, "every removed key is listed");
    assert_eq!(with_fields(&d.removed), ["R00", "R01", "R02"]);
    assert_eq!(asked, ["R00", "R01", "R02"]);

    let (d, asked) = run(shown(&["A07", "R05"], None));
    assert_eq!(d.totals.added, 10);
    let added: Vec<&str> = d.added.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(added, ["A07"]);
    assert_eq!(with_fields(&d.removed), ["R05"]);
    assert_eq!(asked, ["R05"]);

    // All lists everything, with fields.
    let (d, asked) = run(Listing::All);
    assert_eq!(d.added.len(), 10);
    assert_eq!(with_fields(&d.removed).len(), 10);
    assert_eq!(asked.len(), 10);
}

/// The cutoff the workers read: once `limit` added items are kept, the largest of them;
/// it only falls, and an item at or past it (its fields never built) is not listed.
#[test]
fn the_added_cutoff_is_the_largest_kept_key_and_only_falls() {
    let mut builder = DiffBuilder::new(HashMap::new()).listing(Listing::Shown(Shown {
        skus: Vec::new(),
        limit: Some(2),
    }));
    let mut push = |key: &str, fields: Fields| {
        builder
            .push(CurrentItem {
                key: key.to_owned(),
                hash: content_hash(&fields),
                fields,
            })
            .expect("unique");
        builder.added_cutoff().map(str::to_owned)
    };
    let built = || f(&[("title", "built")]);
    assert_eq!(push("K5", built()), None);
    assert_eq!(push("K3", built()), Some("K5".into()));
    // Past the cutoff: a worker would not build its fields.
    assert_eq!(push("K7", Fields::new()), Some("K5".into()));
    assert_eq!(push("K1", built()), Some("K3".into()));
    assert_eq!(push("K4", Fields::new()), Some("K3".into()));
    let d = builder
        .finish(&mut lookup(&HashMap::new()), &Ranking::default())
        .expect("diff");
    assert_eq!(d.totals.added, 5);
    let listed: Vec<(&str, usize)> = d
        .added
        .iter()
        .map(|i| (i.key.as_str(), i.fields.len()))
        .collect();
    assert_eq!(listed, [("K1", 1), ("K3", 1)]);
}

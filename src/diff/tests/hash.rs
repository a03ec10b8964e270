//! The one record hash: a fixed value for fixed fields, the engine's hash equal to the hash
//! of what the state stores, whatever the order of a spec's fields.

use std::borrow::Cow;

use proptest::prelude::*;

use super::f;
use crate::diff::{HashInput, STORED_VALUE_CHARS, content_hash, stored_value};
use crate::export::{record_fields, record_hash};
use crate::spec::ChannelSpec;
use crate::transform::{Record, Value};

/// Computed independently (Python `xxhash.xxh3_128` over the documented encoding). Changing
/// the hash's encoding makes every stored item look changed (and re-sent) once:
/// this value may only change together with a state migration that recomputes the hashes.
#[test]
fn golden_value() {
    let fields = f(&[
        ("title", "Shirt"),
        ("price", "19.99 EUR"),
        ("availability", "in_stock"),
    ]);
    assert_eq!(
        format!("{:032x}", content_hash(&fields)),
        "d7729e2986913024cf5100feb8312e66"
    );
    assert_eq!(
        format!("{:032x}", content_hash(&f(&[]))),
        "99aa06d3014798d86001c324468d497f"
    );
}

#[test]
fn long_values_are_hashed_as_stored() {
    let long = "é".repeat(STORED_VALUE_CHARS + 5);
    let stored = stored_value(&long);
    assert!(stored.starts_with(&"é".repeat(STORED_VALUE_CHARS)));
    assert!(stored.contains("(125 chars, xxh3 "), "{stored}");
    let mut whole = HashInput::default();
    whole.push_value("description", &long);
    assert_eq!(
        whole.finish(),
        content_hash(&f(&[("description", &stored)]))
    );
    // Exactly at the limit the value is kept whole.
    let fits = "a".repeat(STORED_VALUE_CHARS);
    assert!(matches!(stored_value(&fits), Cow::Borrowed(_)));
}

/// Compiled once: compiling the shipped specs per proptest case would dominate the test.
fn google() -> &'static ChannelSpec {
    static SPEC: std::sync::OnceLock<ChannelSpec> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        let specs = crate::spec::load_all(std::path::Path::new("no-user-specs")).expect("specs");
        specs["google-merchant"].clone()
    })
}

/// The same spec with its fields in reverse order, and a record's values moved to match.
fn reversed(spec: &ChannelSpec, record: &Record<'static>) -> (ChannelSpec, Record<'static>) {
    let mut spec = spec.clone();
    spec.fields.reverse();
    let n = spec.fields.len();
    spec.fields_by_name = spec.fields_by_name.iter().map(|&i| n - 1 - i).collect();
    let mut values = record.values.clone();
    values.reverse();
    (spec, Record { values })
}

fn value() -> impl Strategy<Value = Option<Value<'static>>> {
    let text = ".{0,140}".prop_map(Cow::Owned);
    prop_oneof![
        Just(None),
        text.clone().prop_map(|t| Some(Value::Text(t))),
        proptest::collection::vec(text, 0..4).prop_map(|items| Some(Value::List(items))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The engine hashes records without building their field maps; the state and the diff
    /// hash the field maps. Both must agree on every record, or unchanged items get re-sent.
    #[test]
    fn record_hash_is_the_hash_of_the_stored_fields(
        seed in proptest::collection::vec(value(), 64),
    ) {
        let spec = google();
        let values = (0..spec.fields.len()).map(|i| seed[i % seed.len()].clone()).collect();
        let record = Record { values };
        let hash = record_hash(spec, &record);
        prop_assert_eq!(hash, content_hash(&record_fields(spec, &record)));
        let (reordered, moved) = reversed(spec, &record);
        prop_assert_eq!(hash, record_hash(&reordered, &moved));
    }
}

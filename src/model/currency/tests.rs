use std::collections::BTreeMap;

use super::*;

#[test]
fn minor_units_follow_iso_4217() {
    assert_eq!(Currency::parse("EUR").unwrap().minor_units(), Some(2));
    assert_eq!(Currency::parse("JPY").unwrap().minor_units(), Some(0));
    assert_eq!(Currency::parse("BHD").unwrap().minor_units(), Some(3));
    assert_eq!(Currency::parse("CLF").unwrap().minor_units(), Some(4));
    assert_eq!(Currency::parse("XAU").unwrap().minor_units(), None);
}

#[test]
fn unknown_withdrawn_and_lowercase_codes_are_rejected() {
    for code in ["EURO", "FRF", "eur", "", "XYZ", "DEM", "HRK", "BGN"] {
        assert!(Currency::parse(code).is_none(), "{code}");
    }
}

/// The ISO list handed over in shared/reference (datasets/currency-codes): every current code
/// is accepted with its minor units, and every code only ever withdrawn is refused.
#[test]
fn every_code_of_the_iso_list_is_judged_as_iso_does() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/iso4217-currency-codes/codes-all.csv"
    );
    let mut reader = csv::Reader::from_path(path).expect("shared/reference ISO 4217 list");
    // code -> minor units of a current row, or None when every row of it is withdrawn
    let mut codes: BTreeMap<String, Option<Option<u32>>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.expect("ISO 4217 row");
        let (code, minor, withdrawn) = (&record[2], &record[4], &record[5]);
        if code.len() != 3 {
            continue;
        }
        let entry = codes.entry(code.to_owned()).or_insert(None);
        if withdrawn.is_empty() {
            *entry = Some(minor.parse().ok());
        }
    }
    assert!(codes.len() > 250, "read {} codes", codes.len());
    for (code, current) in &codes {
        match current {
            Some(minor_units) => {
                let currency = Currency::parse(code);
                assert!(currency.is_some(), "{code} is current");
                assert_eq!(
                    currency.and_then(|c| c.minor_units()),
                    *minor_units,
                    "{code}"
                );
            }
            None => assert!(Currency::parse(code).is_none(), "{code} is withdrawn"),
        }
    }
}

//! ISO 4217 currencies with their minor units, from the list in `iso4217.csv`
//! (datasets/currency-codes, ODC-PDDL; copied from shared/reference/iso4217-currency-codes).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// A current ISO 4217 alphabetic code. Only [`Currency::parse`] makes one, so holding a
/// `Currency` means the code is known and its minor units are at hand.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

struct CurrencyInfo {
    /// Decimal places of the minor unit; `None` where ISO says "not applicable" (gold, SDR…).
    minor_units: Option<u32>,
}

fn table() -> &'static HashMap<[u8; 3], CurrencyInfo> {
    static TABLE: OnceLock<HashMap<[u8; 3], CurrencyInfo>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        let mut reader = csv::Reader::from_reader(include_str!("iso4217.csv").as_bytes());
        for record in reader.records().flatten() {
            let (code, minor, withdrawn) = (&record[2], &record[4], &record[5]);
            // Withdrawn rows (FRF, and EUR's predecessors) must not make a code current.
            if code.len() != 3 || !withdrawn.is_empty() {
                continue;
            }
            let mut key = [0u8; 3];
            key.copy_from_slice(code.as_bytes());
            table.insert(
                key,
                CurrencyInfo {
                    minor_units: minor.parse().ok(),
                },
            );
        }
        table
    })
}

impl Currency {
    /// Accepts a current three-letter code in upper case, as channels expect it.
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        table().contains_key(&bytes).then_some(Currency(bytes))
    }

    pub fn code(&self) -> &str {
        // Only ASCII codes from the table are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    pub fn minor_units(&self) -> Option<u32> {
        table().get(&self.0).and_then(|info| info.minor_units)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
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
        for code in ["EURO", "FRF", "eur", "", "XYZ", "DEM"] {
            assert!(Currency::parse(code).is_none(), "{code}");
        }
    }
}

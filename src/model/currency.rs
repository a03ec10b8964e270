//! ISO 4217 currencies with their minor units, from the `iso_currency` crate (a maintained
//! table of current codes with their exponents). Tests hold it against the ISO list in
//! `shared/reference/iso4217-currency-codes/`.

use std::fmt;

/// A current ISO 4217 alphabetic code. Only [`Currency::parse`] makes one, so holding a
/// `Currency` means the code is current and its minor units are at hand.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

/// Codes the crate marks as superseded that ISO 4217 still lists as current: Venezuela's
/// VES circulates beside the redenominated VED (table A.1 carries both).
const CURRENT_DESPITE_SUCCESSOR: &[&str] = &["VES"];

impl Currency {
    /// Accepts a current three-letter code in upper case, as channels expect it.
    pub fn parse(code: &str) -> Option<Currency> {
        // The crate also knows lower case and withdrawn codes; channels want neither.
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let currency = iso_currency::Currency::from_code(code)?;
        let withdrawn =
            currency.is_superseded().is_some() && !CURRENT_DESPITE_SUCCESSOR.contains(&code);
        (!withdrawn).then_some(Currency(currency))
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the minor unit; `None` where ISO says "not applicable" (gold, SDR…).
    pub fn minor_units(&self) -> Option<u32> {
        self.0.exponent().map(u32::from)
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
mod tests;

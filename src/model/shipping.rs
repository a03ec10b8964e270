//! Per-item shipping facts from catalog columns: the parcel's weight with its unit, and a
//! shipping price that replaces the feed's rule prices for that item.

use std::fmt;

use rust_decimal::Decimal;

use super::{AmountError, Currency, parse_amount};

/// The units Meta's catalog enum and Google's examples share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightUnit {
    Gram,
    Kilogram,
    Pound,
    Ounce,
}

impl WeightUnit {
    pub const NAMES: &str = "g, kg, lb, oz";

    fn parse(text: &str) -> Option<WeightUnit> {
        match text.to_ascii_lowercase().as_str() {
            "g" => Some(WeightUnit::Gram),
            "kg" => Some(WeightUnit::Kilogram),
            // `lbs` is how most shop systems write pounds.
            "lb" | "lbs" => Some(WeightUnit::Pound),
            "oz" => Some(WeightUnit::Ounce),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WeightUnit::Gram => "g",
            WeightUnit::Kilogram => "kg",
            WeightUnit::Pound => "lb",
            WeightUnit::Ounce => "oz",
        }
    }
}

/// A positive weight, written back as `1.5 kg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight {
    pub amount: Decimal,
    pub unit: WeightUnit,
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.as_str())
    }
}

/// Reads `1.5 kg`, `1.5kg`, `12 OZ`, `2 lbs`. The message says what is wrong and what
/// would be right, to follow the column name in a finding.
pub fn parse_weight(text: &str) -> Result<Weight, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    if unit.is_empty() {
        return Err(format!(
            "`{text}` has no unit; write the number and one of {}, e.g. `1.5 kg`",
            WeightUnit::NAMES
        ));
    }
    if number.is_empty() || unit.starts_with(',') {
        return Err(format!(
            "`{text}` does not start with a number; write e.g. `1.5 kg` (`.` as the decimal separator)"
        ));
    }
    let Some(unit) = WeightUnit::parse(unit) else {
        return Err(format!(
            "`{text}`: unit `{unit}` is not one of {}",
            WeightUnit::NAMES
        ));
    };
    let amount = Decimal::from_str_exact(number)
        .map_err(|_| format!("`{text}`: `{number}` is not a decimal number"))?;
    if amount <= Decimal::ZERO {
        return Err(format!("`{text}` is not above zero"));
    }
    Ok(Weight { amount, unit })
}

/// An item's own shipping price; without a currency it is in the item's price currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippingPrice {
    pub amount: Decimal,
    pub currency: Option<Currency>,
}

/// Reads `4.95` or `4.95 EUR`, checked against the currency's minor units (the written
/// one, else `row_currency` when the row has one).
pub fn parse_shipping_price(
    text: &str,
    row_currency: Option<Currency>,
) -> Result<ShippingPrice, String> {
    let text = text.trim();
    let (number, code) = match text.split_once(' ') {
        Some((number, code)) => (number, Some(code.trim())),
        None => (text, None),
    };
    let currency = match code {
        Some(code) => Some(Currency::parse(code).ok_or_else(|| {
            format!("`{text}`: `{code}` is not an ISO 4217 currency code such as EUR")
        })?),
        None => None,
    };
    let amount = match currency.or(row_currency) {
        Some(currency) => parse_amount(number, currency).map_err(|err| match err {
            AmountError::NotANumber(_) | AmountError::TooPrecise { .. } => err.to_string(),
        })?,
        None => Decimal::from_str_exact(number)
            .map_err(|_| format!("`{number}` is not a decimal number"))?,
    };
    if amount.is_sign_negative() {
        return Err(format!("`{text}` is below zero"));
    }
    Ok(ShippingPrice { amount, currency })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_keep_their_number_and_name_the_unit_the_channels_know() {
        for (text, written) in [
            ("1.5 kg", "1.5 kg"),
            ("1.5kg", "1.5 kg"),
            ("12 OZ", "12 oz"),
            ("2 lbs", "2 lb"),
            ("250 g", "250 g"),
            ("0.50 lb", "0.50 lb"),
        ] {
            let weight = parse_weight(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(weight.to_string(), written);
        }
        for (text, says) in [
            ("3 stone", "unit `stone` is not one of g, kg, lb, oz"),
            ("1.5", "has no unit"),
            ("kg", "does not start with a number"),
            ("1,5 kg", "`.` as the decimal separator"),
            ("0 kg", "not above zero"),
            ("1.2.3 kg", "not a decimal number"),
        ] {
            let err = parse_weight(text).expect_err(text);
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn shipping_prices_are_checked_against_their_currency() {
        let eur = Currency::parse("EUR");
        let jpy = Currency::parse("JPY");
        let price = parse_shipping_price("4.95", eur).expect("plain");
        assert_eq!(
            (price.amount.to_string(), price.currency),
            ("4.95".into(), None)
        );
        let price = parse_shipping_price("500 JPY", eur).expect("own currency");
        assert_eq!(price.currency, jpy);
        assert!(
            parse_shipping_price("4.95", jpy).is_err(),
            "JPY has no cents"
        );
        assert!(parse_shipping_price("4.95 EURO", eur).is_err());
        assert!(parse_shipping_price("-1", eur).is_err());
        assert!(parse_shipping_price("free", eur).is_err());
    }
}

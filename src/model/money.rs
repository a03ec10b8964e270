//! Money is an exact decimal amount in an ISO 4217 currency; never a float.

use std::fmt;

use rust_decimal::Decimal;

use super::currency::Currency;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("`{0}` is not a decimal number (use digits with `.` as the decimal separator)")]
    NotANumber(String),
    #[error("`{text}` has {found} decimal places but {currency} allows {allowed}")]
    TooPrecise {
        text: String,
        found: u32,
        allowed: u32,
        currency: Currency,
    },
}

/// Parses an amount as written in a catalog (`19.99`, `1999`, `0.5`) without going through
/// a float, so `0.1` stays exactly `0.1`. Thousands separators and exponents are refused:
/// they are how spreadsheets corrupt prices.
pub fn parse_amount(text: &str, currency: Currency) -> Result<Decimal, AmountError> {
    let valid_shape = !text.is_empty()
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'))
        && text.bytes().filter(|&b| b == b'.').count() <= 1
        && text.bytes().any(|b| b.is_ascii_digit());
    if !valid_shape {
        return Err(AmountError::NotANumber(text.to_owned()));
    }
    let amount =
        Decimal::from_str_exact(text).map_err(|_| AmountError::NotANumber(text.to_owned()))?;
    if let Some(allowed) = currency.minor_units() {
        // Trailing zeros (`1500.00` JPY) claim no extra precision, so only significant
        // decimals count against the currency's minor units.
        let found = amount.normalize().scale();
        if found > allowed {
            return Err(AmountError::TooPrecise {
                text: text.to_owned(),
                found,
                allowed,
                currency,
            });
        }
    }
    Ok(amount)
}

impl Money {
    /// Formats with exactly the currency's minor units (`15.00 USD`, `1500 JPY`), as the
    /// channels' price fields expect.
    pub fn amount_text(&self) -> String {
        let places = self.currency.minor_units().unwrap_or(self.amount.scale());
        let mut amount = self.amount;
        amount.rescale(places);
        // Every item of every feed formats its prices: integer arithmetic on the mantissa
        // is several times cheaper than the general decimal formatter.
        let mantissa = amount.mantissa();
        match u64::try_from(mantissa) {
            Ok(mantissa) if !amount.is_sign_negative() => {
                let scale = amount.scale();
                match 10u64.checked_pow(scale) {
                    Some(_) => decimal_text(mantissa, scale as usize),
                    None => amount.to_string(),
                }
            }
            _ => amount.to_string(),
        }
    }
}

/// `mantissa / 10^scale` written out with exactly `scale` decimals (`1999, 2` -> `19.99`).
fn decimal_text(mut mantissa: u64, scale: usize) -> String {
    // u64::MAX has 20 digits; a point and a leading zero make 22.
    let mut digits = [0u8; 24];
    let mut at = digits.len();
    let mut written = 0;
    while mantissa > 0 || written <= scale {
        if written == scale && scale > 0 {
            at -= 1;
            digits[at] = b'.';
        }
        at -= 1;
        digits[at] = b'0' + (mantissa % 10) as u8;
        mantissa /= 10;
        written += 1;
    }
    digits[at..].iter().map(|&d| char::from(d)).collect()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_text(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_text_matches_the_decimal_formatter() {
        let eur = Currency::parse("EUR").expect("EUR");
        let jpy = Currency::parse("JPY").expect("JPY");
        let bhd = Currency::parse("BHD").expect("BHD");
        for text in [
            "0",
            "0.5",
            "1",
            "19.99",
            "19.9",
            "1500",
            "0.01",
            "-3.5",
            "-0.05",
            "123456789012.34",
            "18446744073709551615",
            "79228162514264337593543950335",
        ] {
            for currency in [eur, jpy, bhd] {
                let Ok(amount) = Decimal::from_str_exact(text) else {
                    continue;
                };
                let money = Money { amount, currency };
                let places = currency.minor_units().unwrap_or(amount.scale());
                let mut expected = amount;
                expected.rescale(places);
                assert_eq!(
                    money.amount_text(),
                    expected.to_string(),
                    "{text} {currency}"
                );
            }
        }
    }

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn amounts_are_exact_and_checked_against_minor_units() {
        assert_eq!(
            parse_amount("19.99", cur("EUR")).unwrap().to_string(),
            "19.99"
        );
        assert_eq!(parse_amount("0.1", cur("EUR")).unwrap().to_string(), "0.1");
        assert_eq!(
            parse_amount("1500", cur("JPY")).unwrap().to_string(),
            "1500"
        );
        assert_eq!(
            parse_amount("1500.00", cur("JPY")).unwrap().to_string(),
            "1500.00"
        );
        assert!(matches!(
            parse_amount("1500.5", cur("JPY")),
            Err(AmountError::TooPrecise {
                found: 1,
                allowed: 0,
                ..
            })
        ));
        assert!(parse_amount("1.234", cur("BHD")).is_ok());
        assert!(parse_amount("1.2345", cur("BHD")).is_err());
        assert!(parse_amount("19.999", cur("EUR")).is_err());
    }

    #[test]
    fn spreadsheet_damage_is_not_a_number() {
        for text in [
            "1,299.00", "1.2E+3", "", ".", "12.3.4", "€12", " 12", "NaN", "--1",
        ] {
            assert!(
                matches!(
                    parse_amount(text, cur("EUR")),
                    Err(AmountError::NotANumber(_))
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn display_uses_the_currency_minor_units() {
        let money = Money {
            amount: parse_amount("15", cur("USD")).unwrap(),
            currency: cur("USD"),
        };
        assert_eq!(money.to_string(), "15.00 USD");
        let yen = Money {
            amount: parse_amount("1500", cur("JPY")).unwrap(),
            currency: cur("JPY"),
        };
        assert_eq!(yen.to_string(), "1500 JPY");
    }
}

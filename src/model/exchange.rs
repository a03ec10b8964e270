//! Currency conversion, only from an explicit rates file: `from,to,rate` rows, one rate per
//! pair, no inverse or chained rate derived. Converted amounts are rounded half-even
//! (banker's rounding) to the target currency's minor units from ISO 4217.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rust_decimal::{Decimal, RoundingStrategy};

use super::{Currency, Money, Price, Sale};

#[derive(Debug, Default)]
pub struct Rates {
    /// 1 `from` = rate `to`.
    by_pair: HashMap<(Currency, Currency), Decimal>,
}

#[derive(Debug, thiserror::Error)]
pub enum RatesError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error(
        "`{path}`: the header must be `from,to,rate`, found `{found}`\n  hint: one row per pair, e.g. EUR,CHF,0.9351 (1 EUR = 0.9351 CHF)"
    )]
    Header { path: PathBuf, found: String },
    #[error("`{path}` line {line}: {problem}")]
    Row {
        path: PathBuf,
        line: u64,
        problem: String,
    },
}

impl Rates {
    pub fn load(path: &Path) -> Result<Rates, RatesError> {
        let read = |source| RatesError::Read {
            path: path.to_owned(),
            source,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(read)?;
        let header = reader.headers().map_err(read)?.clone();
        if header.iter().collect::<Vec<_>>() != ["from", "to", "rate"] {
            return Err(RatesError::Header {
                path: path.to_owned(),
                found: header.iter().collect::<Vec<_>>().join(","),
            });
        }
        let mut rates = Rates::default();
        for row in reader.records() {
            let row = row.map_err(read)?;
            let line = row.position().map_or(0, |p| p.line());
            let problem = |problem: String| RatesError::Row {
                path: path.to_owned(),
                line,
                problem,
            };
            let currency = |code: &str| {
                Currency::parse(code).ok_or_else(|| {
                    problem(format!("`{code}` is not a current ISO 4217 currency code"))
                })
            };
            let from = currency(&row[0])?;
            let to = currency(&row[1])?;
            let rate = Decimal::from_str_exact(&row[2])
                .ok()
                .filter(|rate| rate.is_sign_positive() && !rate.is_zero())
                .ok_or_else(|| {
                    problem(format!(
                        "rate `{}` is not a positive decimal number (1 {from} = RATE {to})",
                        &row[2]
                    ))
                })?;
            if from == to {
                return Err(problem(format!("a rate from {from} to itself")));
            }
            if rates.by_pair.insert((from, to), rate).is_some() {
                return Err(problem(format!(
                    "a second rate from {from} to {to}; give each pair once"
                )));
            }
        }
        Ok(rates)
    }

    pub fn rate(&self, from: Currency, to: Currency) -> Option<Decimal> {
        self.by_pair.get(&(from, to)).copied()
    }

    /// `price` (and its sale) in `to`, or None without a rate for the pair (or for an
    /// amount too large to convert).
    pub fn convert(&self, price: &Price, to: Currency) -> Option<Price> {
        let rate = self.rate(price.regular.currency, to)?;
        let sale = match price.sale {
            Some(sale) => Some(Sale {
                price: convert(&sale.price, rate, to)?,
                ..sale
            }),
            None => None,
        };
        Some(Price {
            regular: convert(&price.regular, rate, to)?,
            sale,
        })
    }
}

/// `money * rate` in `to`, rounded half-even to `to`'s minor units (kept as computed for
/// the few codes without minor units, such as XAU). None when the product overflows the
/// decimal (a huge rate or amount): never a panic.
pub fn convert(money: &Money, rate: Decimal, to: Currency) -> Option<Money> {
    let exact = money.amount.checked_mul(rate)?;
    let amount = match to.minor_units() {
        Some(places) => exact.round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven),
        None => exact,
    };
    Some(Money {
        amount,
        currency: to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn money(amount: &str, code: &str) -> Money {
        Money {
            amount: amount.parse().unwrap(),
            currency: cur(code),
        }
    }

    #[test]
    fn halves_round_to_even_in_the_target_minor_units() {
        // 10.00 EUR * 0.12345 = 1.2345: the half goes to the even cent below.
        let rate: Decimal = "0.12345".parse().unwrap();
        assert_eq!(
            convert(&money("10.00", "EUR"), rate, cur("CHF"))
                .expect("converts")
                .to_string(),
            "1.23 CHF"
        );
        // 10.00 * 0.12355 = 1.2355: to the even cent above.
        let rate: Decimal = "0.12355".parse().unwrap();
        assert_eq!(
            convert(&money("10.00", "EUR"), rate, cur("CHF"))
                .expect("converts")
                .to_string(),
            "1.24 CHF"
        );
        // Not a half: nearest.
        let rate: Decimal = "0.123451".parse().unwrap();
        assert_eq!(
            convert(&money("10.00", "EUR"), rate, cur("CHF"))
                .expect("converts")
                .to_string(),
            "1.23 CHF"
        );
        // JPY has no minor unit, BHD three.
        let rate: Decimal = "162.5".parse().unwrap();
        assert_eq!(
            convert(&money("0.01", "EUR"), rate, cur("JPY"))
                .expect("converts")
                .to_string(),
            "2 JPY"
        );
        assert_eq!(
            convert(&money("0.03", "EUR"), rate, cur("JPY"))
                .expect("converts")
                .to_string(),
            "5 JPY"
        );
        let rate: Decimal = "0.41235".parse().unwrap();
        assert_eq!(
            convert(&money("1.00", "EUR"), rate, cur("BHD"))
                .expect("converts")
                .to_string(),
            "0.412 BHD"
        );
    }

    #[test]
    fn rates_files_are_checked_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| {
            let path = dir.path().join("rates.csv");
            std::fs::write(&path, text).unwrap();
            path
        };
        let rates = Rates::load(&write("from,to,rate\nEUR,CHF,0.9351\nEUR,GBP, 0.85\n")).unwrap();
        assert_eq!(
            rates.rate(cur("EUR"), cur("CHF")),
            Some("0.9351".parse().unwrap())
        );
        // No inverse is made up.
        assert_eq!(rates.rate(cur("CHF"), cur("EUR")), None);
        for (text, expected) in [
            ("currency,rate\n", "header must be `from,to,rate`"),
            (
                "from,to,rate\nEUR,CHF,0.9\nEUR,XYZ,1\n",
                "line 3: `XYZ` is not a current",
            ),
            (
                "from,to,rate\nEUR,CHF,-1\n",
                "line 2: rate `-1` is not a positive",
            ),
            ("from,to,rate\nEUR,CHF,1,2\n", "cannot read"),
            (
                "from,to,rate\nEUR,CHF,0.9\nEUR,CHF,0.91\n",
                "line 3: a second rate from EUR to CHF",
            ),
        ] {
            let err = Rates::load(&write(text)).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}

//! `price_adjust`: a feed's declared price rule (`"+5%"`, `"-2.00"`). Export applies it to
//! the regular and the sale price before any field or template reads them, and `check`
//! accepts a price that differs from the other channels by exactly this rule: the rule is
//! what the channel is sent, not an exemption from the check.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::{Money, Price};

/// A price rule: a percentage or a fixed amount, up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceAdjust {
    /// `+5%`: the price times 1.05.
    Percent(Decimal),
    /// `-2.00`: the price less 2.00 in the feed's currency.
    Amount(Decimal),
}

impl PriceAdjust {
    /// Reads `+5%`, `-12.5%`, `+1.50` or `-2`: a sign, a decimal number, and `%` for a share.
    pub fn parse(text: &str) -> Result<PriceAdjust, String> {
        let trimmed = text.trim();
        let explain = || {
            format!(
                "price_adjust `{text}` is not a price rule: write a sign and a number, \
                 with `%` for a percentage (`+5%`, `-10%`, `+1.50`, `-2.00`)"
            )
        };
        let (negative, rest) = match trimmed.as_bytes().first() {
            Some(b'+') => (false, &trimmed[1..]),
            Some(b'-') => (true, &trimmed[1..]),
            _ => return Err(explain()),
        };
        let (number, percent) = match rest.strip_suffix('%') {
            Some(number) => (number, true),
            None => (rest, false),
        };
        let plain = !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && number.bytes().filter(|&b| b == b'.').count() <= 1
            && number.bytes().any(|b| b.is_ascii_digit());
        if !plain {
            return Err(explain());
        }
        let mut value = Decimal::from_str_exact(number).map_err(|_| explain())?;
        if negative {
            value.set_sign_negative(true);
        }
        if percent {
            if value <= -Decimal::ONE_HUNDRED {
                return Err(format!(
                    "price_adjust `{text}` would take every price to zero or below"
                ));
            }
            Ok(PriceAdjust::Percent(value))
        } else {
            Ok(PriceAdjust::Amount(value))
        }
    }

    /// The adjusted amount, rounded half away from zero to the currency's minor units
    /// (EUR 19.99 +5% = 20.9895 -> 20.99; 10.01 -50% = 5.005 -> 5.01), as shops round. None
    /// when the result is zero or below, or too large to compute: such a price is never
    /// sent.
    pub fn apply(&self, money: Money) -> Option<Money> {
        // Checked: a rule like `+1e27%` would overflow the decimal, and must refuse the
        // price, not panic.
        let exact = match *self {
            PriceAdjust::Percent(share) => money
                .amount
                .checked_mul(Decimal::ONE_HUNDRED.checked_add(share)?)?
                .checked_div(Decimal::ONE_HUNDRED)?,
            PriceAdjust::Amount(amount) => money.amount.checked_add(amount)?,
        };
        let places = money
            .currency
            .minor_units()
            .unwrap_or_else(|| money.amount.scale());
        let amount = exact.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
        (amount > Decimal::ZERO).then_some(Money {
            amount,
            currency: money.currency,
        })
    }

    /// The price with the rule applied to its regular and its sale price (the sale keeps
    /// its window). Err names the amount the rule takes to zero or below.
    pub fn apply_price(&self, price: &Price) -> Result<Price, Money> {
        let regular = self.apply(price.regular).ok_or(price.regular)?;
        let sale = match price.sale {
            Some(sale) => Some(crate::model::Sale {
                price: self.apply(sale.price).ok_or(sale.price)?,
                ..sale
            }),
            None => None,
        };
        Ok(Price { regular, sale })
    }

    /// The amounts this rule turns into `sent`: the catalog prices that, adjusted, give it.
    /// Rounding can make two neighbours land on one price (9.99 and 10.00 at -50% both
    /// give 5.00), so there may be more than one; none when no amount gives it.
    pub fn sources_of(&self, sent: Money) -> Vec<Decimal> {
        let places = sent
            .currency
            .minor_units()
            .unwrap_or_else(|| sent.amount.scale());
        let unit = Decimal::new(1, places);
        let guess = match *self {
            PriceAdjust::Percent(share) => {
                sent.amount * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + share)
            }
            PriceAdjust::Amount(amount) => sent.amount - amount,
        }
        .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
        (-2..=2)
            .map(|step| guess + unit * Decimal::from(step))
            .filter(|&source| source > Decimal::ZERO)
            .filter(|&source| {
                self.apply(Money {
                    amount: source,
                    currency: sent.currency,
                })
                .is_some_and(|adjusted| adjusted.amount == sent.amount)
            })
            .collect()
    }
}

impl fmt::Display for PriceAdjust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (value, suffix) = match self {
            PriceAdjust::Percent(value) => (value, "%"),
            PriceAdjust::Amount(value) => (value, ""),
        };
        let sign = if value.is_sign_negative() { "" } else { "+" };
        write!(f, "{sign}{value}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Currency;

    fn money(amount: &str, code: &str) -> Money {
        Money {
            amount: Decimal::from_str_exact(amount).unwrap(),
            currency: Currency::parse(code).unwrap(),
        }
    }

    fn adjusted(rule: &str, amount: &str, code: &str) -> Option<String> {
        PriceAdjust::parse(rule)
            .unwrap()
            .apply(money(amount, code))
            .map(|m| m.amount_text())
    }

    #[test]
    fn percentages_round_half_away_from_zero_to_the_currency() {
        assert_eq!(adjusted("+5%", "19.99", "EUR").as_deref(), Some("20.99"));
        assert_eq!(adjusted("+5%", "10.00", "EUR").as_deref(), Some("10.50"));
        assert_eq!(adjusted("-50%", "10.01", "EUR").as_deref(), Some("5.01"));
        assert_eq!(adjusted("-50%", "9.99", "EUR").as_deref(), Some("5.00"));
        assert_eq!(adjusted("+10%", "1005", "JPY").as_deref(), Some("1106"));
        assert_eq!(adjusted("+12.5%", "1.000", "BHD").as_deref(), Some("1.125"));
    }

    #[test]
    fn amounts_shift_and_never_go_to_zero_or_below() {
        assert_eq!(adjusted("-2.00", "19.99", "EUR").as_deref(), Some("17.99"));
        assert_eq!(adjusted("+1.5", "3", "EUR").as_deref(), Some("4.50"));
        assert_eq!(adjusted("-2.00", "2.00", "EUR"), None);
        assert_eq!(adjusted("-2.00", "1.00", "EUR"), None);
    }

    #[test]
    fn rules_must_have_a_sign_and_a_number() {
        for bad in [
            "5%", "+", "+%", "+5,0%", "+1e3", "abc", "", "+-5%", "-100%", "-150%",
        ] {
            assert!(PriceAdjust::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PriceAdjust::parse(" +5% ").unwrap().to_string(),
            "+5%".to_owned()
        );
        assert_eq!(PriceAdjust::parse("-2.00").unwrap().to_string(), "-2.00");
    }

    #[test]
    fn sources_undo_the_rule_including_rounding_ties() {
        let rule = PriceAdjust::parse("-50%").unwrap();
        let sources = rule.sources_of(money("5.00", "EUR"));
        assert_eq!(
            sources,
            vec![
                Decimal::from_str_exact("9.99").unwrap(),
                Decimal::from_str_exact("10.00").unwrap()
            ]
        );
        let rule = PriceAdjust::parse("+5%").unwrap();
        assert_eq!(
            rule.sources_of(money("20.99", "EUR")),
            vec![Decimal::from_str_exact("19.99").unwrap()]
        );
        // No catalog price gives 10.51 at +5% (10.00 -> 10.50, 10.01 -> 10.51 does).
        assert_eq!(
            rule.sources_of(money("10.51", "EUR")),
            vec![Decimal::from_str_exact("10.01").unwrap()]
        );
        // 10.09 gives 10.59 and 10.10 gives 10.61: a +5% feed can never send 10.60.
        assert!(rule.sources_of(money("10.60", "EUR")).is_empty());
    }

    #[test]
    fn a_rule_too_large_to_compute_refuses_the_price_instead_of_panicking() {
        assert_eq!(
            adjusted("+70000000000000000000000000000%", "19.99", "EUR"),
            None
        );
        assert_eq!(
            adjusted(
                "+70000000000000000000000000000",
                "79228162514264337593543950335",
                "EUR"
            ),
            None
        );
    }
}

//! Stock quantities: one reading and one range for the inventory table's `quantity` and
//! the products' `stock` column, so a value one of them accepts the other accepts too, and
//! no feed meets a quantity the loader let through but cannot represent.

use crate::rules::{self, Rule};

/// Why a quantity cell was refused, as a finding says it.
pub struct QuantityProblem {
    pub rule: &'static Rule,
    pub message: String,
}

/// A stock quantity: a whole number from 0 to `u32::MAX` (4,294,967,295), the most one
/// location's level holds. `what` names the value in messages, e.g. "quantity 5 at `WH`".
pub fn parse_quantity(text: &str, what: &str) -> Result<u32, QuantityProblem> {
    let problem = |rule, message| Err(QuantityProblem { rule, message });
    match text.parse::<i128>() {
        Ok(quantity) if quantity < 0 => problem(
            &rules::NEGATIVE_STOCK,
            format!("{what} {quantity} is below zero"),
        ),
        Ok(quantity) => match u32::try_from(quantity) {
            Ok(quantity) => Ok(quantity),
            Err(_) => problem(
                &rules::INVALID_NUMBER,
                format!(
                    "{what} {quantity} is implausibly large (at most {})",
                    u32::MAX
                ),
            ),
        },
        Err(_) => problem(
            &rules::INVALID_NUMBER,
            format!("{what} `{text}` is not a whole number"),
        ),
    }
}

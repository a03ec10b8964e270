//! Stock quantities: one reading and one range for the inventory table's `quantity` and
//! the products' `stock` column, so a value one of them accepts the other accepts too, and
//! no feed meets a quantity the loader let through but cannot represent.

use crate::rules::{self, Rule};

/// Why a quantity cell was refused: the rule, and what is wrong with the value, to follow
/// the value's name in a finding ("quantity at `WH`: -2 is below zero").
pub struct QuantityProblem {
    pub rule: &'static Rule,
    pub reason: String,
}

/// A stock quantity: a whole number from 0 to `u32::MAX` (4,294,967,295), the most one
/// location's level holds.
pub fn parse_quantity(text: &str) -> Result<u32, QuantityProblem> {
    // Tens of millions of inventory rows take this path: the common case first.
    if let Ok(quantity) = text.parse::<u32>() {
        return Ok(quantity);
    }
    let problem = |rule, reason| Err(QuantityProblem { rule, reason });
    match text.parse::<i128>() {
        Ok(quantity) if quantity < 0 => {
            problem(&rules::NEGATIVE_STOCK, format!("{quantity} is below zero"))
        }
        Ok(quantity) => match u32::try_from(quantity) {
            Ok(quantity) => Ok(quantity),
            Err(_) => problem(
                &rules::INVALID_NUMBER,
                format!("{quantity} is implausibly large (at most {})", u32::MAX),
            ),
        },
        Err(_) => problem(
            &rules::INVALID_NUMBER,
            format!("`{text}` is not a whole number"),
        ),
    }
}

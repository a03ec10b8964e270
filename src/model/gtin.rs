//! GTIN (GS1 Global Trade Item Number): 8, 12, 13 or 14 digits with a valid check digit.

use std::fmt;

/// A GTIN that passed every check. It keeps its written length, so leading zeros survive
/// (`00012345600012` stays a GTIN-14 and is not turned into a number).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gtin {
    digits: [u8; 14],
    len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    #[error(
        "`{0}` looks like a number Excel turned into scientific notation; format the column as text and re-export"
    )]
    ScientificNotation(String),
    #[error("`{0}` contains characters other than digits")]
    NotDigits(String),
    #[error("`{text}` has {len} digits; a GTIN has 8, 12, 13 or 14")]
    Length { text: String, len: usize },
    #[error("`{0}` is all zeros, which is not an assigned GTIN")]
    AllZeros(String),
    #[error("`{text}` has check digit {found}, but GS1 gives {expected}")]
    CheckDigit {
        text: String,
        found: u8,
        expected: u8,
    },
}

impl Gtin {
    /// Parses a GTIN as written in a catalog. Spaces and dashes are ignored, as Google allows.
    pub fn parse(text: &str) -> Result<Gtin, GtinError> {
        let trimmed = text.trim();
        if trimmed.contains(['E', 'e']) && trimmed.contains('+') {
            return Err(GtinError::ScientificNotation(text.to_owned()));
        }
        let mut digits = [0u8; 14];
        let mut len = 0usize;
        for byte in trimmed.bytes() {
            match byte {
                b' ' | b'-' => {}
                b'0'..=b'9' => {
                    if len == digits.len() {
                        return Err(GtinError::Length {
                            text: text.to_owned(),
                            len: trimmed.bytes().filter(u8::is_ascii_digit).count(),
                        });
                    }
                    digits[len] = byte - b'0';
                    len += 1;
                }
                _ => return Err(GtinError::NotDigits(text.to_owned())),
            }
        }
        if !matches!(len, 8 | 12 | 13 | 14) {
            return Err(GtinError::Length {
                text: text.to_owned(),
                len,
            });
        }
        let digits_used = &digits[..len];
        if digits_used.iter().all(|&d| d == 0) {
            return Err(GtinError::AllZeros(text.to_owned()));
        }
        let expected = check_digit(&digits_used[..len - 1]);
        let found = digits_used[len - 1];
        if found != expected {
            return Err(GtinError::CheckDigit {
                text: text.to_owned(),
                found,
                expected,
            });
        }
        Ok(Gtin {
            digits,
            len: len as u8,
        })
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// GS1: weights 3,1,3,… from the digit next to the check digit leftwards.
fn check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.digits[..self.len()] {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gtin({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_leading_zeros_and_ignores_separators() {
        let gtin = Gtin::parse("0001-2345 6000 12").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gtin.to_string().len(), 14);
        assert!(gtin.to_string().starts_with("000"));
    }

    #[test]
    fn worked_example_from_gs1() {
        // GTIN-13 `629104150021?`: weighted sum 57, check digit 3.
        assert!(Gtin::parse("6291041500213").is_ok());
        assert!(matches!(
            Gtin::parse("6291041500214"),
            Err(GtinError::CheckDigit { expected: 3, .. })
        ));
    }

    #[test]
    fn rejects_the_usual_damage() {
        assert!(matches!(
            Gtin::parse("3.65275E+11"),
            Err(GtinError::ScientificNotation(_))
        ));
        assert!(matches!(
            Gtin::parse("0000000000000"),
            Err(GtinError::AllZeros(_))
        ));
        assert!(matches!(
            Gtin::parse("12345"),
            Err(GtinError::Length { len: 5, .. })
        ));
        assert!(matches!(
            Gtin::parse("123456789012345"),
            Err(GtinError::Length { .. })
        ));
        assert!(matches!(Gtin::parse("ABC"), Err(GtinError::NotDigits(_))));
    }
}

//! Number formatting for guard messages: "6,000 of 10,000 items (60.0 %)".

/// `1234567` -> `"1,234,567"`.
pub(super) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The actual share with one decimal: display only, the decision is made in integers.
pub(super) fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "100.0 %".into();
    }
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

/// A configured limit as the user wrote it: `0.2` -> `"20 %"`, `0.125` -> `"12.5 %"`.
pub(super) fn limit(share: f64) -> String {
    let text = format!("{:.4}", share * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} %")
}

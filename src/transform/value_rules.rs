//! The spec's value rules beyond type and length (`max_bytes`, `forbidden_chars`, `parts`,
//! `refused_prefixes`, `url_endings`): what a channel refuses in a value of the right type.

use crate::rules::{self, Rule};
use crate::spec::FieldSpec;

/// The spec's value rules beyond type and length: byte limit, forbidden characters, parts,
/// refused GTIN prefixes, URL endings.
pub(super) fn check(field: &FieldSpec, text: &str, problems: &mut Vec<(&'static Rule, String)>) {
    let name = &field.name;
    if let Some(max) = field.max_bytes
        && text.len() > max
    {
        problems.push((
            &rules::FEED_TOO_LONG,
            format!(
                "`{name}` has {} bytes in UTF-8; the limit is {max} bytes",
                text.len()
            ),
        ));
    }
    if let Some(forbidden) = &field.forbidden_chars
        && let Some(found) = text.chars().find(|c| forbidden.contains(*c))
    {
        problems.push((
            &rules::FEED_INVALID_VALUE,
            format!("`{name}` value `{text}` holds `{found}`, which the channel does not take"),
        ));
    }
    if let Some(parts) = &field.parts {
        let count = text.split(parts.separator.as_str()).count();
        if let Some(max) = parts.max
            && count > max
        {
            problems.push((
                &rules::FEED_INVALID_VALUE,
                format!(
                    "`{name}` value `{text}` has {count} parts joined by `{}`; at most {max}",
                    parts.separator
                ),
            ));
        }
        if let Some(max) = parts.max_length {
            for part in text.split(parts.separator.as_str()) {
                let length = part.chars().count();
                if length > max || part.trim().is_empty() {
                    problems.push((
                        &rules::FEED_INVALID_VALUE,
                        format!(
                            "`{name}` part `{part}` of `{text}` has {length} characters; each part takes 1 to {max}"
                        ),
                    ));
                }
            }
        }
    }
    if !field.refused_prefixes.is_empty()
        && let Some(digits) = gtin13_form(text)
        && let Ok(gtin13) = std::str::from_utf8(&digits)
    {
        for refused in &field.refused_prefixes {
            if let Some(prefix) = refused
                .prefixes
                .iter()
                .find(|p| gtin13.starts_with(p.as_str()))
            {
                problems.push((
                    &rules::FEED_INVALID_VALUE,
                    format!(
                        "`{name}` {text} starts with {prefix} (as GTIN-13 {gtin13}): {}",
                        refused.reason
                    ),
                ));
            }
        }
    }
    if !field.url_endings.is_empty() {
        let parsed = url::Url::parse(text).ok();
        let path = parsed.as_ref().map_or_else(
            || text.split(['?', '#']).next().unwrap_or(""),
            |url| url.path(),
        );
        // The endings are stored lower-cased; compared without a lower-cased copy per item.
        let ends_with = |ending: &str| {
            let (path, ending) = (path.as_bytes(), ending.as_bytes());
            path.len() >= ending.len()
                && path[path.len() - ending.len()..].eq_ignore_ascii_case(ending)
        };
        if !field.url_endings.iter().any(|ending| ends_with(ending)) {
            problems.push((
                &rules::FEED_INVALID_VALUE,
                format!(
                    "`{name}` value `{text}` does not end in {}; the channel takes only those files",
                    field.url_endings.join(", ")
                ),
            ));
        }
    }
}

/// The GTIN-13 form whose leading digits carry GS1 prefixes: a UPC (12 digits) with a
/// leading 0, a GTIN-14 without its packaging indicator. GTIN-8 has prefixes of its own.
/// Checked on every item's GTIN, so built on the stack.
fn gtin13_form(text: &str) -> Option<[u8; 13]> {
    let mut digits = [0u8; 14];
    let mut len = 0;
    for byte in text.bytes().filter(u8::is_ascii_digit) {
        *digits.get_mut(len)? = byte;
        len += 1;
    }
    let mut form = [b'0'; 13];
    match len {
        12 => form[1..].copy_from_slice(&digits[..12]),
        13 => form.copy_from_slice(&digits[..13]),
        14 => form.copy_from_slice(&digits[1..14]),
        _ => return None,
    }
    Some(form)
}

#[cfg(test)]
mod tests {

    fn gtin13_form(text: &str) -> Option<String> {
        super::gtin13_form(text).map(|digits| String::from_utf8_lossy(&digits).into_owned())
    }

    #[test]
    fn gs1_prefixes_are_read_on_the_gtin13_form() {
        assert_eq!(
            gtin13_form("036000291452").as_deref(),
            Some("0036000291452")
        );
        assert_eq!(
            gtin13_form("4006381333931").as_deref(),
            Some("4006381333931")
        );
        assert_eq!(
            gtin13_form("14006381333938").as_deref(),
            Some("4006381333938")
        );
        assert_eq!(gtin13_form("96385074"), None);
    }
}

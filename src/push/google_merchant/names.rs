//! Resource names of the Merchant API. A product is named
//! `{content_language}~{feed_label}~{offer_id}`; that segment must be unpadded base64url
//! (RFC 4648 §5) when a part holds `/`, `%` or `~` (productinputs.proto, `name`). It is
//! encoded here whenever a part holds anything but letters, digits, `-`, `_` and `.`: the
//! server detects the form by the tildes, and those characters need no URL escaping.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The `{product}` segment of `accounts/{account}/productInputs/{product}` and of
/// `accounts/{account}/products/{product}`.
pub fn product_segment(language: &str, feed_label: &str, offer_id: &str) -> String {
    let plain = format!("{language}~{feed_label}~{offer_id}");
    let safe = [language, feed_label, offer_id].iter().all(|part| {
        part.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    });
    if safe {
        plain
    } else {
        URL_SAFE_NO_PAD.encode(plain)
    }
}

/// A per-store record's key `{store_code}/{offer_id}` split in two (store codes hold no
/// `/`; offer ids may).
pub fn split_store_key(key: &str) -> Option<(&str, &str)> {
    key.split_once('/')
}

/// A path segment with everything but unreserved characters percent-encoded.
pub fn escape_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_is_encoded_exactly() {
        // productinputs.proto: `en~US~sku/123` must be `ZW5-VVN-c2t1LzEyMw`.
        assert_eq!(product_segment("en", "US", "sku/123"), "ZW5-VVN-c2t1LzEyMw");
        assert_eq!(product_segment("en", "US", "sku123"), "en~US~sku123");
        assert_ne!(product_segment("en", "US", "a%b"), "en~US~a%b");
        assert!(!product_segment("en", "US", "a~b").contains('~'));
    }

    #[test]
    fn store_keys_split_at_the_first_slash() {
        assert_eq!(split_store_key("S1/sku/1"), Some(("S1", "sku/1")));
        assert_eq!(escape_segment("a b/c"), "a%20b%2Fc");
    }
}

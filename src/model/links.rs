//! Links in catalogs and feeds.

/// True for the plain URLs nearly every catalog has (`https://host.example/path?q=1`), which
/// the URL parser would accept; anything unusual goes through the full parser instead.
pub fn plain_url(text: &str) -> bool {
    let rest = if let Some(rest) = text.strip_prefix("https://") {
        rest
    } else if let Some(rest) = text.strip_prefix("http://") {
        rest
    } else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(host_end);
    // A numeric last label makes WHATWG parse the host as IPv4 (`http://a.0` fails), so
    // the fast path wants a letters-only top-level label.
    let top_label_ok = host
        .rsplit('.')
        .next()
        .is_some_and(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphabetic()));
    let host_ok = !host.is_empty()
        && top_label_ok
        && host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    host_ok
        && tail.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'/'
                        | b'?'
                        | b'#'
                        | b'&'
                        | b'='
                        | b'+'
                        | b','
                        | b';'
                        | b':'
                        | b'@'
                        | b'!'
                        | b'$'
                        | b'*'
                        | b'('
                        | b')'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::plain_url as is_plain_http_url;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// The fast path may only accept what the full parser accepts as an http(s) URL.
        #[test]
        fn fast_path_never_accepts_what_the_parser_refuses(
            text in "(https?|ftp|htp)://?[a-zA-Z0-9.-]{0,12}[/?#a-zA-Z0-9._~&=+,;:@!$*()% -]{0,24}"
        ) {
            if is_plain_http_url(&text) {
                let url = url::Url::parse(&text);
                prop_assert!(url.is_ok(), "{text}");
                let url = url.unwrap();
                prop_assert!(matches!(url.scheme(), "http" | "https") && url.host().is_some());
            }
        }
    }

    #[test]
    fn typical_and_broken_urls() {
        assert!(is_plain_http_url(
            "https://shop.example.com/p/g1?variant=g1-bla-m"
        ));
        assert!(!is_plain_http_url("htp:/broken link"));
        assert!(!is_plain_http_url("https://shop example.com/"));
        assert!(
            !is_plain_http_url("https://localhost/"),
            "left to the full parser"
        );
    }
}

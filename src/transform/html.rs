//! Plain text from HTML descriptions, for channels that want no markup.

/// Drops tags, decodes the common entities and collapses white space. Works on bytes:
/// every character that matters here is ASCII, and runs of text are copied whole.
pub fn strip_html(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut pending_space = false;
    let mut i = 0;
    let mut run_start = 0;
    // Copies html[run_start..end] as text, collapsing white space.
    let flush = |out: &mut String, pending_space: &mut bool, text: &str| {
        for (n, word) in text.split(|c: char| c.is_ascii_whitespace()).enumerate() {
            if n > 0 {
                *pending_space = true;
            }
            if word.is_empty() {
                continue;
            }
            if *pending_space && !out.is_empty() {
                out.push(' ');
            }
            *pending_space = false;
            out.push_str(word);
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                flush(&mut out, &mut pending_space, &html[run_start..i]);
                // Block tags separate words: `<p>a</p><p>b</p>` reads `a b`.
                pending_space = true;
                i = memchr::memchr(b'>', &bytes[i..]).map_or(bytes.len(), |end| i + end + 1);
                run_start = i;
            }
            b'&' => {
                flush(&mut out, &mut pending_space, &html[run_start..i]);
                let (decoded, used) = decode_entity(&html[i + 1..]);
                match decoded {
                    Some(c) if c == '\u{a0}' || c.is_whitespace() => pending_space = true,
                    Some(c) => {
                        let mut buf = [0u8; 4];
                        flush(&mut out, &mut pending_space, c.encode_utf8(&mut buf));
                    }
                    None => flush(&mut out, &mut pending_space, "&"),
                }
                i += 1 + used;
                run_start = i;
            }
            _ => i += 1,
        }
    }
    flush(&mut out, &mut pending_space, &html[run_start..]);
    out
}

/// Decodes the entity after `&`; returns the character and the bytes used (incl. `;`).
fn decode_entity(rest: &str) -> (Option<char>, usize) {
    let Some(end) = rest.find(';').filter(|&end| end <= 10) else {
        return (None, 0);
    };
    let name = &rest[..end];
    let decoded = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number =
                if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    u32::from_str_radix(hex, 16).ok()
                } else {
                    name.strip_prefix('#').and_then(|dec| dec.parse().ok())
                };
            number.and_then(char::from_u32)
        }
    };
    match decoded {
        Some(c) => (Some(c), end + 1),
        None => (None, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_html;

    #[test]
    fn tags_go_entities_decode_space_collapses() {
        assert_eq!(
            strip_html("<p>Soft &amp; warm.</p><ul><li>cotton</li><li>wool</li></ul>"),
            "Soft & warm. cotton wool"
        );
        assert_eq!(
            strip_html("a&nbsp;b &#233;t&#xE9; &bogus; x"),
            "a b été &bogus; x"
        );
        assert_eq!(strip_html("  plain\n\ttext  "), "plain text");
        assert_eq!(strip_html("Tom & Jerry"), "Tom & Jerry");
        assert_eq!(
            strip_html("Gr&ouml;&szlig;e <b>XL</b>"),
            "Gr&ouml;&szlig;e XL"
        );
        assert_eq!(strip_html("unclosed <tag"), "unclosed");
    }
}

//! Plain text from HTML descriptions, for channels that want no markup.

/// Drops tags, decodes the common entities and collapses white space.
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut pending_space = false;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '<' => {
                in_tag = true;
                // Block tags separate words: `<p>a</p><p>b</p>` reads `a b`.
                pending_space = true;
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '&' => {
                let (decoded, used) = decode_entity(rest);
                match decoded {
                    Some(ch) => {
                        push(&mut out, ch, &mut pending_space);
                        rest = &rest[used..];
                    }
                    None => push(&mut out, '&', &mut pending_space),
                }
            }
            c if c.is_whitespace() => pending_space = true,
            c => push(&mut out, c, &mut pending_space),
        }
    }
    out
}

fn push(out: &mut String, c: char, pending_space: &mut bool) {
    if *pending_space && !out.is_empty() {
        out.push(' ');
    }
    *pending_space = false;
    if c == '\u{a0}' {
        out.push(' ');
    } else {
        out.push(c);
    }
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
    (decoded, end + 1)
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
    }
}

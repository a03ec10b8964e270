//! Plain text from HTML descriptions and titles, for channels that want no markup.

use std::borrow::Cow;

/// The longest HTML5 entity name (`CounterClockwiseContourIntegral`, 31 bytes) or numeric
/// reference (`#x10FFFF`) with its `;`: a `;` further away ends no entity.
const LONGEST_ENTITY: usize = 32;

/// Whether `text` needs [`strip_html`] at all: it has a tag or an entity. Plain text, nearly
/// every title and many descriptions, is told apart with one vectorised scan.
pub fn has_markup(text: &str) -> bool {
    memchr::memchr2(b'<', b'&', text.as_bytes()).is_some()
}

/// Drops tags (and the content of `<script>`, `<style>` and comments), decodes every HTML5
/// entity and collapses white space. Works on bytes: every character that matters here is
/// ASCII, and runs of text are copied whole. A `<` that opens no tag (`< 5 kg`) is text, as
/// in an HTML5 parser.
pub fn strip_html(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = PlainText {
        text: String::with_capacity(html.len()),
        pending_space: false,
    };
    let mut i = 0;
    let mut run_start = 0;
    while let Some(found) = memchr::memchr2(b'<', b'&', &bytes[i..]) {
        i += found;
        if bytes[i] == b'<' {
            let Some(after) = skip_markup(html, i) else {
                i += 1;
                continue;
            };
            out.push_text(&html[run_start..i]);
            // Tags separate words: `<p>a</p><p>b</p>` reads `a b`.
            out.pending_space = true;
            i = after;
        } else {
            let Some((decoded, after)) = decode_entity(html, i) else {
                i += 1;
                continue;
            };
            out.push_text(&html[run_start..i]);
            // `&nbsp;` and other spaces join the white space around them.
            if decoded.chars().all(char::is_whitespace) {
                out.pending_space = true;
            } else {
                out.push_word(&decoded);
            }
            i = after;
        }
        run_start = i;
    }
    out.push_text(&html[run_start..]);
    out.text
}

/// Text being built, with white space collapsed to single spaces between words.
struct PlainText {
    text: String,
    pending_space: bool,
}

impl PlainText {
    fn push_text(&mut self, text: &str) {
        for (n, word) in text.split(|c: char| c.is_ascii_whitespace()).enumerate() {
            if n > 0 {
                self.pending_space = true;
            }
            self.push_word(word);
        }
    }

    /// Appends `word`, which holds no ASCII white space.
    fn push_word(&mut self, word: &str) {
        if word.is_empty() {
            return;
        }
        if self.pending_space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.pending_space = false;
        self.text.push_str(word);
    }
}

/// Where the markup starting with the `<` at `start` ends (one past it), or None when that
/// `<` opens nothing and is text. A `<script>` or `<style>` element ends after its end tag:
/// its content is code, never text for shoppers.
fn skip_markup(html: &str, start: usize) -> Option<usize> {
    let bytes = html.as_bytes();
    let rest = &bytes[start + 1..];
    let end_of = |from: usize, needle: &[u8]| {
        memchr::memmem::find(&bytes[from..], needle).map_or(bytes.len(), |at| from + at)
    };
    match rest.first()? {
        b'!' if rest.starts_with(b"!--") => Some(end_of(start + 4, b"-->").saturating_add(3)),
        b'!' | b'?' | b'/' => Some(end_of(start, b">").saturating_add(1)),
        first if first.is_ascii_alphabetic() => {
            let tag_end = end_of(start, b">").saturating_add(1);
            let raw_text = [&b"script"[..], b"style"]
                .into_iter()
                .find(|name| opens_element(rest, name));
            Some(match raw_text {
                Some(name) => end_of_raw_text(bytes, tag_end.min(bytes.len()), name),
                None => tag_end,
            })
        }
        _ => None,
    }
    .map(|end| end.min(bytes.len()))
}

/// Whether the tag text after `<` opens element `name` (`script` in `<SCRIPT type=…>`).
fn opens_element(tag: &[u8], name: &[u8]) -> bool {
    tag.len() >= name.len()
        && tag[..name.len()].eq_ignore_ascii_case(name)
        && tag
            .get(name.len())
            .is_none_or(|&next| next == b'>' || next == b'/' || next.is_ascii_whitespace())
}

/// One past the `>` of the `</name>` that closes a raw-text element whose content starts at
/// `from`; the end of the text when it is never closed.
fn end_of_raw_text(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(found) = memchr::memmem::find(&bytes[at..], b"</") {
        let close = at + found;
        if opens_element(&bytes[close + 2..], name) {
            return memchr::memchr(b'>', &bytes[close..]).map_or(bytes.len(), |gt| close + gt + 1);
        }
        at = close + 2;
    }
    bytes.len()
}

/// Decodes the character reference at `start` (`&ouml;`, `&#246;`, `&#xF6;`) with the full
/// HTML5 table; returns its text and where it ends, or None when the `&` starts none.
fn decode_entity(html: &str, start: usize) -> Option<(Cow<'_, str>, usize)> {
    let bytes = html.as_bytes();
    let window = &bytes[start + 1..bytes.len().min(start + 1 + LONGEST_ENTITY)];
    let semicolon = memchr::memchr(b';', window)?;
    let name = &window[..semicolon];
    if name.is_empty() || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'#') {
        return None;
    }
    let end = start + 1 + semicolon + 1;
    match html_escape::decode_html_entities(&html[start..end]) {
        Cow::Owned(decoded) => Some((Cow::Owned(decoded), end)),
        // Unchanged: not a known entity, so the `&` is text.
        Cow::Borrowed(_) => None,
    }
}

#[cfg(test)]
mod tests;

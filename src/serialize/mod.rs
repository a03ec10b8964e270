//! Serializers: one channel record to bytes, in the feed's format. Each record renders on
//! its own (so records render in parallel); [`output::FeedOutput`] joins them into files.

mod direct;
pub mod file_set;
pub mod output;

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};

use crate::feed::Feed;
use crate::spec::{FieldType, FormatKind, PriceFormat};
use crate::transform::{Group, Record, Value};

pub struct Renderer<'f> {
    feed: &'f Feed,
    /// Attribute name per spec field in this format (with the namespace prefix for RSS).
    names: Vec<String>,
}

impl<'f> Renderer<'f> {
    pub fn new(feed: &'f Feed) -> Renderer<'f> {
        let format = &feed.format;
        let names = feed
            .spec
            .fields
            .iter()
            .map(|field| {
                let name = field.name_in(&format.id);
                match (&format.namespace, format.kind) {
                    (Some((prefix, _)), FormatKind::Rss) => format!("{prefix}:{name}"),
                    _ => name.to_owned(),
                }
            })
            .collect();
        Renderer { feed, names }
    }

    /// What opens every file of the feed.
    pub fn header(&self) -> Vec<u8> {
        let format = &self.feed.format;
        let mut out = Vec::new();
        match format.kind {
            FormatKind::Rss => {
                let mut writer = Writer::new(&mut out);
                let rss = &self.feed.rss;
                let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
                out.push(b'\n');
                let mut writer = Writer::new(&mut out);
                let mut root = BytesStart::new("rss");
                root.push_attribute(("version", "2.0"));
                if let Some((prefix, uri)) = &format.namespace {
                    root.push_attribute((format!("xmlns:{prefix}").as_str(), uri.as_str()));
                }
                let _ = writer.write_event(Event::Start(root));
                let _ = writer.write_event(Event::Start(BytesStart::new("channel")));
                for (name, value) in [
                    ("title", rss.title.as_deref().unwrap_or(&self.feed.id)),
                    ("link", rss.link.as_deref().unwrap_or("")),
                    (
                        "description",
                        rss.description.as_deref().unwrap_or(&self.feed.spec.name),
                    ),
                ] {
                    let _ = writer
                        .create_element(name)
                        .write_text_content(BytesText::new(value));
                }
                out.push(b'\n');
            }
            FormatKind::Delimited => {
                let mut writer = csv::WriterBuilder::new()
                    .delimiter(format.delimiter)
                    .from_writer(&mut out);
                let _ = writer.write_record(&self.names);
                let _ = writer.flush();
            }
            FormatKind::Jsonl => {}
            FormatKind::JsonDocument => out.extend_from_slice(&self.envelope().0),
        }
        out
    }

    /// What closes every file of the feed.
    pub fn footer(&self) -> Vec<u8> {
        match self.feed.format.kind {
            FormatKind::Rss => b"</channel>\n</rss>\n".to_vec(),
            FormatKind::JsonDocument => self.envelope().1,
            FormatKind::Delimited | FormatKind::Jsonl => Vec::new(),
        }
    }

    /// The envelope split around its items array, with the feed's params filled in.
    fn envelope(&self) -> (Vec<u8>, Vec<u8>) {
        const MARK: &str = "\u{1}omnifeed-items\u{1}";
        let format = &self.feed.format;
        let Some(envelope) = &format.envelope else {
            return (Vec::new(), Vec::new());
        };
        let mut envelope = fill_json(self.feed, envelope.clone());
        let pointer: String = format
            .items_pointer
            .iter()
            .map(|s| format!("/{s}"))
            .collect();
        if let Some(items) = envelope.pointer_mut(&pointer) {
            *items = serde_json::Value::String(MARK.into());
        }
        let text = envelope.to_string();
        let marker = serde_json::Value::String(MARK.into()).to_string();
        match text.split_once(&marker) {
            Some((head, tail)) => (
                format!("{head}[\n").into_bytes(),
                format!("\n]{tail}\n").into_bytes(),
            ),
            None => (text.into_bytes(), Vec::new()),
        }
    }

    /// Whether records get their running number inserted ([`Renderer::numbered`]).
    pub fn numbers_records(&self) -> bool {
        self.feed.format.item_counter.is_some()
    }

    /// Bytes between two records in one file.
    pub fn separator(&self) -> &'static [u8] {
        match self.feed.format.kind {
            FormatKind::JsonDocument => b",\n",
            _ => b"",
        }
    }

    /// A record's bytes for a json_document file, with its running number inserted.
    pub fn numbered<'r>(&self, record: &'r [u8], number: u64) -> std::borrow::Cow<'r, [u8]> {
        match (&self.feed.format.item_counter, record.first()) {
            (Some(path), Some(b'{')) if path.len() == 1 => {
                let key = serde_json::Value::String(path[0].clone()).to_string();
                let mut out = Vec::with_capacity(record.len() + 24);
                let _ = write!(out, "{{{key}:{number}");
                if record.len() > 2 {
                    out.push(b',');
                }
                out.extend_from_slice(&record[1..]);
                std::borrow::Cow::Owned(out)
            }
            _ => std::borrow::Cow::Borrowed(record),
        }
    }

    pub fn record(&self, record: &Record<'_>, out: &mut Vec<u8>) {
        match self.feed.format.kind {
            FormatKind::Rss | FormatKind::Delimited => {
                let row = out.len();
                self.row_start(out);
                for (index, value) in record.values.iter().enumerate() {
                    self.cell(index, value.as_ref(), out);
                }
                self.row_end(row, out);
            }
            FormatKind::Jsonl => {
                let object = self.json_object(record);
                let _ = serde_json::to_writer(&mut *out, &object);
                out.push(b'\n');
            }
            FormatKind::JsonDocument => {
                let object = self.json_object(record);
                let _ = serde_json::to_writer(&mut *out, &object);
            }
        }
    }

    /// Whether a record of this format is its fields' cells in a row, each rendered on its
    /// own. Per-store records then reuse the cells every store shares ([`Renderer::cells`]).
    pub fn renders_cells(&self) -> bool {
        matches!(
            self.feed.format.kind,
            FormatKind::Rss | FormatKind::Delimited
        )
    }

    /// Every field's cell of `record`, to be put together by [`Renderer::record_from_cells`].
    pub fn cells(&self, record: &Record<'_>, cells: &mut Cells) {
        cells.bytes.clear();
        cells.ends.clear();
        for (index, value) in record.values.iter().enumerate() {
            self.cell(index, value.as_ref(), &mut cells.bytes);
            cells.ends.push(cells.bytes.len());
        }
    }

    /// The record made of `cells`, except for the fields in `own` (ascending spec indices)
    /// which take their values from `values`. Same bytes as [`Renderer::record`] of the
    /// record with those values set.
    pub fn record_from_cells(
        &self,
        cells: &Cells,
        own: &[usize],
        values: &[Option<Value<'_>>],
        out: &mut Vec<u8>,
    ) {
        let row = out.len();
        self.row_start(out);
        let mut next = 0;
        let mut start = 0;
        for (index, &end) in cells.ends.iter().enumerate() {
            if own.get(next) == Some(&index) {
                self.cell(index, values.get(next).and_then(Option::as_ref), out);
                next += 1;
            } else {
                out.extend_from_slice(&cells.bytes[start..end]);
            }
            start = end;
        }
        self.row_end(row, out);
    }

    fn row_start(&self, out: &mut Vec<u8>) {
        if self.feed.format.kind == FormatKind::Rss {
            out.extend_from_slice(b"<item>");
        }
    }

    fn row_end(&self, row: usize, out: &mut Vec<u8>) {
        match self.feed.format.kind {
            FormatKind::Rss => out.extend_from_slice(b"</item>\n"),
            _ => {
                // As the csv crate does: a row of one empty cell is written as `""`, or
                // it would read as no row at all.
                if out.len() == row {
                    out.extend_from_slice(b"\"\"");
                }
                out.push(b'\n');
            }
        }
    }

    /// One field's cell. Delimited cells carry their leading delimiter (none for the first
    /// field), so a missing value still holds its column.
    fn cell(&self, index: usize, value: Option<&Value<'_>>, out: &mut Vec<u8>) {
        let format = &self.feed.format;
        match format.kind {
            FormatKind::Rss => {
                let name = self.names[index].as_bytes();
                let mut element = |text: &str| {
                    if text.is_empty() {
                        return;
                    }
                    out.push(b'<');
                    out.extend_from_slice(name);
                    out.push(b'>');
                    xml_text(text, out);
                    out.extend_from_slice(b"</");
                    out.extend_from_slice(name);
                    out.push(b'>');
                };
                match value {
                    Some(Value::Text(text)) => element(text),
                    Some(Value::List(items)) => items.iter().for_each(|item| element(item)),
                    Some(Value::Groups(groups)) => {
                        let prefix = format.namespace.as_ref().map(|(prefix, _)| prefix.as_str());
                        groups
                            .iter()
                            .for_each(|group| group_element(name, prefix, group, out));
                    }
                    None => {}
                }
            }
            _ => {
                if index > 0 {
                    out.push(format.delimiter);
                }
                match value {
                    Some(Value::Text(text)) => delimited_cell(text, format.delimiter, out),
                    Some(value @ (Value::List(_) | Value::Groups(_))) => {
                        delimited_cell(&value.joined(&format.list_separator), format.delimiter, out)
                    }
                    None => {}
                }
            }
        }
    }

    fn json_object(&self, record: &Record<'_>) -> serde_json::Value {
        let mut root = serde_json::Value::Object(serde_json::Map::new());
        for (field, value) in self.feed.spec.fields.iter().zip(&record.values) {
            let Some(value) = value else { continue };
            let json = match value {
                Value::Text(text) => scalar(field.kind, field.price_format, text),
                Value::List(items) => serde_json::Value::Array(
                    items
                        .iter()
                        .map(|item| scalar(field.kind, field.price_format, item))
                        .collect(),
                ),
                Value::Groups(groups) => serde_json::Value::Array(
                    groups
                        .iter()
                        .map(|group| {
                            group
                                .parts
                                .iter()
                                .filter(|(_, value)| !value.is_empty())
                                .map(|(name, value)| {
                                    ((*name).to_owned(), serde_json::Value::from(value.as_str()))
                                })
                                .collect::<serde_json::Map<_, _>>()
                                .into()
                        })
                        .collect(),
                ),
            };
            set_pointer(&mut root, &field.path, json);
            for (path, constant) in &field.with {
                set_pointer(
                    &mut root,
                    path,
                    serde_json::Value::String(self.feed.fill(constant)),
                );
            }
        }
        root
    }
}

/// Text content escaped as quick-xml escapes it. Most values need no escaping, and two
/// vectorized scans find that out faster than the byte-by-byte escape loop.
fn xml_text(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let plain = memchr::memchr3(b'<', b'>', b'&', bytes).is_none()
        && memchr::memchr2(b'"', b'\'', bytes).is_none();
    if plain {
        out.extend_from_slice(bytes);
    } else {
        out.extend_from_slice(quick_xml::escape::escape(text).as_bytes());
    }
}

/// One group as a nested element, its non-empty parts as child elements in the
/// attribute's namespace: `<g:shipping><g:country>DE</g:country>…</g:shipping>`.
fn group_element(name: &[u8], prefix: Option<&str>, group: &Group, out: &mut Vec<u8>) {
    out.push(b'<');
    out.extend_from_slice(name);
    out.push(b'>');
    for (part, value) in group.parts.iter().filter(|(_, value)| !value.is_empty()) {
        let open = match prefix {
            Some(prefix) => format!("{prefix}:{part}"),
            None => (*part).to_owned(),
        };
        out.push(b'<');
        out.extend_from_slice(open.as_bytes());
        out.push(b'>');
        xml_text(value, out);
        out.extend_from_slice(b"</");
        out.extend_from_slice(open.as_bytes());
        out.push(b'>');
    }
    out.extend_from_slice(b"</");
    out.extend_from_slice(name);
    out.push(b'>');
}

/// Rendered cells of one record: cell `i` is `bytes[ends[i - 1]..ends[i]]`.
#[derive(Default)]
pub struct Cells {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// One CSV/TSV cell, quoted exactly when the csv crate's default writer would quote it (a
/// delimiter, quote or line break inside), with quotes doubled.
fn delimited_cell(text: &str, delimiter: u8, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    let special = |b: u8| b == delimiter || b == b'"' || b == b'\n' || b == b'\r';
    // Most cells are a few bytes (codes, counts, prices): a plain loop beats the setup of
    // vectorized searches there.
    let needs_quotes = if bytes.len() < 32 {
        bytes.iter().any(|&b| special(b))
    } else {
        memchr::memchr3(delimiter, b'"', b'\n', bytes).is_some()
            || memchr::memchr(b'\r', bytes).is_some()
    };
    if !needs_quotes {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    let mut start = 0;
    for quote in memchr::memchr_iter(b'"', bytes) {
        out.extend_from_slice(&bytes[start..=quote]);
        out.push(b'"');
        start = quote + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// JSON numbers for numeric fields; everything else stays a string. Prices go through f64
/// only when the spec asks for a JSON number; the shortest round-trip form keeps the
/// decimal text of any price with up to 15 significant digits.
fn scalar(kind: FieldType, price_format: PriceFormat, text: &str) -> serde_json::Value {
    let numeric = matches!(kind, FieldType::Integer | FieldType::Decimal)
        || (kind == FieldType::Price && price_format == PriceFormat::Number);
    if numeric {
        if let Ok(integer) = text.parse::<i64>() {
            return serde_json::Value::from(integer);
        }
        if let Ok(float) = text.parse::<f64>()
            && let Some(number) = serde_json::Number::from_f64(float)
        {
            return serde_json::Value::Number(number);
        }
    }
    if kind == FieldType::Boolean {
        match text {
            "true" | "yes" => return serde_json::Value::Bool(true),
            "false" | "no" => return serde_json::Value::Bool(false),
            _ => {}
        }
    }
    serde_json::Value::String(text.to_owned())
}

/// Writes `value` at a JSON pointer, creating objects and arrays on the way.
pub fn set_pointer(root: &mut serde_json::Value, path: &[String], value: serde_json::Value) {
    let mut current = root;
    for segment in path {
        let index = segment.parse::<usize>().ok();
        current = match index {
            Some(index) => {
                if !current.is_array() {
                    *current = serde_json::Value::Array(Vec::new());
                }
                let serde_json::Value::Array(items) = current else {
                    return;
                };
                if items.len() <= index {
                    items.resize(index + 1, serde_json::Value::Null);
                }
                &mut items[index]
            }
            None => {
                if !current.is_object() {
                    *current = serde_json::Value::Object(serde_json::Map::new());
                }
                let serde_json::Value::Object(map) = current else {
                    return;
                };
                map.entry(segment.clone())
                    .or_insert(serde_json::Value::Null)
            }
        };
    }
    *current = value;
}

/// A json_document feed's envelope with the feed's params filled in and its items array
/// left empty, for item APIs that send documents of their own (Amazon's Feeds API).
pub fn json_envelope(feed: &Feed) -> Option<serde_json::Value> {
    feed.format
        .envelope
        .clone()
        .map(|envelope| fill_json(feed, envelope))
}

/// One item of a json_document feed built from its rendered values, as the file export
/// writes it: each field at its `path`, its `with` constants beside it.
pub fn json_item(feed: &Feed, values: &crate::push::ItemValues) -> serde_json::Value {
    let mut root = serde_json::Value::Object(serde_json::Map::new());
    for field in &feed.spec.fields {
        let Some(list) = values.get(&field.name).filter(|list| !list.is_empty()) else {
            continue;
        };
        let json = if field.repeated {
            serde_json::Value::Array(
                list.iter()
                    .map(|item| scalar(field.kind, field.price_format, item))
                    .collect(),
            )
        } else {
            scalar(field.kind, field.price_format, &list[0])
        };
        set_pointer(&mut root, &field.path, json);
        for (path, constant) in &field.with {
            set_pointer(
                &mut root,
                path,
                serde_json::Value::String(feed.fill(constant)),
            );
        }
    }
    root
}

fn fill_json(feed: &Feed, value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::String(text) => serde_json::Value::String(feed.fill(&text)),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(|v| fill_json(feed, v)).collect())
        }
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, fill_json(feed, v)))
                .filter(|(_, v)| !v.as_str().is_some_and(crate::feed::is_unfilled_optional))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::set_pointer;

    #[test]
    fn pointers_build_nested_objects_and_arrays() {
        let mut root = serde_json::json!({});
        set_pointer(
            &mut root,
            &["a".into(), "0".into(), "b".into()],
            serde_json::json!(1),
        );
        set_pointer(
            &mut root,
            &["a".into(), "0".into(), "c".into()],
            serde_json::json!("x"),
        );
        assert_eq!(root, serde_json::json!({"a": [{"b": 1, "c": "x"}]}));
    }
}

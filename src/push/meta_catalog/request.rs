//! Items -> `items_batch` calls: one `{method, data}` request per item, its fields where
//! the channel spec's `api` puts them ([`crate::push::api_body`]), grouped into calls of at
//! most `batch_size` requests and under Meta's 28 MB per call.

use serde_json::{Map, Value, json};

use crate::push::items::{ItemOperation, Operation};
use crate::spec::ChannelSpec;
use crate::spec::api::ApiEncoding;

/// Meta refuses a call over 28 MB ("Please reduce the amount of data…"); the form's other
/// fields (token, proof, flags) take well under the margin kept here.
pub(super) const MAX_CALL_BYTES: usize = 28_000_000;
const OTHER_FIELDS_MARGIN: usize = 16 * 1024;

/// One item's request, serialized, with where it came from in the engine's batch.
#[derive(Debug)]
pub(super) struct Entry {
    /// Index into the batch the engine handed over.
    pub(super) index: usize,
    /// The retailer id (the feed's item key).
    pub(super) key: String,
    /// `{"method": …, "data": …}` as JSON.
    pub(super) json: String,
    /// Bytes `json` takes once form-encoded.
    pub(super) encoded_len: usize,
}

/// The request for `operation`, or why the item cannot be sent (a value the spec's
/// encoding refuses).
pub(super) fn entry(
    spec: &ChannelSpec,
    index: usize,
    operation: &ItemOperation,
) -> Result<Entry, String> {
    let request = match &operation.operation {
        Operation::Upsert(values) => {
            let mut body = crate::push::api_body::build(spec, values, &[spec.item_key])?;
            let Value::Object(data) = &mut body else {
                return Err("the request body is not an object (a bug; please report it)".into());
            };
            clear_missing(spec, data);
            data.insert("id".into(), operation.key.clone().into());
            // UPDATE with allow_upsert creates a missing item and replaces the fields sent
            // of an existing one; with every mapped field sent (empty ones clearing), the
            // item ends up exactly as the feed has it, whatever Meta held before.
            json!({ "method": "UPDATE", "data": body })
        }
        Operation::Delete => json!({ "method": "DELETE", "data": { "id": operation.key } }),
    };
    let json = request.to_string();
    let encoded_len = form_len(&json);
    Ok(Entry {
        index,
        key: operation.key.clone(),
        json,
        encoded_len,
    })
}

/// Fields the spec maps that the item has no value for go empty (`""`, or `[]` for a list),
/// which clears them at Meta: a sale price that ended must not stay on the channel.
fn clear_missing(spec: &ChannelSpec, data: &mut Map<String, Value>) {
    for (index, field) in spec.fields.iter().enumerate() {
        if index == spec.item_key {
            continue;
        }
        if let Some(api) = &field.api
            && let [name] = api.path.as_slice()
            && !data.contains_key(name)
        {
            let empty = match api.encoding {
                ApiEncoding::List => Value::Array(Vec::new()),
                _ => Value::String(String::new()),
            };
            data.insert(name.clone(), empty);
        }
    }
}

fn form_len(text: &str) -> usize {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .map(str::len)
        .sum()
}

/// `entries` grouped into calls of at most `batch_size` requests and `max_bytes` bytes of
/// form-encoded `requests`; entries too large for any call come back on their own.
pub(super) fn calls(
    entries: Vec<Entry>,
    batch_size: usize,
    max_bytes: usize,
) -> (Vec<Vec<Entry>>, Vec<Entry>) {
    // `[`, `]` and each `,` take 3 bytes once encoded.
    let budget = max_bytes.saturating_sub(OTHER_FIELDS_MARGIN + 6);
    let mut calls = Vec::new();
    let mut too_large = Vec::new();
    let mut current: Vec<Entry> = Vec::new();
    let mut bytes = 0;
    for entry in entries {
        if entry.encoded_len > budget {
            too_large.push(entry);
            continue;
        }
        let added = entry.encoded_len + 3;
        if !current.is_empty() && (current.len() == batch_size || bytes + added > budget) {
            calls.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += added;
        current.push(entry);
    }
    if !current.is_empty() {
        calls.push(current);
    }
    (calls, too_large)
}

/// The JSON array of a call's requests.
pub(super) fn requests_json(call: &[Entry]) -> String {
    let mut out = String::with_capacity(call.iter().map(|e| e.json.len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (i, entry) in call.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&entry.json);
    }
    out.push(']');
    out
}

/// The form body of an `items_batch` call.
pub(super) fn form_body(auth: &[(&str, &str)], requests: &str) -> String {
    let mut form =
        url::form_urlencoded::Serializer::new(String::with_capacity(form_len(requests) + 1024));
    for (name, value) in auth {
        form.append_pair(name, value);
    }
    form.append_pair("item_type", "PRODUCT_ITEM");
    form.append_pair("allow_upsert", "true");
    form.append_pair("requests", requests);
    form.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_of(index: usize, len: usize) -> Entry {
        Entry {
            index,
            key: index.to_string(),
            json: String::new(),
            encoded_len: len,
        }
    }

    #[test]
    fn calls_respect_the_count_and_the_byte_budget() {
        let entries = (0..7).map(|i| entry_of(i, 10)).collect();
        let (grouped, too_large) = calls(entries, 3, MAX_CALL_BYTES);
        assert_eq!(
            grouped.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![3, 3, 1]
        );
        assert!(too_large.is_empty());

        let budget = MAX_CALL_BYTES - OTHER_FIELDS_MARGIN - 6;
        let big = budget / 2;
        let entries = vec![
            entry_of(0, big),
            entry_of(1, big),
            entry_of(2, 10),
            entry_of(3, budget + 1),
        ];
        let (grouped, too_large) = calls(entries, 5000, MAX_CALL_BYTES);
        let sizes: Vec<Vec<usize>> = grouped
            .iter()
            .map(|c| c.iter().map(|e| e.index).collect())
            .collect();
        assert_eq!(sizes, vec![vec![0], vec![1, 2]]);
        assert_eq!(too_large.len(), 1);
        assert_eq!(too_large[0].index, 3);
    }

    #[test]
    fn the_form_carries_the_flags_and_the_requests_encoded() {
        let body = form_body(&[("access_token", "t")], r#"[{"method":"DELETE"}]"#);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("access_token".into(), "t".into()),
                ("item_type".into(), "PRODUCT_ITEM".into()),
                ("allow_upsert".into(), "true".into()),
                ("requests".into(), r#"[{"method":"DELETE"}]"#.into()),
            ]
        );
    }
}

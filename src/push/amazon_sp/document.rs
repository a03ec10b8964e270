//! Operations -> feed documents: the spec's json_document envelope (its header, params
//! filled in) around one message per operation, split so that no document passes the
//! message or byte limit.
//!
//! Added and changed items go as the spec renders them, with the spec's operation
//! (`UPDATE` for Amazon). UPDATE rather than PATCH: omnifeed always has the item's whole
//! rendered content, so a full replace makes Amazon hold exactly the feed (an attribute the
//! catalog dropped disappears too), and sending it twice (a re-run after a lost answer)
//! gives the same listing. PATCH would need the previous content to compute operations and
//! could leave stale attributes behind when the state and Amazon disagree.

use serde_json::Value;

use crate::feed::Feed;
use crate::push::items::{ItemOperation, Operation};
use crate::serialize::{json_envelope, json_item, set_pointer};

/// One feed document ready to upload, and which operations of the batch it holds.
pub(super) struct Document {
    pub(super) bytes: Vec<u8>,
    /// Indices into the batch; message `i` (messageId `i + 1`) is `operations[i]`.
    pub(super) operations: Vec<usize>,
}

/// What a document is made of, taken from the spec.
pub(super) struct Layout {
    /// The envelope serialized up to and after its (empty) items array.
    head: Vec<u8>,
    tail: Vec<u8>,
    counter: Option<Vec<String>>,
    key_path: Vec<String>,
    delete: Vec<(Vec<String>, String)>,
    pub(super) max_messages: usize,
    pub(super) max_bytes: u64,
}

impl Layout {
    /// The layout of `feed`'s documents, or why the feed cannot be sent this way.
    pub(super) fn new(feed: &Feed, max_messages: usize, max_bytes: u64) -> Result<Layout, String> {
        const MARK: &str = "\u{1}omnifeed-messages\u{1}";
        let format = &feed.format;
        if format.kind != crate::spec::FormatKind::JsonDocument {
            return Err(format!(
                "format `{}` is not a json_document; kind = \"amazon-sp-api\" sends the \
                 channel's json_document messages (set format = \"json\")",
                format.id
            ));
        }
        let mut envelope =
            json_envelope(feed).ok_or_else(|| format!("format `{}` has no envelope", format.id))?;
        let text = envelope.to_string();
        if let Some(start) = unfilled(&text) {
            return Err(format!(
                "the document header still holds `{start}`: set it under [params] in the feed"
            ));
        }
        let pointer: String = format
            .items_pointer
            .iter()
            .map(|s| format!("/{s}"))
            .collect();
        match envelope.pointer_mut(&pointer) {
            Some(items) => *items = Value::String(MARK.into()),
            None => return Err(format!("the envelope has no items array at `{pointer}`")),
        }
        let text = envelope.to_string();
        let marker = Value::String(MARK.into()).to_string();
        let (head, tail) = text
            .split_once(&marker)
            .ok_or_else(|| "the envelope's items array could not be placed".to_owned())?;
        let spec = &feed.spec;
        let api = spec.api.as_ref();
        Ok(Layout {
            head: format!("{head}[").into_bytes(),
            tail: format!("]{tail}").into_bytes(),
            counter: format.item_counter.clone(),
            key_path: spec.fields[spec.item_key].path.clone(),
            delete: api.map(|api| api.delete.clone()).unwrap_or_default(),
            max_messages,
            max_bytes,
        })
    }

    /// The message `operation` becomes, without its number (given by its place in a
    /// document, known only when sending): what `push --dry-run` shows.
    pub(super) fn unnumbered_message(&self, feed: &Feed, operation: &ItemOperation) -> Value {
        let mut message = self.message(feed, operation, 0);
        if let Some(counter) = &self.counter {
            remove_pointer(&mut message, counter);
        }
        message
    }

    /// One message for `operation`, numbered `number` (from 1).
    fn message(&self, feed: &Feed, operation: &ItemOperation, number: usize) -> Value {
        let mut message = match &operation.operation {
            Operation::Upsert(values) => json_item(feed, values),
            Operation::Delete => {
                let mut message = Value::Object(serde_json::Map::new());
                set_pointer(
                    &mut message,
                    &self.key_path,
                    Value::String(operation.key.clone()),
                );
                for (path, constant) in &self.delete {
                    set_pointer(&mut message, path, Value::String(constant.clone()));
                }
                message
            }
        };
        if let Some(counter) = &self.counter {
            set_pointer(&mut message, counter, Value::from(number));
        }
        message
    }

    /// `batch` as documents under the limits, in order. A single message larger than the
    /// byte limit still gets a document of its own: Amazon judges it, not omnifeed.
    pub(super) fn documents(&self, feed: &Feed, batch: &[ItemOperation]) -> Vec<Document> {
        let frame = (self.head.len() + self.tail.len()) as u64;
        let mut documents = Vec::new();
        let mut bytes = self.head.clone();
        let mut operations = Vec::new();
        for (index, operation) in batch.iter().enumerate() {
            let mut encoded =
                serde_json::to_vec(&self.message(feed, operation, operations.len() + 1))
                    .unwrap_or_default();
            let grown = bytes.len() as u64 + 1 + encoded.len() as u64 + self.tail.len() as u64;
            let full = operations.len() == self.max_messages
                || (!operations.is_empty() && grown > self.max_bytes.max(frame));
            if full {
                bytes.extend_from_slice(&self.tail);
                documents.push(Document {
                    bytes: std::mem::replace(&mut bytes, self.head.clone()),
                    operations: std::mem::take(&mut operations),
                });
                // Renumbered: messageIds start at 1 in each document.
                encoded = serde_json::to_vec(&self.message(feed, operation, 1)).unwrap_or_default();
            }
            if !operations.is_empty() {
                bytes.push(b',');
            }
            bytes.extend_from_slice(&encoded);
            operations.push(index);
        }
        if !operations.is_empty() {
            bytes.extend_from_slice(&self.tail);
            documents.push(Document { bytes, operations });
        }
        documents
    }
}

/// The first `{name}` placeholder left in `text`, if any.
fn unfilled(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let candidate = &rest[open + 1..];
        if let Some(close) = candidate.find('}') {
            let name = &candidate[..close];
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '?')
            {
                return Some(format!("{{{name}}}"));
            }
        }
        rest = &rest[open + 1..];
    }
    None
}

/// Removes the value at `path` (object keys), if there is one.
fn remove_pointer(root: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for key in parents {
        match node.get_mut(key.as_str()) {
            Some(child) => node = child,
            None => return,
        }
    }
    if let Value::Object(map) = node {
        map.remove(last.as_str());
    }
}

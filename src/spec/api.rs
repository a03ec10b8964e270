//! How a channel's item API takes its items, declared in the spec: `[api]` for the limits a
//! destination starts from, and per field `api = "productAttributes.title"` (or a table)
//! for where the field's value goes in the request body and how it is encoded. The
//! transport reads these; it holds no list of attributes of its own.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::FieldType;

/// `[api]`: the defaults of an item-level destination (`[destination]` overrides them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    /// Requests in flight at once.
    pub concurrency: Option<usize>,
    /// Requests started per second, at most.
    pub requests_per_second: Option<u32>,
    /// Requests started per minute, at most.
    pub requests_per_minute: Option<u32>,
    /// Where fields without an `api` path go, as `{name, value}` pairs (Google:
    /// `customAttributes`). Without it such fields are not sent.
    pub custom_attributes: Option<String>,
    /// For a channel that takes whole documents through a feeds API (Amazon's SP-API
    /// Feeds): the feed type each document is created as, e.g. `JSON_LISTINGS_FEED`. Its
    /// items are built from the fields' `path`s, as the json_document export writes them.
    pub feed_type: Option<String>,
    /// The Content-Type such a document is declared and uploaded with.
    pub document_content_type: Option<String>,
    /// JSON pointer -> constant: what a delete message holds besides the item key and the
    /// item counter (Amazon: `"/operationType" = "DELETE"`).
    #[serde(default)]
    pub delete: BTreeMap<String, String>,
}

/// A field's `api`: a dotted path in the request body, or a table with the encoding.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawApiField {
    Path(String),
    Table(RawApiTable),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApiTable {
    /// Dotted path in the request body, e.g. `productAttributes.identifierExists`.
    pub path: String,
    /// How the value is encoded (default: from the field's type, see [`ApiEncoding`]).
    #[serde(rename = "as")]
    pub encoding: Option<ApiEncoding>,
    /// Channel spelling -> API spelling, for `enum` values the default (upper case, runs
    /// of other characters as `_`) does not give: `"2-day" = "TWO_DAY"`.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// How a value is written in a JSON request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiEncoding {
    /// A string (the default for text, url and gtin fields).
    Text,
    /// An array of strings (the default for repeated fields; a single value becomes one).
    List,
    /// `{amountMicros: "<int64>", currencyCode}` from `15.00 EUR` (price fields).
    Price,
    /// An enum name: the `values` spelling, else upper case with `_` (enum fields).
    Enum,
    /// `true` for yes/true, `false` for no/false (boolean fields).
    Boolean,
    /// An int64, written as a JSON string as proto3 JSON does (integer fields).
    Integer,
    /// A JSON number (decimal fields).
    Number,
    /// An RFC 3339 time (date fields).
    Timestamp,
    /// `{startTime, endTime}` from `start/end` (date_range fields).
    Interval,
    /// `{value: <number>, unit}` from `1.5 kg`.
    Measure,
}

/// A field's compiled `api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiField {
    /// The body path, split at the dots.
    pub path: Vec<String>,
    pub encoding: ApiEncoding,
    pub values: BTreeMap<String, String>,
}

/// The compiled `[api]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiSpec {
    pub concurrency: Option<usize>,
    pub requests_per_second: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub custom_attributes: Option<Vec<String>>,
    pub feed_type: Option<String>,
    pub document_content_type: Option<String>,
    /// A delete message's constants, by JSON pointer split at the `/`s.
    pub delete: Vec<(Vec<String>, String)>,
}

impl ApiSpec {
    pub fn compile(raw: &RawApi) -> Result<ApiSpec, Vec<String>> {
        let mut problems = Vec::new();
        if raw.concurrency == Some(0) {
            problems.push("[api] concurrency must be at least 1".to_owned());
        }
        for (name, value) in [
            ("requests_per_second", raw.requests_per_second),
            ("requests_per_minute", raw.requests_per_minute),
        ] {
            if value == Some(0) {
                problems.push(format!("[api] {name} must be at least 1"));
            }
        }
        let custom_attributes = match &raw.custom_attributes {
            Some(path) => match split_path(path) {
                Some(path) => Some(path),
                None => {
                    problems.push(format!(
                        "[api] custom_attributes = {path:?} is not a dotted path"
                    ));
                    None
                }
            },
            None => None,
        };
        let mut delete = Vec::new();
        for (pointer, constant) in &raw.delete {
            match pointer.strip_prefix('/') {
                Some(rest) if !rest.is_empty() => delete.push((
                    rest.split('/').map(str::to_owned).collect(),
                    constant.clone(),
                )),
                _ => problems.push(format!(
                    "[api] delete: {pointer:?} is not a JSON pointer like \"/operationType\""
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ApiSpec {
            concurrency: raw.concurrency,
            requests_per_second: raw.requests_per_second,
            requests_per_minute: raw.requests_per_minute,
            custom_attributes,
            feed_type: raw.feed_type.clone(),
            document_content_type: raw.document_content_type.clone(),
            delete,
        })
    }
}

impl ApiField {
    /// `raw` for a field of type `kind`; the problem, if any, for the caller to prefix.
    pub fn compile(raw: &RawApiField, kind: FieldType, repeated: bool) -> Result<ApiField, String> {
        let (path, encoding, values) = match raw {
            RawApiField::Path(path) => (path, None, BTreeMap::new()),
            RawApiField::Table(table) => (&table.path, table.encoding, table.values.clone()),
        };
        let path = split_path(path)
            .ok_or_else(|| format!("api path {path:?} is not a dotted path like `a.b`"))?;
        if matches!(kind, FieldType::Group) {
            // Shipping and tax records are nested messages in the API; no encoding maps a
            // group's parts onto them yet.
            return Err(
                "a `group` field (shipping, tax) cannot be sent through `api` yet".to_owned(),
            );
        }
        let encoding = encoding.unwrap_or(match kind {
            _ if repeated => ApiEncoding::List,
            FieldType::Group => ApiEncoding::List,
            FieldType::Text | FieldType::Url | FieldType::Gtin => ApiEncoding::Text,
            FieldType::Price => ApiEncoding::Price,
            FieldType::Enum => ApiEncoding::Enum,
            FieldType::Boolean => ApiEncoding::Boolean,
            FieldType::Integer => ApiEncoding::Integer,
            FieldType::Decimal => ApiEncoding::Number,
            FieldType::Date => ApiEncoding::Timestamp,
            FieldType::DateRange => ApiEncoding::Interval,
        });
        if !values.is_empty() && encoding != ApiEncoding::Enum {
            return Err("api `values` apply to `as = \"enum\"` only".to_owned());
        }
        Ok(ApiField {
            path,
            encoding,
            values,
        })
    }
}

fn split_path(path: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    let valid = parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    valid.then_some(parts)
}

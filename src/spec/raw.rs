//! The channel spec file format (`channel-specs/*.toml`), exactly as serde reads it.
//! These doc comments are the reference for spec authors; `channel-specs/README.md`
//! explains the format with examples. `compile` turns a `RawSpec` into a checked
//! [`super::ChannelSpec`].

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub channel: RawChannel,
    /// Output formats by id (`xml`, `tsv`, `csv`, `jsonl`, `json`): a feed picks one.
    pub formats: BTreeMap<String, RawFormat>,
    /// The channel's attributes, in output order. Spanned so that a problem found when the
    /// spec compiles names the line of the field it is about.
    pub fields: Vec<toml::Spanned<RawField>>,
    /// Groups of fields of which an item needs at least one (Meta: brand, GTIN or MPN).
    #[serde(default)]
    pub at_least_one_of: Vec<RawOneOf>,
    /// The channel's item API (limits and custom attributes), for item-level destinations.
    pub api: Option<super::api::RawApi>,
}

/// `[[at_least_one_of]]`: an item with every one of `fields` empty is refused (or warned
/// about, for `unconfirmed`), when `when` holds or there is no `when`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOneOf {
    pub fields: Vec<String>,
    pub when: Option<RawCondition>,
    #[serde(default)]
    pub confidence: Confidence,
    /// Where the rule comes from.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    /// Must equal the file stem: `google-merchant.toml` has `id = "google-merchant"`.
    pub id: String,
    pub name: String,
    /// Where the facts come from.
    #[serde(default)]
    pub docs: Vec<String>,
    /// The field whose value identifies an item to the channel (diffs and state key on it).
    pub item_key: String,
    /// The channel drops items not re-sent within this many days; pushes re-send
    /// unchanged items before then.
    pub refresh_days: Option<u32>,
    /// One record per item and store (local inventory) instead of one per item.
    #[serde(default)]
    pub per_store: bool,
    /// The channel applies a sale price only between the dates of its effective date
    /// range, so a sale that has not started yet may be sent ahead with its dates. Without
    /// it an upcoming sale is held back until it starts (the regular price is sent).
    #[serde(default)]
    pub sale_effective_dates: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatKind {
    /// RSS 2.0 with a namespace for the attributes (`<g:id>`).
    Rss,
    /// CSV or TSV with a header row.
    Delimited,
    /// One JSON object per line.
    Jsonl,
    /// One JSON document per file: an envelope with the items in an array
    /// (Amazon JSON_LISTINGS_FEED).
    JsonDocument,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLimit {
    /// Write numbered files (`feed-0001.xml`, …), each within the limits.
    Split,
    /// Refuse to write the feed.
    Fail,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormat {
    pub kind: FormatKind,
    /// File extension without the dot (default by kind: xml, csv/tsv, jsonl, json).
    pub extension: Option<String>,
    /// `rss`: namespace prefix and URI of the attribute elements.
    pub namespace_prefix: Option<String>,
    pub namespace_uri: Option<String>,
    /// `delimited`: one character, `"\t"` for TSV (default `,`).
    pub delimiter: Option<String>,
    /// How several values of a repeated field share one cell (default `,`).
    pub list_separator: Option<String>,
    /// `json_document`: the document around the items, as JSON text. String values may use
    /// `{param}` placeholders filled from the feed's `[params]` (e.g. `{seller_id}`).
    pub envelope: Option<String>,
    /// `json_document`: JSON pointer of the items array inside the envelope (`/messages`).
    pub items_pointer: Option<String>,
    /// `json_document`: JSON pointer inside each item that gets a running number from 1.
    pub item_counter: Option<String>,
    /// File limits; past them the feed is split or fails, as `on_limit` says.
    pub max_bytes: Option<u64>,
    pub max_items: Option<u64>,
    pub on_limit: Option<OnLimit>,
    /// Longest line in bytes (Meta XML: 5,242,880); an item past it is rejected.
    pub max_line_bytes: Option<u64>,
    /// Gzip the files unless the feed says `gzip = false` (OpenAI takes only `.gz` uploads).
    #[serde(default)]
    pub gzip: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    /// Absolute http(s) URL.
    Url,
    /// Money in the feed's currency; see `price_format`.
    Price,
    Gtin,
    /// One of `values` (after `map`).
    Enum,
    /// A date-time, written with `date_format`.
    Date,
    /// `start/end`, each written with `date_format`.
    DateRange,
    Integer,
    Decimal,
    Boolean,
    /// Records of sub-attributes (`source = "shipping"` or `"tax"`), laid out by `group_parts`.
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// An item without it is rejected from the feed (error).
    Required,
    /// An item without it gets a warning and stays.
    Recommended,
    #[default]
    Optional,
    /// Required when `required_when` holds, otherwise optional.
    Conditional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TooLong {
    /// Reject the item (error).
    Error,
    /// Cut at the last word boundary within the limit, with a warning.
    Truncate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Stated by the channel's own documentation, proto or schema.
    #[default]
    Confirmed,
    /// Only third-party sources state it.
    ThirdParty,
    /// No source states it: every error this field would raise is a warning instead.
    Unconfirmed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceFormat {
    /// `15.00 USD` (default).
    AmountCurrency,
    /// `15.00` as text.
    Amount,
    /// `15.00` as a JSON number (json kinds only).
    Number,
}

/// When a `conditional` field is required, or a `fallback` applies. Every given key must
/// hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    /// The channel value of this field (by channel field name)…
    pub field: Option<String>,
    /// …is one of these (after mapping to the channel's spelling)…
    #[serde(rename = "in")]
    pub one_of: Option<Vec<String>>,
    /// …or is none of these (an empty value is none of them): `mpn` is required unless
    /// `identifier_exists` says `no`.
    pub not_in: Option<Vec<String>>,
    /// Holds when this channel field is empty, or every one of these is (`mpn` when there
    /// is no `gtin`; `identifier_exists = no` when there is neither `gtin` nor `mpn`).
    pub empty: Option<OneOrMany>,
    /// Required when the item's Google product category is one of these taxonomy ids or
    /// below one (`166` = Apparel & Accessories).
    pub category_under: Option<Vec<String>>,
    /// Holds when the item's category is none of these ids nor below one: the
    /// sub-categories a requirement exempts (Google `gender`: Keychains 175, …).
    pub not_category_under: Option<Vec<String>>,
    /// Holds when the feed's target country is one of these ISO 3166-1 alpha-2 codes
    /// (Microsoft `shipping`: AT and DE).
    pub country_in: Option<Vec<String>>,
}

/// One name, or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn names(&self) -> &[String] {
        match self {
            OneOrMany::One(name) => std::slice::from_ref(name),
            OneOrMany::Many(names) => names,
        }
    }
}

/// A value the channel documents for items that have none, sent with a warning
/// (`feed.fallback`) when `when` holds: Google takes products without any identifier
/// when they say `identifier_exists = no`. A feed turns it off with `no_fallback`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFallback {
    pub value: String,
    pub when: RawCondition,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    /// The channel's attribute name, as written in every format unless `names` says otherwise.
    pub name: String,
    /// Per-format spelling: `{ tsv = "image link" }`.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Where the value comes from: a canonical catalog field (`sku`, `title`, `gtin`, …), a
    /// derived value (`availability`, `description_text`, `quantity`, `sale_price`,
    /// `sale_price_effective_date`, `store_code`, `store_quantity`, `store_availability`,
    /// `feed.country`, `feed.language`, `feed.currency`, and for `group` fields `shipping`
    /// and `tax`, the feed's rules), or `custom.NAME` for an unmapped
    /// catalog column. Defaults to `name`. Feeds can override any field with a template.
    pub source: Option<String>,
    /// A constant instead of a source.
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub requirement: Requirement,
    pub required_when: Option<RawCondition>,
    /// The value an item without one gets when a condition holds (see [`RawFallback`]).
    pub fallback: Option<RawFallback>,
    pub min_length: Option<usize>,
    /// In characters (Unicode scalar values).
    pub max_length: Option<usize>,
    pub on_too_long: Option<TooLong>,
    /// Several values (repeated element in XML, joined with the list separator in text).
    #[serde(default)]
    pub repeated: bool,
    pub max_values: Option<usize>,
    /// Allowed values for `enum`, in the channel's spelling.
    pub values: Option<Vec<String>>,
    /// Canonical value -> channel spelling, applied before checking `values`
    /// (e.g. `in_stock = "in stock"`).
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    #[serde(default)]
    pub confidence: Confidence,
    /// Plain text: remove HTML tags and the content of `<script>`/`<style>`, decode every
    /// HTML5 entity (also in text without tags) and collapse white space.
    #[serde(default)]
    pub strip_html: bool,
    /// strftime pattern for `date` and `date_range` (default `%Y-%m-%dT%H:%M%z`).
    pub date_format: Option<String>,
    pub price_format: Option<PriceFormat>,
    /// json kinds: JSON pointer where the value goes (default `/NAME`).
    pub path: Option<String>,
    /// json kinds: other pointers written with the value, constants or `{param}`
    /// placeholders (`"/attributes/item_name/0/marketplace_id" = "{marketplace_id}"`).
    #[serde(default)]
    pub with: BTreeMap<String, String>,
    /// What the field means to guards and diff ranking: `price`, `sale_price`,
    /// `availability`, `quantity` or `currency`; at most one field per role.
    pub role: Option<super::roles::Role>,
    /// Where an item-level destination puts the value in its request body: a dotted path
    /// (`productAttributes.title`), or `{ path, as, values }` (see [`super::api`]).
    pub api: Option<super::api::RawApiField>,
    /// `group` fields: the sub-attributes in the channel's text order (`country`,
    /// `region`, `postal_code`, `region_or_postal_code`, `service`, `price`,
    /// `min_handling_time`, `max_handling_time`, `min_transit_time`, `max_transit_time`;
    /// for tax `rate` and `tax_ship`). RSS nests them as elements; text joins them.
    #[serde(default)]
    pub group_parts: Vec<String>,
    /// `group` fields in text formats: what joins the parts (default `:`).
    pub part_separator: Option<String>,
    /// `group` fields: ISO 3166-1 countries where the channel requires them. A feed for
    /// one of these countries must define `[[shipping.rules]]` (or `[[tax.rules]]`) for
    /// it, or it is refused when it loads.
    #[serde(default)]
    pub rules_required_in: Vec<String>,
    /// Why the field is as it is; where a limit comes from.
    pub note: Option<String>,
    /// Largest value in UTF-8 bytes (Google `instore_product_location`: 20 bytes).
    pub max_bytes: Option<usize>,
    /// A value made of parts joined by a separator, each checked on its own (Google
    /// `color`: up to 3 colours joined by `/`, each at most 40 characters).
    pub parts: Option<RawParts>,
    /// Characters the value must not hold (Google `color`: no commas).
    pub forbidden_chars: Option<String>,
    /// `gtin` fields: GTIN prefixes the channel refuses, with the channel's reason.
    #[serde(default)]
    pub refused_prefixes: Vec<RawRefusedPrefixes>,
    /// `date` fields: the latest date accepted, in days after the run (Google
    /// `availability_date`: at most one year ahead).
    pub max_days_ahead: Option<u32>,
    /// `url` fields: the endings (of the URL's path, any case) the channel accepts
    /// (TikTok images: `.jpeg`, `.jpg`, `.png`).
    pub url_endings: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParts {
    pub separator: String,
    /// Most parts.
    pub max: Option<usize>,
    /// Longest part, in characters.
    pub max_length: Option<usize>,
}

/// GTIN prefixes refused for one reason. Prefixes are read on the GTIN-13 form of the
/// value: a 12-digit UPC gets a leading 0 (so UPC `2…` is `02…`), a GTIN-14 loses its
/// packaging indicator; GTIN-8 values are not checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRefusedPrefixes {
    pub prefixes: Vec<String>,
    /// What the channel calls these numbers, for the message.
    pub reason: String,
}

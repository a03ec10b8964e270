//! Checks a parsed spec and turns it into the form the feed stages use: names resolved to
//! indexes, sources to enums, pointers split. Collects every problem, not just the first.

use std::collections::{BTreeMap, HashSet};

use super::SpecOrigin;
use super::parts::Part;
use super::raw::{
    Confidence, FieldType, FormatKind, OnLimit, PriceFormat, RawCondition, RawField, RawFormat,
    RawOneOf, RawSpec, Requirement, TooLong,
};
use super::roles::{Role, RoleField, Roles};
use crate::model::Field;

#[derive(Debug, Clone)]
pub struct ChannelSpec {
    pub id: String,
    pub name: String,
    pub docs: Vec<String>,
    /// Index into `fields` of the field that identifies an item.
    pub item_key: usize,
    pub refresh_days: Option<u32>,
    pub per_store: bool,
    /// The channel schedules a sale by its effective dates: an upcoming sale may be sent
    /// ahead (`[channel] sale_effective_dates`).
    pub sale_effective_dates: bool,
    /// Per-store channels: index of the field holding the store code, part of every key.
    pub store_code_field: Option<usize>,
    pub formats: BTreeMap<String, FormatSpec>,
    pub fields: Vec<FieldSpec>,
    /// Indices into `fields`, sorted by field name: the order the content hash reads them
    /// in, computed once here rather than per record.
    pub fields_by_name: Vec<usize>,
    /// The fields guards and diff ranking read prices and stock from.
    pub roles: Roles,
    /// `[[at_least_one_of]]` groups.
    pub at_least_one_of: Vec<OneOf>,
    /// `[api]`: the channel's item API, for item-level destinations.
    pub api: Option<super::api::ApiSpec>,
    pub origin: SpecOrigin,
}

/// Fields of which an item needs at least one, when `when` holds (or always).
#[derive(Debug, Clone)]
pub struct OneOf {
    pub fields: Vec<usize>,
    pub when: Option<Condition>,
    pub confidence: Confidence,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FormatSpec {
    pub id: String,
    pub kind: FormatKind,
    pub extension: String,
    /// `rss`: (prefix, URI).
    pub namespace: Option<(String, String)>,
    pub delimiter: u8,
    pub list_separator: String,
    /// `json_document`: the envelope with `{param}` placeholders still in it.
    pub envelope: Option<serde_json::Value>,
    pub items_pointer: Vec<String>,
    pub item_counter: Option<Vec<String>>,
    pub max_bytes: Option<u64>,
    pub max_items: Option<u64>,
    pub on_limit: OnLimit,
    pub max_line_bytes: Option<u64>,
    /// Files are gzipped unless the feed says otherwise.
    pub gzip: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    Availability,
    DescriptionText,
    Quantity,
    StoreCode,
    StoreQuantity,
    StoreAvailability,
    /// The store's `pickup_method` column in the locations table.
    StorePickupMethod,
    /// The store's `pickup_sla` column in the locations table.
    StorePickupSla,
    /// The store's own price (store prices table), else the online price.
    StorePrice,
    /// The store's own sale price (store prices table), else the online sale price.
    StoreSalePrice,
    FeedCountry,
    FeedLanguage,
    FeedCurrency,
    /// The feed's `[shipping]` rules, with the item's own price and free-above applied.
    Shipping,
    /// The feed's `[tax]` rules.
    Tax,
    /// The GTIN's kind by length: `gtin8`, `gtin12` (UPC), `gtin13` (EAN), `gtin14`.
    GtinKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    Field(Field),
    Derived(Derived),
    /// An unmapped catalog column.
    Custom(String),
    Const(String),
}

/// When a conditional field is required, or a fallback applies; every part that is set
/// must hold.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    pub field: Option<usize>,
    /// The values `field` must have; with `negated`, the values it must not have.
    pub one_of: Vec<String>,
    pub negated: bool,
    /// Fields that must all be empty.
    pub empty: Vec<usize>,
    pub category_under: Vec<u32>,
    /// Exempt categories: the item's category must be none of these nor below one.
    pub not_category_under: Vec<u32>,
    /// The feed's target country must be one of these.
    pub countries: Vec<String>,
}

impl Condition {
    /// Every taxonomy id the condition names.
    pub fn category_ids(&self) -> impl Iterator<Item = &u32> {
        self.category_under.iter().chain(&self.not_category_under)
    }
}

/// A value made of parts (`red/green/blue`), each checked on its own.
#[derive(Debug, Clone)]
pub struct Parts {
    pub separator: String,
    pub max: Option<usize>,
    pub max_length: Option<usize>,
}

/// GTIN prefixes a channel refuses, read on the GTIN-13 form, and the channel's reason.
#[derive(Debug, Clone)]
pub struct RefusedPrefixes {
    pub prefixes: Vec<String>,
    pub reason: String,
}

/// A field's value for items that have none, when `when` holds.
#[derive(Debug, Clone)]
pub struct Fallback {
    pub value: String,
    pub when: Condition,
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: String,
    pub names: BTreeMap<String, String>,
    pub source: ValueSource,
    pub kind: FieldType,
    pub requirement: Requirement,
    pub condition: Option<Condition>,
    pub fallback: Option<Fallback>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub on_too_long: TooLong,
    pub repeated: bool,
    pub max_values: Option<usize>,
    pub values: Option<Vec<String>>,
    pub map: Vec<(String, String)>,
    pub confidence: Confidence,
    pub strip_html: bool,
    pub date_format: String,
    pub price_format: PriceFormat,
    pub path: Vec<String>,
    pub with: Vec<(Vec<String>, String)>,
    pub role: Option<Role>,
    /// Where an item-level destination sends the value (see [`super::api`]).
    pub api: Option<super::api::ApiField>,
    /// `group` fields: sub-attributes in text order.
    pub group_parts: Vec<Part>,
    pub part_separator: String,
    pub rules_required_in: Vec<String>,
    pub note: Option<String>,
    pub max_bytes: Option<usize>,
    pub parts: Option<Parts>,
    pub forbidden_chars: Option<String>,
    pub refused_prefixes: Vec<RefusedPrefixes>,
    pub max_days_ahead: Option<u32>,
    /// Lower-cased endings of the URL path.
    pub url_endings: Vec<String>,
}

impl FieldSpec {
    /// The attribute name in one format.
    pub fn name_in(&self, format: &str) -> &str {
        self.names.get(format).map_or(&self.name, String::as_str)
    }
}

impl ChannelSpec {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

pub fn parse_source(text: &str) -> Option<ValueSource> {
    let derived = match text {
        "availability" => Some(Derived::Availability),
        "description_text" => Some(Derived::DescriptionText),
        "quantity" => Some(Derived::Quantity),
        "store_code" => Some(Derived::StoreCode),
        "store_quantity" => Some(Derived::StoreQuantity),
        "store_availability" => Some(Derived::StoreAvailability),
        "store_pickup_method" => Some(Derived::StorePickupMethod),
        "store_pickup_sla" => Some(Derived::StorePickupSla),
        "store_price" => Some(Derived::StorePrice),
        "store_sale_price" => Some(Derived::StoreSalePrice),
        "feed.country" => Some(Derived::FeedCountry),
        "feed.language" => Some(Derived::FeedLanguage),
        "feed.currency" => Some(Derived::FeedCurrency),
        "shipping" => Some(Derived::Shipping),
        "tax" => Some(Derived::Tax),
        "gtin_kind" => Some(Derived::GtinKind),
        _ => None,
    };
    if let Some(derived) = derived {
        return Some(ValueSource::Derived(derived));
    }
    if let Some(name) = text.strip_prefix("custom.") {
        return (!name.is_empty()).then(|| ValueSource::Custom(name.to_owned()));
    }
    Field::parse(text).map(ValueSource::Field)
}

/// Splits a JSON pointer (`/a/b~1c/0`) into unescaped segments.
pub fn parse_pointer(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

/// Compiles `raw`, read from `text` (for the line numbers in problems).
pub fn compile(
    stem: &str,
    raw: RawSpec,
    text: &str,
    origin: SpecOrigin,
) -> Result<ChannelSpec, Vec<String>> {
    let mut problems = Vec::new();
    if raw.channel.id != stem {
        problems.push(format!(
            "[channel] id `{}` must equal the file name `{stem}`",
            raw.channel.id
        ));
    }
    let mut formats = BTreeMap::new();
    for (id, format) in &raw.formats {
        match compile_format(id, format) {
            Ok(format) => {
                formats.insert(id.clone(), format);
            }
            Err(mut more) => problems.append(&mut more),
        }
    }
    if formats.is_empty() && raw.formats.is_empty() {
        problems.push("no [formats.*] table: a channel needs at least one output format".into());
    }
    let line_of =
        |span: std::ops::Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
    let mut seen = HashSet::new();
    for field in &raw.fields {
        if !seen.insert(field.get_ref().name.as_str()) {
            problems.push(format!(
                "line {}: field `{}` is listed twice",
                line_of(field.span()),
                field.get_ref().name
            ));
        }
    }
    let names: Vec<&str> = raw
        .fields
        .iter()
        .map(|f| f.get_ref().name.as_str())
        .collect();
    let fields: Vec<FieldSpec> = raw
        .fields
        .iter()
        .filter_map(
            |field| match compile_field(field.get_ref(), &names, &raw.formats) {
                Ok(field) => Some(field),
                Err(more) => {
                    let line = line_of(field.span());
                    problems.extend(more.into_iter().map(|p| format!("line {line}: {p}")));
                    None
                }
            },
        )
        .collect();
    let at_least_one_of = raw
        .at_least_one_of
        .iter()
        .enumerate()
        .map(|(n, group)| compile_one_of(n + 1, group, &names, &mut problems))
        .collect();
    let item_key = names.iter().position(|n| *n == raw.channel.item_key);
    if item_key.is_none() {
        problems.push(format!(
            "[channel] item_key `{}` is not a field of this spec",
            raw.channel.item_key
        ));
    }
    let store_code_field = fields
        .iter()
        .position(|f| f.source == ValueSource::Derived(Derived::StoreCode));
    if raw.channel.per_store && store_code_field.is_none() {
        problems.push(
            "per_store = true needs a field with source = \"store_code\": records of different stores would share keys"
                .into(),
        );
    }
    let roles = roles(&fields, &mut problems);
    let api = match raw.api.as_ref().map(super::api::ApiSpec::compile) {
        None => None,
        Some(Ok(api)) => Some(api),
        Some(Err(mut more)) => {
            problems.append(&mut more);
            None
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut fields_by_name: Vec<usize> = (0..fields.len()).collect();
    fields_by_name.sort_by(|&a, &b| fields[a].name.cmp(&fields[b].name));
    Ok(ChannelSpec {
        id: raw.channel.id,
        name: raw.channel.name,
        docs: raw.channel.docs,
        item_key: item_key.unwrap_or(0),
        refresh_days: raw.channel.refresh_days,
        per_store: raw.channel.per_store,
        sale_effective_dates: raw.channel.sale_effective_dates,
        store_code_field,
        formats,
        fields_by_name,
        fields,
        api,
        roles,
        at_least_one_of,
        origin,
    })
}

fn compile_one_of(
    number: usize,
    group: &RawOneOf,
    names: &[&str],
    problems: &mut Vec<String>,
) -> OneOf {
    let label = format!("[[at_least_one_of]] #{number}");
    if group.fields.len() < 2 {
        problems.push(format!(
            "{label}: `fields` needs at least two names; for one, make that field required"
        ));
    }
    let fields = group
        .fields
        .iter()
        .filter_map(|name| {
            let index = names.iter().position(|n| n == name);
            if index.is_none() {
                problems.push(format!(
                    "{label} names `{name}`, which is not a field of this spec"
                ));
            }
            index
        })
        .collect();
    let when = group
        .when
        .as_ref()
        .map(|when| compile_condition(&format!("{label}.when"), when, names, problems));
    OneOf {
        fields,
        when,
        confidence: group.confidence,
        note: group.note.clone(),
    }
}

/// The role fields, each role at most once and on a field of a type that can hold it.
fn roles(fields: &[FieldSpec], problems: &mut Vec<String>) -> Roles {
    let mut roles = Roles::default();
    for field in fields {
        let Some(role) = field.role else { continue };
        let fits = match role {
            Role::Price | Role::SalePrice => field.kind == FieldType::Price,
            Role::Availability => field.kind == FieldType::Enum,
            Role::Quantity => field.kind == FieldType::Integer,
            Role::Currency => matches!(field.kind, FieldType::Text | FieldType::Enum),
        };
        if !fits {
            problems.push(format!(
                "field `{}`: role = \"{}\" does not fit type `{}`",
                field.name,
                role.name(),
                format!("{:?}", field.kind).to_lowercase()
            ));
        }
        let slot = roles.slot(role);
        if let Some(first) = slot {
            problems.push(format!(
                "fields `{}` and `{}` both have role = \"{}\"; give it to one",
                first.name,
                field.name,
                role.name()
            ));
            continue;
        }
        *slot = Some(RoleField::new(&field.name, &field.map));
        if role == Role::Price {
            roles.price_carries_currency = field.price_format == PriceFormat::AmountCurrency;
        }
    }
    roles
}

fn compile_format(id: &str, raw: &RawFormat) -> Result<FormatSpec, Vec<String>> {
    let mut problems = Vec::new();
    let delimiter = match raw.delimiter.as_deref() {
        None => b',',
        Some("\t") | Some("\\t") => b'\t',
        Some(text) if text.len() == 1 => text.as_bytes()[0],
        Some(text) => {
            problems.push(format!(
                "[formats.{id}] delimiter `{text}` must be one character"
            ));
            b','
        }
    };
    let namespace = match (&raw.namespace_prefix, &raw.namespace_uri) {
        (Some(prefix), Some(uri)) => Some((prefix.clone(), uri.clone())),
        (None, None) => None,
        _ => {
            problems.push(format!(
                "[formats.{id}] namespace_prefix and namespace_uri go together"
            ));
            None
        }
    };
    let envelope = match (&raw.envelope, raw.kind) {
        (Some(text), FormatKind::JsonDocument) => {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(value) => Some(value),
                Err(err) => {
                    problems.push(format!("[formats.{id}] envelope is not JSON: {err}"));
                    None
                }
            }
        }
        (None, FormatKind::JsonDocument) => {
            problems.push(format!("[formats.{id}] a json_document needs an envelope"));
            None
        }
        (Some(_), _) => {
            problems.push(format!("[formats.{id}] envelope is only for json_document"));
            None
        }
        (None, _) => None,
    };
    let items_pointer = raw
        .items_pointer
        .as_deref()
        .map_or(Some(Vec::new()), parse_pointer)
        .unwrap_or_else(|| {
            problems.push(format!("[formats.{id}] items_pointer must start with `/`"));
            Vec::new()
        });
    if let Some(envelope) = &envelope {
        let pointer = raw.items_pointer.as_deref().unwrap_or("");
        if !envelope
            .pointer(pointer)
            .is_some_and(serde_json::Value::is_array)
        {
            problems.push(format!(
                "[formats.{id}] items_pointer `{pointer}` must point at an array in the envelope"
            ));
        }
    }
    let item_counter = match raw.item_counter.as_deref().map(parse_pointer) {
        Some(None) => {
            problems.push(format!("[formats.{id}] item_counter must start with `/`"));
            None
        }
        Some(Some(path)) => Some(path),
        None => None,
    };
    let extension = raw.extension.clone().unwrap_or_else(|| {
        match raw.kind {
            FormatKind::Rss => "xml",
            FormatKind::Delimited if delimiter == b'\t' => "tsv",
            FormatKind::Delimited => "csv",
            FormatKind::Jsonl => "jsonl",
            FormatKind::JsonDocument => "json",
        }
        .to_owned()
    });
    // A limit of 0 would hold no record at all; it was taken as 1 before.
    for (key, value) in [
        ("max_items", raw.max_items),
        ("max_bytes", raw.max_bytes),
        ("max_line_bytes", raw.max_line_bytes),
    ] {
        if value == Some(0) {
            problems.push(format!(
                "[formats.{id}] {key} = 0 would hold nothing; give a positive limit or leave it out for none"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(FormatSpec {
        id: id.to_owned(),
        kind: raw.kind,
        extension,
        namespace,
        delimiter,
        list_separator: raw.list_separator.clone().unwrap_or_else(|| ",".into()),
        envelope,
        items_pointer,
        item_counter,
        max_bytes: raw.max_bytes,
        max_items: raw.max_items,
        on_limit: raw.on_limit.unwrap_or(OnLimit::Fail),
        max_line_bytes: raw.max_line_bytes,
        gzip: raw.gzip,
    })
}

fn compile_field(
    raw: &RawField,
    names: &[&str],
    formats: &BTreeMap<String, RawFormat>,
) -> Result<FieldSpec, Vec<String>> {
    let mut problems = Vec::new();
    let name = &raw.name;
    let source = match (&raw.value, &raw.source) {
        (Some(_), Some(_)) => {
            problems.push(format!(
                "field `{name}`: give `source` or `value`, not both"
            ));
            ValueSource::Const(String::new())
        }
        (Some(value), None) => ValueSource::Const(value.clone()),
        (None, source) => {
            let text = source.as_deref().unwrap_or(name);
            parse_source(text).unwrap_or_else(|| {
                problems.push(format!(
                    "field `{name}`: unknown source `{text}`; use a canonical field ({}), a derived value, or custom.NAME",
                    Field::names().join(", ")
                ));
                ValueSource::Const(String::new())
            })
        }
    };
    for format in raw.names.keys() {
        if !formats.contains_key(format) {
            problems.push(format!(
                "field `{name}`: names.{format} is not a format of this spec"
            ));
        }
    }
    super::value_rules::check(raw, &mut problems);
    let condition = match (&raw.required_when, raw.requirement) {
        (Some(when), Requirement::Conditional) => Some(compile_condition(
            &format!("field `{name}`: required_when"),
            when,
            names,
            &mut problems,
        )),
        (Some(_), _) => {
            problems.push(format!(
                "field `{name}`: required_when needs requirement = \"conditional\""
            ));
            None
        }
        (None, Requirement::Conditional) => {
            problems.push(format!(
                "field `{name}`: requirement = \"conditional\" needs required_when"
            ));
            None
        }
        (None, _) => None,
    };
    let fallback = raw.fallback.as_ref().map(|fallback| {
        let label = format!("field `{name}`: fallback");
        if let Some(values) = raw.values.as_ref().filter(|_| raw.kind == FieldType::Enum)
            && !values.contains(&fallback.value)
        {
            problems.push(format!(
                "{label} value `{}` is not in `values`",
                fallback.value
            ));
        }
        if fallback.value.is_empty() {
            problems.push(format!("{label} value must not be empty"));
        }
        Fallback {
            value: fallback.value.clone(),
            when: compile_condition(
                &format!("{label}.when"),
                &fallback.when,
                names,
                &mut problems,
            ),
        }
    });
    if raw.kind == FieldType::Enum && raw.values.as_ref().is_none_or(Vec::is_empty) {
        problems.push(format!("field `{name}`: an enum needs `values`"));
    }
    if let Some(values) = &raw.values {
        for (from, to) in &raw.map {
            if !values.contains(to) {
                problems.push(format!(
                    "field `{name}`: map sends `{from}` to `{to}`, which is not in `values`"
                ));
            }
        }
    }
    if raw.max_length == Some(0) {
        problems.push(format!("field `{name}`: max_length must be at least 1"));
    }
    let date_format = raw
        .date_format
        .clone()
        .unwrap_or_else(|| "%Y-%m-%dT%H:%M%z".to_owned());
    if matches!(raw.kind, FieldType::Date | FieldType::DateRange) {
        let probe = jiff::Timestamp::UNIX_EPOCH.to_zoned(jiff::tz::TimeZone::UTC);
        if jiff::fmt::strtime::format(date_format.as_bytes(), &probe).is_err() {
            problems.push(format!(
                "field `{name}`: date_format `{date_format}` is not a valid strftime pattern"
            ));
        }
    }
    let path = match raw.path.as_deref() {
        None => vec![name.clone()],
        Some(pointer) => parse_pointer(pointer).unwrap_or_else(|| {
            problems.push(format!(
                "field `{name}`: path `{pointer}` must start with `/`"
            ));
            Vec::new()
        }),
    };
    let mut with = Vec::new();
    for (pointer, value) in &raw.with {
        match parse_pointer(pointer) {
            Some(path) => with.push((path, value.clone())),
            None => problems.push(format!(
                "field `{name}`: with-pointer `{pointer}` must start with `/`"
            )),
        }
    }
    let api = raw.api.as_ref().and_then(|api| {
        super::api::ApiField::compile(api, raw.kind, raw.repeated)
            .map_err(|problem| problems.push(format!("field `{name}`: {problem}")))
            .ok()
    });
    let group_parts = compile_group_parts(raw, &source, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(FieldSpec {
        name: name.clone(),
        names: raw.names.clone(),
        source,
        kind: raw.kind,
        requirement: raw.requirement,
        condition,
        fallback,
        min_length: raw.min_length,
        max_length: raw.max_length,
        on_too_long: raw.on_too_long.unwrap_or(TooLong::Error),
        repeated: raw.repeated,
        max_values: raw.max_values,
        values: raw.values.clone(),
        map: raw
            .map
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        confidence: raw.confidence,
        strip_html: raw.strip_html,
        date_format,
        price_format: raw.price_format.unwrap_or(PriceFormat::AmountCurrency),
        path,
        with,
        role: raw.role,
        api,
        group_parts,
        part_separator: raw.part_separator.clone().unwrap_or_else(|| ":".into()),
        rules_required_in: raw.rules_required_in.clone(),
        note: raw.note.clone(),
        max_bytes: raw.max_bytes,
        parts: raw.parts.as_ref().map(|parts| Parts {
            separator: parts.separator.clone(),
            max: parts.max,
            max_length: parts.max_length,
        }),
        forbidden_chars: raw.forbidden_chars.clone().filter(|c| !c.is_empty()),
        refused_prefixes: raw
            .refused_prefixes
            .iter()
            .map(|refused| RefusedPrefixes {
                prefixes: refused.prefixes.clone(),
                reason: refused.reason.clone(),
            })
            .collect(),
        max_days_ahead: raw.max_days_ahead,
        url_endings: raw
            .url_endings
            .iter()
            .flatten()
            .map(|ending| ending.to_ascii_lowercase())
            .collect(),
    })
}

/// A `group` field's parts: only with a group source, each known to it, none twice. The
/// group-only keys are refused elsewhere, so a misplaced one is not silently ignored.
fn compile_group_parts(
    raw: &RawField,
    source: &ValueSource,
    problems: &mut Vec<String>,
) -> Vec<Part> {
    let name = &raw.name;
    let group_source = match source {
        ValueSource::Derived(derived @ (Derived::Shipping | Derived::Tax)) => Some(derived),
        _ => None,
    };
    let Some(derived) = group_source.filter(|_| raw.kind == FieldType::Group) else {
        if raw.kind == FieldType::Group || group_source.is_some() {
            problems.push(format!(
                "field `{name}`: type = \"group\" goes with source = \"shipping\" or \"tax\", and they need each other"
            ));
        }
        for (key, set) in [
            ("group_parts", !raw.group_parts.is_empty()),
            ("part_separator", raw.part_separator.is_some()),
            ("rules_required_in", !raw.rules_required_in.is_empty()),
        ] {
            if set {
                problems.push(format!(
                    "field `{name}`: {key} is only for type = \"group\""
                ));
            }
        }
        return Vec::new();
    };
    if raw.group_parts.is_empty() {
        problems.push(format!(
            "field `{name}`: a group needs `group_parts`, the sub-attributes in the channel's text order"
        ));
    }
    let mut parts = Vec::new();
    for text in &raw.group_parts {
        match Part::parse(text, derived) {
            Some(part) if parts.contains(&part) => {
                problems.push(format!("field `{name}`: part `{text}` is listed twice"));
            }
            Some(part) => parts.push(part),
            None => problems.push(format!(
                "field `{name}`: `{text}` is not a part of {}; known: {}",
                raw.source.as_deref().unwrap_or(name),
                Part::allowed(derived)
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    let area_slots = [Part::Region, Part::PostalCode, Part::RegionOrPostalCode]
        .iter()
        .filter(|part| parts.contains(part))
        .count();
    if parts.contains(&Part::RegionOrPostalCode) && area_slots > 1 {
        problems.push(format!(
            "field `{name}`: region_or_postal_code already holds region and postal_code; list it alone"
        ));
    }
    if raw.part_separator.as_deref() == Some("") {
        problems.push(format!("field `{name}`: part_separator must not be empty"));
    }
    for code in &raw.rules_required_in {
        if let Some(problem) = crate::feed::names::check_country(code) {
            problems.push(format!("field `{name}`: rules_required_in: {problem}"));
        }
    }
    parts
}

/// Resolves a condition's field names to indexes; `label` starts every problem.
fn compile_condition(
    label: &str,
    when: &RawCondition,
    names: &[&str],
    problems: &mut Vec<String>,
) -> Condition {
    let mut index_of = |other: &str| {
        let index = names.iter().position(|n| *n == other);
        if index.is_none() {
            problems.push(format!(
                "{label} names `{other}`, which is not a field of this spec"
            ));
        }
        index
    };
    let mut condition = Condition::default();
    if let Some(other) = &when.field {
        condition.field = index_of(other);
    }
    condition.empty = when
        .empty
        .iter()
        .flat_map(|empty| empty.names())
        .filter_map(|other| index_of(other))
        .collect();
    match (&when.field, &when.one_of, &when.not_in) {
        (Some(_), Some(one_of), None) if !one_of.is_empty() => condition.one_of = one_of.clone(),
        (Some(_), None, Some(not_in)) if !not_in.is_empty() => {
            condition.one_of = not_in.clone();
            condition.negated = true;
        }
        (Some(_), Some(_), Some(_)) => {
            problems.push(format!("{label}: give `in` or `not_in`, not both"));
        }
        (Some(_), _, _) => problems.push(format!(
            "{label}: `field` needs a non-empty `in` or `not_in`"
        )),
        (None, None, None) => {}
        (None, _, _) => problems.push(format!("{label}: `in` and `not_in` need `field`")),
    }
    if when
        .empty
        .as_ref()
        .is_some_and(|empty| empty.names().is_empty())
    {
        problems.push(format!("{label}: `empty` names no field"));
    }
    // Whether an id exists depends on the taxonomy the config names; feeds check that
    // when they load.
    let mut ids = |key: &str, given: &Option<Vec<String>>, into: &mut Vec<u32>| {
        if given.as_ref().is_some_and(Vec::is_empty) {
            problems.push(format!("{label}: `{key}` lists no category"));
        }
        for id in given.iter().flatten() {
            match id.parse::<u32>() {
                Ok(id) => into.push(id),
                Err(_) => problems.push(format!(
                    "{label}: {key} `{id}` is not a Google taxonomy id (a number)"
                )),
            }
        }
    };
    ids(
        "category_under",
        &when.category_under,
        &mut condition.category_under,
    );
    ids(
        "not_category_under",
        &when.not_category_under,
        &mut condition.not_category_under,
    );
    if when.country_in.as_ref().is_some_and(Vec::is_empty) {
        problems.push(format!("{label}: `country_in` lists no country"));
    }
    for country in when.country_in.iter().flatten() {
        if country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) {
            condition.countries.push(country.clone());
        } else {
            problems.push(format!(
                "{label}: country_in `{country}` is not an ISO 3166-1 alpha-2 code such as DE"
            ));
        }
    }
    condition
}

#[cfg(test)]
mod tests {
    use super::super::{SpecOrigin, load_all, parse_and_compile};

    #[test]
    fn every_shipped_spec_compiles() {
        let specs =
            load_all(std::path::Path::new("/nonexistent")).unwrap_or_else(|e| panic!("{e}"));
        for id in [
            "google-merchant",
            "google-local-inventory",
            "meta-catalog",
            "microsoft-merchant",
            "pinterest",
            "tiktok",
            "amazon-listings",
            "openai",
        ] {
            assert!(specs.contains_key(id), "{id} is shipped");
        }
    }

    #[test]
    fn problems_are_collected_and_named() {
        let text = r#"
[channel]
id = "wrong"
name = "x"
item_key = "nope"
[formats.csv]
kind = "delimited"
[[fields]]
name = "id"
source = "skuu"
type = "text"
[[fields]]
name = "color"
type = "enum"
requirement = "conditional"
required_when = { field = "missing", in = ["a"] }
"#;
        let err = parse_and_compile("demo", text, SpecOrigin::Shipped).expect_err("invalid");
        let message = err.to_string();
        for needle in [
            "must equal the file name",
            "unknown source `skuu`",
            "needs `values`",
            "`missing`",
            "item_key `nope`",
        ] {
            assert!(message.contains(needle), "{needle} in {message}");
        }
    }

    #[test]
    fn a_per_store_spec_needs_a_store_code_field() {
        let text = r#"
[channel]
id = "local"
name = "x"
item_key = "id"
per_store = true
[formats.tsv]
kind = "delimited"
[[fields]]
name = "id"
source = "sku"
type = "text"
"#;
        let err = parse_and_compile("local", text, SpecOrigin::Shipped).expect_err("no store code");
        assert!(err.to_string().contains("store_code"), "{err}");
        let fixed = format!(
            "{text}[[fields]]\nname = \"store\"\nsource = \"store_code\"\ntype = \"text\"\n"
        );
        let spec = parse_and_compile("local", &fixed, SpecOrigin::Shipped).expect("valid");
        assert_eq!(spec.store_code_field, Some(1));
    }

    #[test]
    fn conditions_and_fallbacks_are_checked_when_the_spec_compiles() {
        let spec = |when: &str, fallback: &str| {
            format!(
                r#"
[channel]
id = "demo"
name = "x"
item_key = "id"
[formats.csv]
kind = "delimited"
[[fields]]
name = "id"
source = "sku"
type = "text"
[[fields]]
name = "mpn"
type = "text"
requirement = "conditional"
required_when = {when}
[[fields]]
name = "flag"
source = "custom.flag"
type = "enum"
values = ["yes", "no"]
fallback = {fallback}
"#
            )
        };
        let valid = spec(
            r#"{ empty = "id", field = "flag", not_in = ["no"] }"#,
            r#"{ value = "no", when = { empty = ["id", "mpn"] } }"#,
        );
        let compiled = parse_and_compile("demo", &valid, SpecOrigin::Shipped).expect("valid");
        let condition = compiled.fields[1].condition.as_ref().expect("condition");
        assert_eq!((condition.field, condition.negated), (Some(2), true));
        let fallback = compiled.fields[2].fallback.as_ref().expect("fallback");
        assert_eq!(
            (fallback.value.as_str(), &fallback.when.empty[..]),
            ("no", &[0, 1][..])
        );

        let invalid = spec(
            r#"{ field = "flag", in = ["yes"], not_in = ["no"] }"#,
            r#"{ value = "maybe", when = { empty = ["id", "nope"], not_in = ["x"] } }"#,
        );
        let message = parse_and_compile("demo", &invalid, SpecOrigin::Shipped)
            .expect_err("invalid")
            .to_string();
        for needle in [
            "field `mpn`: required_when: give `in` or `not_in`, not both",
            "field `flag`: fallback value `maybe` is not in `values`",
            "field `flag`: fallback.when names `nope`",
            "field `flag`: fallback.when: `in` and `not_in` need `field`",
        ] {
            assert!(message.contains(needle), "{needle} in {message}");
        }
    }

    #[test]
    fn group_fields_need_a_group_source_and_known_parts() {
        let spec = |field: &str| {
            format!(
                "[channel]\nid = \"demo\"\nname = \"x\"\nitem_key = \"id\"\n[formats.csv]\nkind = \"delimited\"\n[[fields]]\nname = \"id\"\nsource = \"sku\"\ntype = \"text\"\n[[fields]]\n{field}"
            )
        };
        let valid = spec(
            "name = \"shipping\"\nsource = \"shipping\"\ntype = \"group\"\ngroup_parts = [\"country\", \"region_or_postal_code\", \"price\"]\nrules_required_in = [\"DE\"]\n",
        );
        let compiled = parse_and_compile("demo", &valid, SpecOrigin::Shipped).expect("valid");
        let field = &compiled.fields[1];
        assert_eq!(field.group_parts.len(), 3);
        assert_eq!(
            (field.part_separator.as_str(), &field.rules_required_in[..]),
            (":", &["DE".to_owned()][..])
        );
        for (field, says) in [
            (
                "name = \"tax\"\nsource = \"tax\"\ntype = \"group\"\ngroup_parts = [\"country\", \"service\"]\n",
                "`service` is not a part of tax",
            ),
            (
                "name = \"shipping\"\nsource = \"shipping\"\ntype = \"text\"\n",
                "type = \"group\" goes with source = \"shipping\" or \"tax\"",
            ),
            (
                "name = \"shipping\"\nsource = \"shipping\"\ntype = \"group\"\n",
                "a group needs `group_parts`",
            ),
            (
                "name = \"weight\"\ntype = \"text\"\ngroup_parts = [\"country\"]\n",
                "group_parts is only for type = \"group\"",
            ),
            (
                "name = \"shipping\"\nsource = \"shipping\"\ntype = \"group\"\ngroup_parts = [\"region\", \"region_or_postal_code\"]\nrules_required_in = [\"de\"]\n",
                "region_or_postal_code already holds region and postal_code",
            ),
        ] {
            let message = parse_and_compile("demo", &spec(field), SpecOrigin::Shipped)
                .expect_err(field)
                .to_string();
            assert!(message.contains(says), "{says} in {message}");
        }
    }

    #[test]
    fn roles_fit_their_field_types_and_go_on_one_field_each() {
        let text = r#"
[channel]
id = "demo"
name = "x"
item_key = "id"
[formats.csv]
kind = "delimited"
[[fields]]
name = "id"
source = "sku"
type = "text"
role = "price"
[[fields]]
name = "cost"
source = "price"
type = "price"
role = "price"
[[fields]]
name = "stock"
source = "quantity"
type = "integer"
role = "quantity"
"#;
        let message = parse_and_compile("demo", text, SpecOrigin::Shipped)
            .expect_err("invalid")
            .to_string();
        for needle in [
            "field `id`: role = \"price\" does not fit type `text`",
            "fields `id` and `cost` both have role = \"price\"",
        ] {
            assert!(message.contains(needle), "{needle} in {message}");
        }
        let fixed = text.replacen(
            "type = \"text\"\nrole = \"price\"\n",
            "type = \"text\"\n",
            1,
        );
        let spec = parse_and_compile("demo", &fixed, SpecOrigin::Shipped).expect("valid");
        assert_eq!(
            spec.roles.price.as_ref().map(|f| f.name.as_str()),
            Some("cost")
        );
        assert_eq!(
            spec.roles.quantity.as_ref().map(|f| f.name.as_str()),
            Some("stock")
        );
        // The price text carries its currency (`amount_currency`, the default).
        assert!(spec.roles.has_stock() && spec.roles.has_currency());
    }

    #[test]
    fn every_shipped_spec_gives_the_default_guards_their_roles() {
        let specs =
            load_all(std::path::Path::new("/nonexistent")).unwrap_or_else(|e| panic!("{e}"));
        for (id, spec) in &specs {
            let missing = crate::guards::GuardConfig::default().missing_roles(id, &spec.roles);
            assert!(missing.is_empty(), "{id}: {missing:?}");
        }
    }
}

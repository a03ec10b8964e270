//! Where each channel field's value comes from: the catalog, derived values, feed
//! constants or templates.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::{FeedContext, Record};
use crate::diag::Finding;
use crate::feed::Override;
use crate::load::CatalogItem;
use crate::model::{Availability, Field, Money, Price};
use crate::rules;
use crate::spec::{Derived, FieldSpec, FieldType, PriceFormat, ValueSource};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    /// A repeated field.
    List(Vec<Cow<'a, str>>),
    /// A group field's records (shipping rates, tax rates), each one group of parts.
    Groups(Vec<Group>),
}

/// One record of a group field: its parts by sub-attribute name (empty ones left out in
/// RSS and JSON), and the channel's text form of the whole (`DE::Standard:4.95 EUR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub parts: Vec<(&'static str, String)>,
    pub text: String,
}

impl<'a> Value<'a> {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(text) => text.is_empty(),
            Value::List(items) => items.iter().all(|item| item.is_empty()),
            Value::Groups(groups) => groups.is_empty(),
        }
    }

    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut Cow<'a, str>)) {
        match self {
            Value::Text(text) => f(text),
            Value::List(items) => items.iter_mut().for_each(f),
            // Built from checked feed settings, not catalog text: nothing to clean.
            Value::Groups(_) => {}
        }
    }

    /// The value as one string (repeated values joined with `separator`).
    pub fn joined(&self, separator: &str) -> Cow<'_, str> {
        match self {
            Value::Text(text) => Cow::Borrowed(text.as_ref()),
            Value::List(items) => Cow::Owned(
                items
                    .iter()
                    .map(|item| item.as_ref())
                    .collect::<Vec<_>>()
                    .join(separator),
            ),
            Value::Groups(groups) => Cow::Owned(
                groups
                    .iter()
                    .map(|group| group.text.as_str())
                    .collect::<Vec<_>>()
                    .join(separator),
            ),
        }
    }
}

pub(super) struct StoreValues<'a> {
    pub code: &'a str,
    pub quantity: u64,
    /// What the store shows, by its own stock and the feed's thresholds.
    pub availability: Availability,
    /// From the locations table; empty when not given.
    pub pickup_method: &'a str,
    pub pickup_sla: &'a str,
    /// The store's own prices, when the store prices table has a row for it.
    pub own_price: Option<crate::load::store_prices::StorePrice>,
}

/// Everything one item's values are made from.
pub(super) struct ItemValues<'c, 'i, 'a> {
    pub context: &'c FeedContext<'c>,
    pub item: &'i CatalogItem<'a>,
    pub price: &'i Price,
    pub quantity: Option<u64>,
    pub availability: Availability,
}

impl<'c: 'a, 'a> ItemValues<'c, '_, 'a> {
    pub(super) fn record(
        &self,
        store: Option<&StoreValues<'a>>,
        findings: &mut Vec<Finding>,
    ) -> Record<'a> {
        let feed = self.context.feed;
        let values = feed
            .spec
            .fields
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let (value, plain) = match &feed.overrides[index] {
                    Some(Override::Const(text)) => (Some(Value::Text(fill(feed, text))), false),
                    Some(Override::Template { name, variables }) => {
                        (self.render(index, field, name, variables, findings), false)
                    }
                    None => match &field.source {
                        ValueSource::Derived(Derived::Shipping) => (
                            super::groups::shipping(
                                self.context,
                                self.item,
                                self.price,
                                field,
                                findings,
                            ),
                            true,
                        ),
                        ValueSource::Derived(Derived::Tax) => {
                            (super::groups::tax(&feed.tax, field), true)
                        }
                        _ => (
                            self.source(field, store).map(|value| listed(field, value)),
                            is_plain_source(field),
                        ),
                    },
                };
                value.map(|value| finish(field, value, plain))
            })
            .collect();
        Record { values }
    }

    /// A store's own value of `field`.
    pub(super) fn store_value(
        &self,
        field: &'c FieldSpec,
        store: &StoreValues<'a>,
    ) -> Option<Value<'a>> {
        self.source(field, Some(store))
            .map(|value| finish(field, value, is_plain_source(field)))
    }

    /// A store's own value of `field`, known to need no finishing (see `OwnTrust`).
    pub(super) fn trusted_store_value(
        &self,
        field: &'c FieldSpec,
        store: &StoreValues<'a>,
    ) -> Option<Value<'a>> {
        self.source(field, Some(store))
    }

    fn source(&self, field: &'c FieldSpec, store: Option<&StoreValues<'a>>) -> Option<Value<'a>> {
        let v = self.item.variant;
        let text = |s: &'a str| Some(Value::Text(Cow::Borrowed(s)));
        let owned = |s: String| Some(Value::Text(Cow::Owned(s)));
        let feed = self.context.feed;
        match &field.source {
            ValueSource::Const(value) => Some(Value::Text(fill(feed, value))),
            ValueSource::Custom(name) => v
                .custom
                .iter()
                .find(|(column, _)| &**column == name)
                .and_then(|(_, value)| text(value)),
            ValueSource::Derived(derived) => match derived {
                Derived::Availability => map_value(field, self.availability.as_str()),
                Derived::DescriptionText => {
                    owned(description_text(self.text_of(Field::Description)))
                }
                Derived::Quantity => self.quantity.map(|q| Value::Text(count_text(q))),
                Derived::StoreCode => store.and_then(|s| text(s.code)),
                Derived::StoreQuantity => store.map(|s| Value::Text(count_text(s.quantity))),
                Derived::StorePickupMethod => store
                    .map(|s| s.pickup_method)
                    .filter(|text| !text.is_empty())
                    .and_then(text),
                Derived::StorePickupSla => store
                    .map(|s| s.pickup_sla)
                    .filter(|text| !text.is_empty())
                    .and_then(text),
                // `self.price` already has the feed's `price_adjust` and the sale as it
                // stands now; a store's own amounts get the same rule and the same window.
                Derived::StorePrice => {
                    let regular = self.price.regular;
                    let own = store
                        .and_then(|s| s.own_price)
                        .filter(|own| own.currency == regular.currency)
                        .map(|own| Money {
                            amount: own.price,
                            currency: regular.currency,
                        });
                    match own {
                        Some(own) => adjusted(feed, own),
                        None => Some(regular),
                    }
                    .and_then(|amount| owned(money(field, &amount)))
                }
                Derived::StoreSalePrice => {
                    let currency = self.price.regular.currency;
                    // No sale on now (or none at all): no store sale either.
                    self.price.sale.and_then(|sale| {
                        let own = store
                            .and_then(|s| s.own_price)
                            .filter(|own| own.currency == currency)
                            .and_then(|own| own.sale_price);
                        match own {
                            Some(amount) => adjusted(feed, Money { amount, currency }),
                            None => Some(sale.price),
                        }
                        .and_then(|amount| owned(money(field, &amount)))
                    })
                }
                Derived::StoreAvailability => {
                    store.and_then(|s| map_value(field, s.availability.as_str()))
                }
                Derived::FeedCountry => feed.country.clone().and_then(owned),
                Derived::FeedLanguage => feed.language.clone().and_then(owned),
                Derived::FeedCurrency => owned(self.price.regular.currency.code().to_owned()),
                // Built with their findings in `record`.
                Derived::Shipping | Derived::Tax => None,
                Derived::GtinKind => v.gtin.as_ref().and_then(|gtin| {
                    let kind = match gtin.len() {
                        8 => "gtin8",
                        12 => "gtin12",
                        13 => "gtin13",
                        _ => "gtin14",
                    };
                    map_value(field, kind)
                }),
            },
            ValueSource::Field(canonical) => self.field(field, *canonical),
        }
    }

    fn field(&self, field: &'c FieldSpec, canonical: Field) -> Option<Value<'a>> {
        let v = self.item.variant;
        let time_zone = &self.context.feed.time_zone;
        let context_id = self.context.id;
        let date = |ts: jiff::Timestamp| {
            // A catalog has a few sale windows for a million items: each distinct date is
            // converted to the feed's zone and formatted once per thread.
            let key = (context_id, std::ptr::from_ref(field) as usize, ts);
            DATE_MEMO.with(|memo| {
                let mut memo = memo.borrow_mut();
                if let Some(text) = memo.get(&key) {
                    return Some(text.clone());
                }
                let zoned = ts.to_zoned(time_zone.clone());
                let text = jiff::fmt::strtime::format(field.date_format.as_bytes(), &zoned).ok()?;
                if memo.len() >= MEMO_ENTRIES {
                    memo.clear();
                }
                memo.insert(key, text.clone());
                Some(text)
            })
        };
        let window = self.price.sale.and_then(|sale| sale.window);
        match canonical {
            Field::Price => Some(Value::Text(Cow::Owned(money(field, &self.price.regular)))),
            Field::SalePrice => self
                .price
                .sale
                .map(|sale| Value::Text(Cow::Owned(money(field, &sale.price)))),
            Field::Currency => Some(Value::Text(Cow::Owned(
                self.price.regular.currency.code().to_owned(),
            ))),
            Field::SaleEffectiveDate => window.and_then(|(start, end)| {
                Some(Value::Text(Cow::Owned(format!(
                    "{}/{}",
                    date(start)?,
                    date(end)?
                ))))
            }),
            Field::SaleStart => window
                .and_then(|(start, _)| date(start))
                .map(|d| Value::Text(Cow::Owned(d))),
            Field::SaleEnd => window
                .and_then(|(_, end)| date(end))
                .map(|d| Value::Text(Cow::Owned(d))),
            Field::AvailabilityDate => v
                .availability_date
                .and_then(date)
                .map(|d| Value::Text(Cow::Owned(d))),
            Field::Availability => v.availability.and_then(|a| map_value(field, a.as_str())),
            Field::AdditionalImageLinks => Some(Value::List(
                v.additional_image_links
                    .iter()
                    .map(|l| Cow::Borrowed(*l))
                    .collect(),
            )),
            Field::GoogleProductCategory => Some(Value::Text(category(self.context, self.item))),
            Field::Description if field.strip_html => Some(Value::Text(Cow::Owned(
                description_text(self.text_of(Field::Description)),
            ))),
            Field::Gtin => v.gtin.map(|g| Value::Text(Cow::Owned(g.to_string()))),
            Field::Stock => v.stock.map(|s| Value::Text(Cow::Owned(s.to_string()))),
            // The parcel's own weight, else the product's `weight` as the catalog gives it.
            Field::ShippingWeight => match v.shipping_weight {
                Some(weight) => Some(Value::Text(Cow::Owned(weight.to_string()))),
                None => Some(Value::Text(Cow::Borrowed(v.weight))),
            },
            Field::ShippingPrice => v.shipping_price.map(|own| {
                let amount = Money {
                    amount: own.amount,
                    currency: own.currency.unwrap_or(self.price.regular.currency),
                };
                Value::Text(Cow::Owned(money(field, &amount)))
            }),
            other => {
                // The feed language's own column first (`title_de`), else the base one.
                let text: &'a str = match self.context.localized(v, other) {
                    Some(text) => text,
                    None => match other {
                        Field::Sku => v.sku,
                        Field::GroupId => v.group_id,
                        Field::Title => v.title,
                        Field::Description => v.description,
                        Field::Brand => v.brand,
                        Field::Mpn => v.mpn,
                        Field::Condition => v.condition,
                        Field::Link => v.link,
                        Field::ImageLink => v.image_link,
                        Field::ProductType => v.product_type,
                        Field::Color => v.color,
                        Field::Size => v.size,
                        Field::Gender => v.gender,
                        Field::AgeGroup => v.age_group,
                        Field::Material => v.material,
                        Field::Pattern => v.pattern,
                        Field::Weight => v.weight,
                        _ => "",
                    },
                };
                if field.map.is_empty() {
                    Some(Value::Text(Cow::Borrowed(text)))
                } else {
                    map_value(field, text)
                }
            }
        }
    }

    /// A text field in the feed's language: its `FIELD_LANG` column, else the base one.
    fn text_of(&self, field: Field) -> &'a str {
        let v = self.item.variant;
        if let Some(text) = self.context.localized(v, field) {
            return text;
        }
        match field {
            Field::Description => v.description,
            Field::Title => v.title,
            _ => "",
        }
    }

    fn render(
        &self,
        index: usize,
        field: &FieldSpec,
        name: &str,
        variables: &[String],
        findings: &mut Vec<Finding>,
    ) -> Option<Value<'a>> {
        let template = (self.context.id, index);
        let rendered = TEMPLATE_MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            let TemplateMemo { key, templates } = &mut *memo;
            if templates.len() > 256 {
                // Templates of earlier runs in this process.
                templates.clear();
            }
            let seen = templates
                .entry(template)
                .or_insert_with(|| TemplateOutputs {
                    outputs: Some(HashMap::new()),
                    ..TemplateOutputs::default()
                });
            seen.lookups += 1;
            if seen.lookups == MEMO_TRIAL && seen.hits * 2 < seen.lookups {
                seen.outputs = None;
            }
            let Some(outputs) = &mut seen.outputs else {
                return self.render_template(name, variables);
            };
            key.clear();
            self.template_inputs(variables, key);
            if let Some(text) = outputs.get(key.as_slice()) {
                seen.hits += 1;
                return Ok(text.clone());
            }
            let text = self.render_template(name, variables)?;
            if outputs.len() >= MEMO_ENTRIES {
                outputs.clear();
            }
            outputs.insert(key.clone(), text.clone());
            Ok(text)
        });
        match rendered {
            Ok(text) => Some(Value::Text(Cow::Owned(text))),
            Err(err) => {
                findings.push(self.context.finding(
                    &rules::FEED_TEMPLATE,
                    self.item,
                    &field.name,
                    format!("[fields] {}: {err}", field.name),
                ));
                None
            }
        }
    }

    /// One template variable's input. The memo key and the template's context are both
    /// made from it, so they cannot disagree about what a template reads.
    fn template_input<'i>(&'i self, variable: &str) -> Option<TemplateInput<'i>> {
        let v = self.item.variant;
        let feed = self.context.feed;
        Some(match variable {
            "custom" => TemplateInput::Custom(&v.custom),
            "availability" => TemplateInput::Text(self.availability.as_str().into()),
            "quantity" => TemplateInput::Count(self.quantity.unwrap_or(0)),
            "description_text" => TemplateInput::PlainText(self.text_of(Field::Description)),
            "country" => TemplateInput::FeedConstant(feed.country.as_deref()),
            "language" => TemplateInput::FeedConstant(feed.language.as_deref()),
            "currency" => TemplateInput::Text(self.price.regular.currency.code().into()),
            other => match Field::parse(other)? {
                Field::Price => TemplateInput::Text(self.price.regular.to_string().into()),
                Field::SalePrice => {
                    TemplateInput::Optional(self.price.sale.map(|s| s.price.to_string()))
                }
                canonical => match self.context.localized(v, canonical) {
                    Some(text) => TemplateInput::Text(text.into()),
                    None => TemplateInput::Text(v.text(canonical)),
                },
            },
        })
    }

    /// Everything the template's variables are made of, as bytes: equal inputs mean equal
    /// output, since templates are pure (no clock, no randomness, no state).
    fn template_inputs(&self, variables: &[String], key: &mut Vec<u8>) {
        for input in variables.iter().filter_map(|v| self.template_input(v)) {
            input.key(key);
        }
    }

    fn render_template(
        &self,
        name: &str,
        variables: &[String],
    ) -> Result<String, minijinja::Error> {
        let context: BTreeMap<&str, minijinja::Value> = variables
            .iter()
            .filter_map(|variable| {
                let input = self.template_input(variable)?;
                Some((variable.as_str(), input.value()))
            })
            .collect();
        let feed = self.context.feed;
        feed.templates
            .get_template(name)
            .and_then(|template| template.render(&context))
            .map(|text| text.trim().to_owned())
    }
}

/// A template variable's input, before it becomes a minijinja value (see
/// `ItemValues::template_input`).
enum TemplateInput<'i> {
    Custom(&'i [(std::sync::Arc<str>, &'i str)]),
    Text(Cow<'i, str>),
    Count(u64),
    Optional(Option<String>),
    /// HTML that the template sees as plain text: remembered by the HTML, which is cheaper
    /// than stripping it.
    PlainText(&'i str),
    /// The same for every item of the feed, so no part of the key.
    FeedConstant(Option<&'i str>),
}

impl TemplateInput<'_> {
    fn key(&self, key: &mut Vec<u8>) {
        let mut put = |bytes: &[u8]| {
            key.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            key.extend_from_slice(bytes);
        };
        match self {
            TemplateInput::Custom(pairs) => {
                for (column, value) in pairs.iter() {
                    put(column.as_bytes());
                    put(value.as_bytes());
                }
                put(b"");
            }
            TemplateInput::Text(text) => put(text.as_bytes()),
            TemplateInput::Count(count) => put(&count.to_le_bytes()),
            TemplateInput::Optional(Some(text)) => put(text.as_bytes()),
            TemplateInput::Optional(None) => put(b"\xff"),
            TemplateInput::PlainText(html) => put(html.as_bytes()),
            TemplateInput::FeedConstant(_) => {}
        }
    }

    fn value(&self) -> minijinja::Value {
        match self {
            TemplateInput::Custom(pairs) => minijinja::Value::from(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<String, String>>(),
            ),
            TemplateInput::Text(text) => minijinja::Value::from(text.as_ref()),
            TemplateInput::Count(count) => minijinja::Value::from(*count),
            TemplateInput::Optional(text) => minijinja::Value::from(text.clone()),
            TemplateInput::PlainText(html) => minijinja::Value::from(super::html::strip_html(html)),
            TemplateInput::FeedConstant(text) => minijinja::Value::from(*text),
        }
    }
}

/// Outputs remembered per template and thread. Custom labels and the like take a handful of
/// distinct inputs over a whole catalog (a product type, a stock band), so most renders
/// are lookups; a template whose inputs rarely repeat (a title) stops being remembered.
const MEMO_ENTRIES: usize = 4096;
/// Lookups before a template's hit rate is judged.
const MEMO_TRIAL: u64 = 4096;

thread_local! {
    /// Formatted dates by feed context, field and instant.
    static DATE_MEMO: std::cell::RefCell<HashMap<(u64, usize, jiff::Timestamp), String>> =
        std::cell::RefCell::new(HashMap::new());
    static TEMPLATE_MEMO: std::cell::RefCell<TemplateMemo> =
        std::cell::RefCell::new(TemplateMemo::default());
}

#[derive(Default)]
struct TemplateMemo {
    /// The key being built (reused).
    key: Vec<u8>,
    /// By feed context and field.
    templates: HashMap<(u64, usize), TemplateOutputs>,
}

#[derive(Default)]
struct TemplateOutputs {
    lookups: u64,
    hits: u64,
    /// Outputs by input; None once the template showed too few repeats.
    outputs: Option<HashMap<Vec<u8>, String>>,
}

/// What a store shows. Its own stock decides: a store with stock is in stock even when the
/// online item is out of stock or on backorder (the warehouse is empty, the shelf is not).
/// A preorder is not sold before release, so it holds in every store; a store without
/// stock shows the stated availability (preorder, backorder) or out of stock, and the
/// spec's `map` turns that into a value the channel takes.
pub(super) fn store_availability(stated: Option<Availability>, quantity: u64) -> Availability {
    match (stated, quantity) {
        (Some(Availability::Preorder), _) => Availability::Preorder,
        (_, 1..) => Availability::InStock,
        (Some(stated), 0) if stated != Availability::InStock => stated,
        (_, 0) => Availability::OutOfStock,
    }
}

/// Whether `text` as `field`'s value goes out unchanged and without any finding. Values
/// that come from the store alone are asked once per run (see `OwnTrust`).
pub(super) fn passes_as_is(field: &FieldSpec, text: &str) -> bool {
    if text.is_empty() {
        return false;
    }
    let finished = finish(field, Value::Text(Cow::Borrowed(text)), false);
    let Value::Text(mut finished) = finished else {
        return false;
    };
    let mut problems = Vec::new();
    super::check_text(field, &mut finished, false, &mut problems);
    problems.is_empty() && finished == text
}

/// Counts below this have their text in a table (see [`count_text`]).
pub(super) const COUNT_TABLE: u64 = 1024;

/// Decimal text of a count. Counts below 1024 (nearly every stock level) come from a table:
/// a local inventory feed writes one per item and store.
pub(super) fn count_text(count: u64) -> Cow<'static, str> {
    static SMALL: std::sync::LazyLock<Box<[String]>> =
        std::sync::LazyLock::new(|| (0..COUNT_TABLE).map(|n| n.to_string()).collect());
    match usize::try_from(count)
        .ok()
        .and_then(|index| SMALL.get(index))
    {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(count.to_string()),
    }
}

/// A constant with its `{param}` placeholders filled; borrowed when it has none.
fn fill<'a>(feed: &'a crate::feed::Feed, text: &'a str) -> Cow<'a, str> {
    if text.contains('{') {
        Cow::Owned(feed.fill(text))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether a field's value comes from the store (per-store channels).
pub(super) fn is_store_field(field: &FieldSpec) -> bool {
    matches!(
        field.source,
        ValueSource::Derived(
            Derived::StoreCode
                | Derived::StoreQuantity
                | Derived::StoreAvailability
                | Derived::StorePickupMethod
                | Derived::StorePickupSla
                | Derived::StorePrice
                | Derived::StoreSalePrice
        )
    )
}

/// Whether a store field is one of the store's settings from the locations table (the
/// same for every item): a feed that overrides it sends one value for all stores.
pub(super) fn is_store_setting(field: &FieldSpec) -> bool {
    matches!(
        field.source,
        ValueSource::Derived(
            Derived::StorePickupMethod
                | Derived::StorePickupSla
                | Derived::StorePrice
                | Derived::StoreSalePrice
        )
    )
}

/// A repeated field's single value as a list of one, so JSON writes an array
/// (`target_countries: ["US"]`) as the channel's schema says.
fn listed<'a>(field: &FieldSpec, value: Value<'a>) -> Value<'a> {
    match value {
        Value::Text(text) if field.repeated && !text.is_empty() => Value::List(vec![text]),
        other => other,
    }
}

/// Applies the spec's `map` from canonical spelling to the channel's.
pub(super) fn map_value<'a>(field: &'a FieldSpec, canonical: &'a str) -> Option<Value<'a>> {
    let mapped = field
        .map
        .iter()
        .find(|(from, _)| from == canonical)
        .map_or(canonical, |(_, to)| to.as_str());
    Some(Value::Text(Cow::Borrowed(mapped)))
}

fn money(field: &FieldSpec, money: &Money) -> String {
    let mut text = money.amount_text();
    if field.price_format == PriceFormat::AmountCurrency {
        // As Money's Display writes it, without the formatting machinery.
        text.push(' ');
        text.push_str(money.currency.code());
    }
    text
}

/// The item's description as plain text. Several feeds of one run ask for it in a row on
/// the same thread, so the last one is kept per thread.
fn description_text(html: &str) -> String {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<(String, String)> = const { RefCell::new((String::new(), String::new())) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        // Compared by content: row buffers are reused, so an address says nothing.
        if last.0 != html {
            last.0.clear();
            last.0.push_str(html);
            last.1 = super::html::strip_html(html);
        }
        last.1.clone()
    })
}

/// Whether `field`'s own source is plain text already (the description's, stripped once per
/// item): stripping it again would decode `&amp;lt;` twice, into a `<`.
fn is_plain_source(field: &FieldSpec) -> bool {
    match field.source {
        ValueSource::Derived(Derived::DescriptionText) => true,
        ValueSource::Field(Field::Description) => field.strip_html,
        _ => false,
    }
}

/// Cleans a value for any output: no control characters (XML cannot carry them), and
/// plain text where the spec asks for it, unless the value is `plain` already.
fn finish<'a>(field: &FieldSpec, mut value: Value<'a>, plain: bool) -> Value<'a> {
    value.for_each_mut(|text| {
        if field.strip_html
            && !plain
            && field.kind == FieldType::Text
            && super::html::has_markup(text)
        {
            *text = Cow::Owned(super::html::strip_html(text));
        }
        if has_control(text.as_bytes()) {
            let cleaned: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            *text = Cow::Owned(cleaned.trim().to_owned());
        }
    });
    value
}

/// Whether `bytes` hold an ASCII control character. Every value of every record passes
/// here, from two-byte counts to kilobyte descriptions: eight bytes at a time, with the
/// classic "has a byte less than n" word trick (exact, no false positives).
fn has_control(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let x = u64::from_le_bytes(eight);
        if x.wrapping_sub(ONES * 0x20) & !x & HIGHS != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&b| b < 0x20)
}

/// The item's Google category for this feed: the feed's category map by `product_type`
/// prefix first, the catalog's value otherwise.
pub(super) fn category<'a>(context: &FeedContext<'_>, item: &CatalogItem<'a>) -> Cow<'a, str> {
    let product_type = item.variant.product_type;
    context
        .feed
        .category_map
        .iter()
        .find(|(prefix, _)| product_type.starts_with(prefix.as_str()))
        .map_or(
            Cow::Borrowed(item.variant.google_product_category),
            |(_, id)| Cow::Owned(id.clone()),
        )
}

/// A store's own amount with the feed's `price_adjust`, as the online price has it; None
/// when the rule leaves nothing to send.
fn adjusted(feed: &crate::feed::Feed, amount: Money) -> Option<Money> {
    match &feed.price_adjust {
        Some(rule) => rule.apply(amount),
        None => Some(amount),
    }
}

#[cfg(test)]
mod tests {
    use super::{has_control, store_availability};
    use crate::model::Availability::{Backorder, InStock, OutOfStock, Preorder};

    #[test]
    fn a_store_with_stock_sells_whatever_the_web_shop_says_except_a_preorder() {
        for stated in [None, Some(InStock), Some(OutOfStock), Some(Backorder)] {
            assert_eq!(store_availability(stated, 2), InStock, "{stated:?}");
        }
        assert_eq!(store_availability(Some(Preorder), 2), Preorder);
        assert_eq!(store_availability(None, 0), OutOfStock);
        assert_eq!(store_availability(Some(InStock), 0), OutOfStock);
        assert_eq!(store_availability(Some(Backorder), 0), Backorder);
        assert_eq!(store_availability(Some(Preorder), 0), Preorder);
    }

    #[test]
    fn finds_every_control_byte_at_every_position() {
        for len in 0..40 {
            let clean: Vec<u8> = (0..len).map(|i| b' ' + (i as u8 % 95)).collect();
            assert!(!has_control(&clean), "clean, len {len}");
            let mut high = clean.clone();
            high.iter_mut().for_each(|b| *b |= 0x80);
            assert!(!has_control(&high), "bytes >= 0x80, len {len}");
            for at in 0..len {
                for control in [0x00, 0x09, 0x0a, 0x1f] {
                    let mut dirty = clean.clone();
                    dirty[at] = control;
                    assert!(has_control(&dirty), "{control:#x} at {at} of {len}");
                }
            }
        }
    }
}

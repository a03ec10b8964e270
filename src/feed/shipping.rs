//! A feed's `[shipping]` and `[tax]` rules: what delivery costs per country, region or
//! postal range and service, and the US sales tax per state. Checked when the feed loads,
//! each problem naming its line; how a channel writes them is its spec's business (a field
//! with `source = "shipping"` or `"tax"` and its `parts`).

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::model::{Currency, parse_amount};
use crate::spec::{ChannelSpec, Derived, Part, ValueSource};

/// `[shipping]`: the feed's delivery rates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShipping {
    /// One rate per destination area and service; an item gets every rule.
    #[serde(default)]
    pub rules: Vec<RawShippingRule>,
}

/// A number as TOML writes it (`4.95`) or as text (`"4.95 EUR"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawAmount {
    Integer(i64),
    Float(f64),
    Text(String),
}

impl RawAmount {
    fn text(&self) -> String {
        match self {
            RawAmount::Integer(number) => number.to_string(),
            // The shortest text that reads back as the same float: `8.75`, not 8.7499….
            RawAmount::Float(number) => number.to_string(),
            RawAmount::Text(text) => text.trim().to_owned(),
        }
    }
}

/// `[[shipping.rules]]`: one delivery rate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShippingRule {
    /// ISO 3166-1 alpha-2 destination (default: the feed's country).
    pub country: Option<String>,
    /// ISO 3166-2 subdivision without the country prefix (`CA`, `BY`); or `postal_code`.
    pub region: Option<String>,
    /// `94043`, a prefix `94*`, or a range `94043-98033` / `94*-98*`; or `region`.
    pub postal_code: Option<String>,
    /// The service's name as the shopper sees it (`Standard`, `Express`).
    pub service: Option<String>,
    /// `4.95` in the feed's currency, or `"4.95 EUR"`.
    pub price: RawAmount,
    /// Items whose price is at or above this amount ship for 0 under this rule.
    pub free_above: Option<RawAmount>,
    /// Business days before the parcel leaves, and on the way.
    pub min_handling_time: Option<u32>,
    pub max_handling_time: Option<u32>,
    pub min_transit_time: Option<u32>,
    pub max_transit_time: Option<u32>,
}

/// `[tax]`: US sales tax rates (Google takes no other tax: VAT belongs in the price).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTax {
    #[serde(default)]
    pub rules: Vec<RawTaxRule>,
}

/// `[[tax.rules]]`: one state's (or postal range's) rate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTaxRule {
    /// Only `US` (the default).
    pub country: Option<String>,
    /// The state (`CA`), or `postal_code`.
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// Percent, e.g. `8.75`.
    pub rate: RawAmount,
    /// Whether shipping is taxed too.
    #[serde(default)]
    pub tax_ship: bool,
}

/// Where a rule applies inside its country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Area {
    Region(String),
    PostalCode(String),
}

#[derive(Debug, Clone)]
pub struct ShippingRule {
    /// 1-based, in `[shipping] rules`, for messages.
    pub number: usize,
    pub country: Option<String>,
    pub area: Option<Area>,
    pub service: String,
    pub price: Decimal,
    pub currency: Currency,
    pub free_above: Option<Decimal>,
    pub min_handling_time: Option<u32>,
    pub max_handling_time: Option<u32>,
    pub min_transit_time: Option<u32>,
    pub max_transit_time: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct TaxRule {
    pub country: String,
    pub area: Option<Area>,
    /// Percent as written, normalized (`8.75`).
    pub rate: Decimal,
    pub tax_ship: bool,
}

/// What the feed's rules need from the feed itself.
pub struct Market<'a> {
    pub country: Option<&'a str>,
    /// The feed's own `currency`: every rule must be priced in it.
    pub currency: Option<Currency>,
    /// `[defaults] currency`, for rules without one when the feed has none.
    pub default_currency: Option<Currency>,
    /// The definition's TOML source, for line numbers.
    pub text: &'a str,
}

/// Checks every shipping rule; problems name the line and say what to write instead.
pub fn compile_shipping(
    raw: &RawShipping,
    market: &Market<'_>,
    problems: &mut Vec<String>,
) -> Vec<ShippingRule> {
    let mut rules = Vec::new();
    for (index, rule) in raw.rules.iter().enumerate() {
        let number = index + 1;
        let mut problem = |key: &str, message: String| {
            let line = crate::feed::lines::array_item_line(
                market.text,
                &["shipping", "rules"],
                index,
                key,
            );
            problems.push(format!(
                "{}[[shipping.rules]] #{number}: {message}",
                line.map_or_else(String::new, |n| format!("line {n}: "))
            ));
        };
        let country = rule
            .country
            .as_deref()
            .or(market.country)
            .map(str::to_owned);
        if let Some(code) = &rule.country
            && let Some(message) = super::names::check_country(code)
        {
            problem("country", message);
        }
        let area = area(
            rule.region.as_deref(),
            rule.postal_code.as_deref(),
            country.as_deref(),
            &mut problem,
        );
        let service = rule.service.clone().unwrap_or_default();
        if let Some(message) = separator_problem("service", &service) {
            problem("service", message);
        }
        let default = market.currency.or(market.default_currency);
        let (price, currency) = match money(&rule.price, default, "price") {
            Ok(money) => money,
            Err(message) => {
                problem("price", message);
                continue;
            }
        };
        if let Some(feed_currency) = market.currency
            && feed_currency != currency
        {
            problem(
                "price",
                format!(
                    "price is in {currency} but the feed sells in {feed_currency}; price shipping in the feed's currency"
                ),
            );
        }
        let free_above = match &rule.free_above {
            None => None,
            Some(raw) => match money(raw, Some(currency), "free_above") {
                Ok((amount, written)) if written == currency => Some(amount),
                Ok((_, written)) => {
                    problem(
                        "free_above",
                        format!(
                            "free_above is in {written} but price in {currency}; write both in one currency"
                        ),
                    );
                    None
                }
                Err(message) => {
                    problem("free_above", message);
                    None
                }
            },
        };
        for (what, min, max, min_key) in [
            (
                "handling",
                rule.min_handling_time,
                rule.max_handling_time,
                "min_handling_time",
            ),
            (
                "transit",
                rule.min_transit_time,
                rule.max_transit_time,
                "min_transit_time",
            ),
        ] {
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                problem(
                    min_key,
                    format!("min_{what}_time {min} is above max_{what}_time {max}"),
                );
            }
        }
        rules.push(ShippingRule {
            number,
            country,
            area,
            service,
            price,
            currency,
            free_above,
            min_handling_time: rule.min_handling_time,
            max_handling_time: rule.max_handling_time,
            min_transit_time: rule.min_transit_time,
            max_transit_time: rule.max_transit_time,
        });
    }
    rules
}

/// Checks every tax rule; problems name the line.
pub fn compile_tax(raw: &RawTax, text: &str, problems: &mut Vec<String>) -> Vec<TaxRule> {
    let mut rules = Vec::new();
    for (index, rule) in raw.rules.iter().enumerate() {
        let number = index + 1;
        let mut problem = |key: &str, message: String| {
            let line = crate::feed::lines::array_item_line(text, &["tax", "rules"], index, key);
            problems.push(format!(
                "{}[[tax.rules]] #{number}: {message}",
                line.map_or_else(String::new, |n| format!("line {n}: "))
            ));
        };
        let country = rule.country.clone().unwrap_or_else(|| "US".to_owned());
        if country != "US" {
            problem(
                "country",
                format!(
                    "country `{country}`: [tax] is US sales tax only (Google answer 6324454); VAT and other taxes belong in the price"
                ),
            );
        }
        let area = area(
            rule.region.as_deref(),
            rule.postal_code.as_deref(),
            Some("US"),
            &mut problem,
        );
        if area.is_none() && rule.region.is_none() && rule.postal_code.is_none() {
            problem(
                "rate",
                "say where the rate applies: region = \"CA\" (the state) or postal_code = \"94*\""
                    .into(),
            );
        }
        let written = rule.rate.text();
        let rate = Decimal::from_str_exact(&written)
            .ok()
            .filter(|rate| !rate.is_sign_negative() && *rate <= Decimal::ONE_HUNDRED);
        let Some(rate) = rate else {
            problem(
                "rate",
                format!("rate `{written}` is not a percentage from 0 to 100, e.g. rate = 8.75"),
            );
            continue;
        };
        rules.push(TaxRule {
            country,
            area,
            rate: rate.normalize(),
            tax_ship: rule.tax_ship,
        });
    }
    rules
}

/// A rule's region or postal code (one of them at most), checked.
fn area(
    region: Option<&str>,
    postal_code: Option<&str>,
    country: Option<&str>,
    problem: &mut impl FnMut(&str, String),
) -> Option<Area> {
    match (region, postal_code) {
        (Some(_), Some(_)) => {
            problem(
                "postal_code",
                "give region or postal_code, not both: a rate applies to one area".into(),
            );
            None
        }
        (Some(region), None) => {
            if let Some((prefix, rest)) = region.split_once('-')
                && Some(prefix) == country
            {
                problem(
                    "region",
                    format!(
                        "region `{region}`: write the subdivision without the country: region = \"{rest}\""
                    ),
                );
                return None;
            }
            let valid = (1..=3).contains(&region.len())
                && region.bytes().all(|b| b.is_ascii_alphanumeric());
            if !valid {
                problem(
                    "region",
                    format!(
                        "region `{region}` is not an ISO 3166-2 subdivision code such as CA or BY"
                    ),
                );
                return None;
            }
            Some(Area::Region(region.to_owned()))
        }
        (None, Some(code)) => match postal_problem(code) {
            Some(message) => {
                problem("postal_code", message);
                None
            }
            None => Some(Area::PostalCode(code.to_owned())),
        },
        (None, None) => None,
    }
}

/// Google's postal forms: `94043`, `94*`, `94043-98033`, `94*-98*`.
fn postal_problem(code: &str) -> Option<String> {
    let side_ok = |side: &str| {
        let stem = side.strip_suffix('*').unwrap_or(side);
        !stem.is_empty()
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
    };
    let valid = match code.split_once("-") {
        // A range when both sides look alike; otherwise a code with a dash (Japan's 100-0001).
        Some((from, to)) if from.ends_with('*') || to.ends_with('*') => {
            side_ok(from) && side_ok(to)
        }
        _ => side_ok(code),
    };
    (!valid).then(|| {
        format!("postal_code `{code}` is not a code (94043), prefix (94*) or range (94043-98033, 94*-98*)")
    })
}

/// Text that goes between the `:` and `,` of a channel's text form must hold neither.
fn separator_problem(key: &str, text: &str) -> Option<String> {
    text.contains([':', ',', '\t', '\n'])
        .then(|| format!("{key} `{text}` holds `:` or `,`, which separate shipping values in text feeds; rename it"))
}

/// `4.95` in `default` or `"4.95 EUR"`, checked against the currency's minor units.
fn money(
    raw: &RawAmount,
    default: Option<Currency>,
    key: &str,
) -> Result<(Decimal, Currency), String> {
    let text = raw.text();
    let (number, code) = match text.split_once(' ') {
        Some((number, code)) => (number, Some(code.trim())),
        None => (text.as_str(), None),
    };
    let currency = match code {
        Some(code) => Currency::parse(code)
            .ok_or_else(|| format!("{key} `{text}`: `{code}` is not an ISO 4217 code"))?,
        None => default.ok_or_else(|| {
            format!(
                "{key} `{text}` has no currency and the feed none either: write {key} = \"{text} EUR\" or set currency on the feed"
            )
        })?,
    };
    let amount = parse_amount(number, currency).map_err(|err| format!("{key} {err}"))?;
    if amount.is_sign_negative() {
        return Err(format!("{key} `{text}` is below zero"));
    }
    Ok((amount, currency))
}

/// A rule's number, country and area, as the checks against a spec read them.
type RuleArea<'r> = (usize, Option<&'r str>, Option<&'r Area>);

/// Checks the rules against the channel: a channel that requires shipping for the feed's
/// country (`rules_required_in`) gets rules for it or the feed is refused; rules a channel
/// cannot carry are named on stderr, never sent wrongly (a postal-code rate written as the
/// whole country's would be).
pub fn check_against_spec(
    spec: &ChannelSpec,
    country: Option<&str>,
    shipping: &[ShippingRule],
    tax: &[TaxRule],
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let mut carried = (false, false);
    for field in &spec.fields {
        let (table, areas): (&str, Vec<RuleArea<'_>>) = match field.source {
            ValueSource::Derived(Derived::Shipping) => {
                carried.0 = true;
                let areas = shipping
                    .iter()
                    .map(|r| (r.number, r.country.as_deref(), r.area.as_ref()))
                    .collect();
                ("shipping", areas)
            }
            ValueSource::Derived(Derived::Tax) => {
                carried.1 = true;
                let areas = (1..)
                    .zip(tax)
                    .map(|(n, r)| (n, Some(r.country.as_str()), r.area.as_ref()))
                    .collect();
                ("tax", areas)
            }
            _ => continue,
        };
        if let Some(country) = country
            && field.rules_required_in.iter().any(|c| c == country)
            && !areas.iter().any(|(_, c, _)| *c == Some(country))
        {
            problems.push(format!(
                "{} requires `{}` for feeds to {country} (spec rule: field `{}`, rules_required_in = [{}]{}), and this feed has no [[{table}.rules]] for {country}\n  hint: add [[{table}.rules]] with country = \"{country}\" and its price, e.g. service = \"Standard\", price = \"4.95\"",
                spec.id,
                field.name,
                field.name,
                field.rules_required_in.join(", "),
                // The note's first clause cites the channel's page.
                field
                    .note
                    .as_deref()
                    .and_then(|note| note.split(';').next())
                    .map_or_else(String::new, |note| format!(": {note}")),
            ));
        }
        let holds = |part: Part| field.group_parts.contains(&part);
        for (number, _, area) in &areas {
            let (kind, code, fits) = match area {
                None => continue,
                Some(Area::Region(code)) => (
                    "region",
                    code,
                    holds(Part::Region) || holds(Part::RegionOrPostalCode),
                ),
                Some(Area::PostalCode(code)) => (
                    "postal_code",
                    code,
                    holds(Part::PostalCode) || holds(Part::RegionOrPostalCode),
                ),
            };
            if !fits {
                warnings.push(format!(
                    "[[{table}.rules]] #{number} ({kind} {code}) is not sent: {}'s `{}` has no {kind}, and sending it for the whole country would be wrong",
                    spec.id, field.name
                ));
            }
        }
    }
    if !shipping.is_empty() && !carried.0 {
        warnings.push(format!(
            "[shipping] rules are not sent: {} has no field with source = \"shipping\"",
            spec.id
        ));
    }
    if !tax.is_empty() && !carried.1 {
        warnings.push(format!(
            "[tax] rules are not sent: {} has no field with source = \"tax\"",
            spec.id
        ));
    }
}

//! Feeds: a feed definition compiled against its channel spec, ready for the item stages.

mod categories;
pub mod definition;
pub mod destination;
mod lines;
pub mod markets;
pub mod names;
pub mod price_adjust;
pub mod shipping;
mod templates;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::tz::TimeZone;

pub use definition::{RawDestination, RawFeed, RawFilters, RssChannel};
pub use price_adjust::PriceAdjust;

use crate::config::{Config, render_toml_error};
use crate::guards::GuardConfig;
use crate::model::Currency;
use crate::spec::taxonomy::Taxonomy;
use crate::spec::{ChannelSpec, FormatSpec};

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(
        "cannot read feed folder `{path}`\n  hint: set feeds_dir in omnifeed.toml or create the folder"
    )]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {}", .problems.join("\n  "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("no feed `{name}`{}\n  hint: feeds are the *.toml files in {dir}", did_you_mean(.name, .known))]
    Unknown {
        name: String,
        known: Vec<String>,
        dir: String,
    },
}

impl FeedError {
    /// Feed definitions are configuration.
    pub fn class(&self) -> crate::exit::ErrorClass {
        crate::exit::ErrorClass::Config
    }
}

fn did_you_mean(name: &str, known: &[String]) -> String {
    let close = known
        .iter()
        .min_by_key(|k| strsim::levenshtein(name, k))
        .filter(|k| strsim::levenshtein(name, k) <= 3);
    match close {
        Some(k) => format!("; did you mean `{k}`?"),
        None if known.is_empty() => String::new(),
        None => format!("; known feeds: {}", known.join(", ")),
    }
}

/// A field override: a constant or a compiled template.
#[derive(Debug, Clone)]
pub enum Override {
    Const(String),
    /// Template name in the feed's environment, and the variables it reads.
    Template {
        name: String,
        variables: Vec<String>,
    },
}

#[derive(Debug)]
pub struct Feed {
    pub id: String,
    pub path: PathBuf,
    pub spec: ChannelSpec,
    pub format: FormatSpec,
    pub country: Option<String>,
    pub language: Option<String>,
    pub currency: Option<Currency>,
    /// `price_adjust`: the rule every price of this feed is sent by.
    pub price_adjust: Option<PriceAdjust>,
    pub time_zone: TimeZone,
    pub file_stem: String,
    pub gzip: bool,
    pub rss: RssChannel,
    pub filters: RawFilters,
    /// By spec field index.
    pub overrides: Vec<Option<Override>>,
    pub templates: minijinja::Environment<'static>,
    /// (product_type prefix, category id), longest prefix first.
    pub category_map: Vec<(String, String)>,
    pub params: BTreeMap<String, String>,
    pub stock_locations: Option<Vec<String>>,
    pub stock_buffer: u32,
    /// `[stock]` buffer, share, cap and thresholds.
    pub stock_policy: crate::allocate::StockPolicy,
    /// The partition this feed takes its part of stock from, and its slot in it.
    pub partition: Option<(Arc<crate::allocate::Partition>, usize)>,
    /// `[shipping]` rules, in the definition's order.
    pub shipping: Vec<shipping::ShippingRule>,
    /// `[tax]` rules (US sales tax).
    pub tax: Vec<shipping::TaxRule>,
    /// The local folder `export` writes into (and `dir` pushes into).
    pub destination: PathBuf,
    /// Where `push` delivers, as configured.
    pub delivery: RawDestination,
    pub guards: GuardConfig,
    /// Google's product taxonomy, for `category_under` conditions.
    pub taxonomy: Arc<Taxonomy>,
    /// What the feed's settings may get wrong without being plainly wrong, for stderr.
    pub warnings: Vec<String>,
    /// The market this feed was fanned out for, when its definition has `markets`.
    pub market: Option<markets::MarketOf>,
    /// The definition's `rates`: prices converted into the feed's currency.
    pub rates: Option<Arc<crate::model::exchange::Rates>>,
    /// The time zone catalog dates without an offset were read in (`[defaults] time_zone`).
    pub catalog_time_zone: TimeZone,
}

/// Reads `feeds_dir/*.toml`, keeps the ones named in `selected` (all when empty), and
/// compiles each against its spec.
pub fn load_feeds(
    config: &Config,
    specs: &BTreeMap<String, ChannelSpec>,
    selected: &[String],
) -> Result<Vec<Feed>, FeedError> {
    let dir = &config.feeds_dir;
    let paths = crate::config::toml_files_in(dir).map_err(|source| FeedError::Folder {
        path: dir.clone(),
        source,
    })?;
    let stem = |path: &Path| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let known: Vec<String> = paths.iter().map(|p| stem(p)).collect();
    // `FEED` selects every market of a definition, `FEED.MARKET` one of them.
    let definition_of = |name: &str| -> Option<String> {
        if known.iter().any(|k| k == name) {
            return Some(name.to_owned());
        }
        let (definition, _) = name.rsplit_once('.')?;
        known
            .iter()
            .any(|k| k == definition)
            .then(|| definition.to_owned())
    };
    for name in selected {
        if definition_of(name).is_none() {
            return Err(FeedError::Unknown {
                name: name.clone(),
                known,
                dir: dir.display().to_string(),
            });
        }
    }
    if let Some(partition) = &config.partition {
        let missing: Vec<String> = partition
            .members
            .iter()
            .filter(|(name, _)| !known.contains(name))
            .map(|(name, _)| {
                format!(
                    "[allocation] names feed `{name}`, which is not in {}{}",
                    dir.display(),
                    did_you_mean(name, &known)
                )
            })
            .collect();
        if !missing.is_empty() {
            return Err(FeedError::Invalid {
                path: config.path.clone().unwrap_or_else(|| dir.clone()),
                problems: missing,
            });
        }
    }
    let mut feeds = Vec::new();
    let mut market_names = Vec::new();
    for path in paths {
        let id = stem(&path);
        let wanted: Vec<&String> = selected
            .iter()
            .filter(|name| definition_of(name).as_deref() == Some(id.as_str()))
            .collect();
        if !selected.is_empty() && wanted.is_empty() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|source| FeedError::Folder {
            path: path.clone(),
            source,
        })?;
        let raw: RawFeed = toml::from_str(&text).map_err(|err| FeedError::Parse {
            path: path.clone(),
            message: render_toml_error(&text, &err),
        })?;
        if raw.markets.is_empty() {
            if wanted.iter().any(|name| **name != id) {
                return Err(FeedError::Invalid {
                    path,
                    problems: vec![format!(
                        "`{}` names a market, but this feed has no `markets`",
                        wanted
                            .iter()
                            .find(|name| ***name != id)
                            .map_or("", |n| n.as_str())
                    )],
                });
            }
            let rates = markets::load_rates(&raw, &config.base_dir);
            feeds.push(compile_checked(
                config, specs, id, &path, raw, &text, rates,
            )?);
            continue;
        }
        let markets =
            markets::markets(&raw, &id, &text).map_err(|problems| FeedError::Invalid {
                path: path.clone(),
                problems,
            })?;
        // Each market would be its own feed publishing the whole part: the partition's
        // promise (never more than the physical stock in total) would not hold.
        if config
            .partition
            .as_ref()
            .is_some_and(|partition| partition.slot_of(&id).is_some())
        {
            return Err(FeedError::Invalid {
                path: path.clone(),
                problems: vec![format!(
                    "`markets`: this feed is in the [allocation] partition, which splits stock                      between single feeds; take `{id}` out of [allocation], or define one feed                      per market and list those"
                )],
            });
        }
        let rates = markets::load_rates(&raw, &config.base_dir);
        let whole = wanted.is_empty() || wanted.iter().any(|name| **name == id);
        for market in &markets {
            let market_id = format!("{id}.{}", market.id);
            market_names.push(market_id.clone());
            if !whole && !wanted.iter().any(|name| **name == market_id) {
                continue;
            }
            let mut feed = compile_checked(
                config,
                specs,
                market_id,
                &path,
                market.apply(&raw),
                &text,
                rates.clone(),
            )
            .map_err(|err| match err {
                FeedError::Invalid { path, problems } => FeedError::Invalid {
                    path,
                    problems: problems
                        .into_iter()
                        .map(|p| format!("market `{}`: {p}", market.id))
                        .collect(),
                },
                other => other,
            })?;
            feed.market = Some(markets::MarketOf {
                definition: id.clone(),
                market: market.id.clone(),
            });
            feeds.push(feed);
        }
    }
    for name in selected {
        let matched = feeds.iter().any(|feed| {
            feed.id == *name || feed.market.as_ref().is_some_and(|m| m.definition == *name)
        });
        if !matched {
            return Err(FeedError::Unknown {
                name: name.clone(),
                known: market_names,
                dir: dir.display().to_string(),
            });
        }
    }
    destination::check_targets(config, &feeds, None)?;
    Ok(feeds)
}

/// [`compile`] with the checks of output paths and the rates file, every problem at once.
fn compile_checked(
    config: &Config,
    specs: &BTreeMap<String, ChannelSpec>,
    id: String,
    path: &Path,
    raw: RawFeed,
    text: &str,
    rates: Result<Option<Arc<crate::model::exchange::Rates>>, String>,
) -> Result<Feed, FeedError> {
    let mut problems = destination::definition_problems(&raw, &id, text);
    let rates = rates.unwrap_or_else(|problem| {
        problems.push(problem);
        None
    });
    let feed = compile(config, specs, id, path, raw, text);
    if problems.is_empty() {
        return feed.map(|feed| Feed { rates, ..feed });
    }
    if let Err(FeedError::Invalid { problems: more, .. }) = feed {
        problems.extend(more);
    }
    Err(FeedError::Invalid {
        path: path.to_owned(),
        problems,
    })
}

fn compile(
    config: &Config,
    specs: &BTreeMap<String, ChannelSpec>,
    id: String,
    path: &Path,
    raw: RawFeed,
    text: &str,
) -> Result<Feed, FeedError> {
    let mut problems = Vec::new();
    let invalid = |problems: Vec<String>| FeedError::Invalid {
        path: path.to_owned(),
        problems,
    };
    let Some(spec) = specs.get(&raw.channel) else {
        let known: Vec<String> = specs.keys().cloned().collect();
        return Err(invalid(vec![format!(
            "channel `{}` is not a known spec{}",
            raw.channel,
            did_you_mean(&raw.channel, &known)
        )]));
    };
    let format = match &raw.format {
        Some(name) => spec.formats.get(name).cloned().ok_or_else(|| {
            format!(
                "format `{name}` is not one of {}'s: {}",
                spec.id,
                spec.formats.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        }),
        None if spec.formats.len() == 1 => spec
            .formats
            .values()
            .next()
            .cloned()
            .ok_or_else(|| "the spec has no format".to_owned()),
        None => Err(format!(
            "say which format: {}",
            spec.formats.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
    };
    let format = match format {
        Ok(format) => Some(format),
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let currency = match raw.currency.as_deref() {
        None => None,
        Some(code) => {
            let currency = Currency::parse(code);
            if currency.is_none() {
                problems.push(format!("currency `{code}` is not an ISO 4217 code"));
            }
            currency
        }
    };
    let price_adjust = match raw.price_adjust.as_deref().map(PriceAdjust::parse) {
        None => None,
        Some(Ok(rule)) => Some(rule),
        Some(Err(problem)) => {
            problems.push(problem);
            None
        }
    };
    problems.extend(raw.country.as_deref().and_then(names::check_country));
    problems.extend(raw.language.as_deref().and_then(names::check_language));
    let time_zone = match raw.time_zone.as_deref() {
        None => config.time_zone.clone(),
        Some(name) => TimeZone::get(name).unwrap_or_else(|_| {
            problems.push(format!("time_zone `{name}` is not an IANA time zone"));
            TimeZone::UTC
        }),
    };
    let mut templates = minijinja::Environment::new();
    templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    templates.set_fuel(Some(100_000));
    let mut overrides = vec![None; spec.fields.len()];
    let known_variables: Vec<String> = template_variables().collect();
    for (field, source) in &raw.fields {
        let Some(index) = spec.field_index(field) else {
            let known: Vec<String> = spec.fields.iter().map(|f| f.name.clone()).collect();
            problems.push(format!(
                "[fields] `{field}` is not a field of {}{}",
                spec.id,
                did_you_mean(field, &known)
            ));
            continue;
        };
        if spec.fields[index].kind == crate::spec::FieldType::Group {
            let table = match spec.fields[index].source {
                crate::spec::ValueSource::Derived(crate::spec::Derived::Tax) => "tax",
                _ => "shipping",
            };
            problems.push(format!(
                "[fields] `{field}` is written from the feed's rules in {}'s own form; give them as [[{table}.rules]] instead",
                spec.id
            ));
            continue;
        }
        if !source.contains("{{") && !source.contains("{%") {
            overrides[index] = Some(Override::Const(source.clone()));
            continue;
        }
        let name = format!("fields.{field}");
        match templates.add_template_owned(name.clone(), source.clone()) {
            Ok(()) => {
                problems.extend(templates::check(&templates, &name, field, &known_variables));
                // minijinja's own variable analysis misses some expressions (slices), so
                // every known name the source mentions is provided: a superset is harmless.
                let variables = template_variables()
                    .filter(|variable| source.contains(variable.as_str()))
                    .collect();
                overrides[index] = Some(Override::Template { name, variables });
            }
            Err(err) => problems.push(format!("[fields] `{field}`: template error: {err}")),
        }
    }
    let mut spec = spec.clone();
    for field in &raw.no_fallback {
        match spec.field_index(field).map(|index| &mut spec.fields[index]) {
            Some(spec_field) if spec_field.fallback.is_some() => spec_field.fallback = None,
            Some(_) => problems.push(format!(
                "no_fallback: `{field}` has no fallback in {}",
                spec.id
            )),
            None => problems.push(format!(
                "no_fallback: `{field}` is not a field of {}",
                spec.id
            )),
        }
    }
    let mut category_map: Vec<(String, String)> = raw
        .category_map
        .iter()
        .map(|(prefix, category)| (prefix.clone(), category.clone()))
        .collect();
    let mut warnings = Vec::new();
    categories::check(
        &spec,
        &category_map,
        &config.taxonomy,
        &mut problems,
        &mut warnings,
    );
    category_map.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    if let Some(format) = &format {
        for name in placeholders(&spec, format) {
            if !raw.params.contains_key(&name) && !builtin_param(&name, &raw, config) {
                problems.push(format!(
                    "the {} spec needs [params] {name} = \"...\"",
                    spec.id
                ));
            }
        }
    }
    let market = shipping::Market {
        country: raw
            .country
            .as_deref()
            .or(config.defaults.country.as_deref()),
        currency,
        default_currency: config
            .defaults
            .currency
            .as_deref()
            .and_then(Currency::parse),
        text,
    };
    let shipping_rules = shipping::compile_shipping(&raw.shipping, &market, &mut problems);
    let tax_rules = shipping::compile_tax(&raw.tax, text, &mut problems);
    shipping::check_against_spec(
        &spec,
        market.country,
        &shipping_rules,
        &tax_rules,
        &mut problems,
        &mut warnings,
    );
    problems.extend(
        raw.guards
            .validate()
            .into_iter()
            .chain(raw.guards.missing_roles(&spec.id, &spec.roles))
            .map(|e| format!("[guards] {e}")),
    );
    problems.extend(
        raw.destination
            .spec_problems(&spec)
            .into_iter()
            .map(|e| format!("[destination] {e}")),
    );
    let stock_policy = compile_stock(&raw.stock, &mut problems);
    let partition = config.partition.as_ref().and_then(|partition| {
        let slot = partition.slot_of(&id)?;
        if raw.stock.locations.is_some() {
            problems.push(
                "[stock] locations: this feed is in the [allocation] partition, whose \
                 `locations` decide the stock it splits; remove them here"
                    .to_owned(),
            );
        }
        if spec.per_store {
            problems.push(format!(
                "[allocation] cannot partition {}: it publishes each store's own stock",
                spec.id
            ));
        }
        Some((Arc::clone(partition), slot))
    });
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let out = raw.destination.local_folder();
    let format = format.ok_or_else(|| invalid(vec!["no format".into()]))?;
    Ok(Feed {
        file_stem: raw.file.clone().unwrap_or_else(|| id.clone()),
        id,
        path: path.to_owned(),
        spec,
        gzip: raw.gzip.unwrap_or(format.gzip),
        format,
        country: raw.country.or_else(|| config.defaults.country.clone()),
        language: raw.language.or_else(|| config.defaults.language.clone()),
        currency,
        price_adjust,
        time_zone,
        rss: raw.rss,
        filters: raw.filters,
        overrides,
        templates,
        category_map,
        params: raw.params,
        // A partition's feeds all split the same stock: its locations.
        stock_locations: match &partition {
            Some((partition, _)) => partition.locations.clone(),
            None => raw.stock.locations,
        },
        stock_buffer: raw.stock.buffer,
        stock_policy,
        partition,
        shipping: shipping_rules,
        tax: tax_rules,
        destination: config.base_dir.join(out),
        delivery: raw.destination.resolved(&config.base_dir),
        guards: raw.guards,
        taxonomy: Arc::clone(&config.taxonomy),
        warnings,
        market: None,
        rates: None,
        catalog_time_zone: config.time_zone.clone(),
    })
}

/// `[stock]` buffer, share, cap and thresholds, checked.
fn compile_stock(
    raw: &definition::RawStock,
    problems: &mut Vec<String>,
) -> crate::allocate::StockPolicy {
    if let Some(share) = raw.share
        && !(1..=100).contains(&share)
    {
        problems.push(format!(
            "[stock] share = {share} is not a percentage from 1 to 100"
        ));
    }
    crate::allocate::StockPolicy {
        buffer: raw.buffer,
        share: raw.share,
        cap: raw.cap,
        thresholds: raw.thresholds.compile(problems),
    }
}

/// Names a field template can read: every canonical field and the derived values.
pub fn template_variables() -> impl Iterator<Item = String> {
    crate::model::Field::ALL
        .iter()
        .map(|field| field.name().to_owned())
        .chain(
            [
                "custom",
                "availability",
                "quantity",
                "description_text",
                "country",
                "language",
                "currency",
            ]
            .into_iter()
            .map(str::to_owned),
        )
}

/// Placeholders the feed fills itself, from its market settings.
/// Only when the feed (or the config's defaults) gives the value: an unfilled placeholder
/// would reach the channel as literal `{currency}`.
fn builtin_param(name: &str, raw: &RawFeed, config: &Config) -> bool {
    match name {
        "country" => raw.country.is_some() || config.defaults.country.is_some(),
        "language" => raw.language.is_some() || config.defaults.language.is_some(),
        "currency" => raw.currency.is_some(),
        _ => false,
    }
}

/// `{name}` placeholders used by the spec's envelope, constants and `with` values.
fn placeholders(spec: &ChannelSpec, format: &FormatSpec) -> BTreeSet<String> {
    let mut texts: Vec<String> = Vec::new();
    if let Some(envelope) = &format.envelope {
        texts.push(envelope.to_string());
    }
    for field in &spec.fields {
        if let crate::spec::ValueSource::Const(value) = &field.source {
            texts.push(value.clone());
        }
        texts.extend(field.with.iter().map(|(_, value)| value.clone()));
    }
    let mut names = BTreeSet::new();
    for text in texts {
        let mut rest = text.as_str();
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            match after.find('}') {
                Some(end)
                    if end > 0
                        && after[..end]
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    names.insert(after[..end].to_owned());
                    rest = &after[end + 1..];
                }
                _ => rest = after,
            }
        }
    }
    names
}

/// Whether `text` is one optional placeholder (`{issue_locale?}`) that no param filled:
/// the JSON member holding it is left out instead of sent empty.
pub fn is_unfilled_optional(text: &str) -> bool {
    text.strip_prefix('{')
        .and_then(|rest| rest.strip_suffix("?}"))
        .is_some_and(|name| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

impl Feed {
    /// Replaces `{name}` placeholders with feed params and market settings.
    pub fn fill(&self, text: &str) -> String {
        if !text.contains('{') {
            return text.to_owned();
        }
        let mut out = text.to_owned();
        for (name, value) in &self.params {
            out = out.replace(&format!("{{{name}}}"), value);
            // `{name?}`: an optional param (Amazon's issueLocale), see `is_unfilled_optional`.
            out = out.replace(&format!("{{{name}?}}"), value);
        }
        let builtins = [
            ("country", self.country.as_deref()),
            ("language", self.language.as_deref()),
            ("currency", self.currency.as_ref().map(Currency::code)),
        ];
        for (name, value) in builtins {
            if let Some(value) = value {
                out = out.replace(&format!("{{{name}}}"), value);
            }
        }
        out
    }
}

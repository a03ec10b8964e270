//! `markets`: one feed definition fanned out to several countries, each compiled as a feed
//! of its own (own output file, own state key `FEED.MARKET`), with its own language and
//! currency.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

use super::RawFeed;
use crate::model::Currency;
use crate::model::exchange::Rates;

/// One entry of `markets`: a country code (`"CH"`, with its usual language and currency),
/// or a table.
#[derive(Debug, Clone)]
pub enum RawMarketEntry {
    Country(String),
    Table(RawMarket),
}

/// `[[markets]]`: a market spelled out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMarket {
    /// ISO 3166-1 alpha-2 country, e.g. `CH`.
    pub country: String,
    /// ISO 639-1 language of the market's texts (default: the country's usual one).
    pub language: Option<String>,
    /// ISO 4217 currency (default: the country's).
    pub currency: Option<String>,
    /// Output file name, with `{market}`, `{country}`, `{language}`, `{currency}`
    /// placeholders (default: the feed's `file`, else `FEED-{market}`).
    pub file: Option<String>,
    /// IANA time zone for this market's dates and sale windows (default: the feed's).
    pub time_zone: Option<String>,
    /// The market's name in the feed id `FEED.ID` and `{market}` (default: the country in
    /// lower case); needed when two markets share a country (`ch-fr`).
    pub id: Option<String>,
}

impl<'de> Deserialize<'de> for RawMarketEntry {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = RawMarketEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a country code such as \"DE\", or a table with `country`")
            }
            fn visit_str<E: de::Error>(self, code: &str) -> Result<RawMarketEntry, E> {
                Ok(RawMarketEntry::Country(code.to_owned()))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<RawMarketEntry, M::Error> {
                RawMarket::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawMarketEntry::Table)
            }
            fn visit_seq<S: SeqAccess<'de>>(self, _: S) -> Result<RawMarketEntry, S::Error> {
                Err(de::Error::custom(
                    "a market is a country code or a table, not a list",
                ))
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
}

/// A country's usual language and currency, for the short form `markets = ["DE", "AT"]`.
/// Countries not listed need a `[[markets]]` table naming both. A test holds every
/// currency against ISO 4217's list of the countries that use it.
const USUAL: &[(&str, &str, &str)] = &[
    ("AT", "de", "EUR"),
    ("AU", "en", "AUD"),
    ("BE", "nl", "EUR"),
    ("BG", "bg", "EUR"),
    ("BR", "pt", "BRL"),
    ("CA", "en", "CAD"),
    ("CH", "de", "CHF"),
    ("CY", "el", "EUR"),
    ("CZ", "cs", "CZK"),
    ("DE", "de", "EUR"),
    ("DK", "da", "DKK"),
    ("EE", "et", "EUR"),
    ("ES", "es", "EUR"),
    ("FI", "fi", "EUR"),
    ("FR", "fr", "EUR"),
    ("GB", "en", "GBP"),
    ("GR", "el", "EUR"),
    ("HR", "hr", "EUR"),
    ("HU", "hu", "HUF"),
    ("IE", "en", "EUR"),
    ("IN", "en", "INR"),
    ("IS", "is", "ISK"),
    ("IT", "it", "EUR"),
    ("JP", "ja", "JPY"),
    ("LI", "de", "CHF"),
    ("LT", "lt", "EUR"),
    ("LU", "fr", "EUR"),
    ("LV", "lv", "EUR"),
    ("MT", "mt", "EUR"),
    ("MX", "es", "MXN"),
    ("NL", "nl", "EUR"),
    ("NO", "nb", "NOK"),
    ("NZ", "en", "NZD"),
    ("PL", "pl", "PLN"),
    ("PT", "pt", "EUR"),
    ("RO", "ro", "RON"),
    ("SE", "sv", "SEK"),
    ("SI", "sl", "EUR"),
    ("SK", "sk", "EUR"),
    ("TR", "tr", "TRY"),
    ("US", "en", "USD"),
];

/// One market's settings, checked.
#[derive(Debug, Clone)]
pub struct Market {
    pub id: String,
    pub country: String,
    pub language: String,
    pub currency: String,
    pub file: String,
    pub time_zone: Option<String>,
}

/// Which market a feed was fanned out for.
#[derive(Debug, Clone)]
pub struct MarketOf {
    /// The definition's file stem: `omnifeed export google` selects all its markets.
    pub definition: String,
    pub market: String,
}

/// The markets of `raw`, checked, or the problems (each naming the entry).
pub fn markets(raw: &RawFeed, stem: &str, text: &str) -> Result<Vec<Market>, Vec<String>> {
    let mut problems = Vec::new();
    for key in ["country", "language", "currency"] {
        let set = match key {
            "country" => raw.country.is_some(),
            "language" => raw.language.is_some(),
            _ => raw.currency.is_some(),
        };
        if set {
            problems.push(format!(
                "`{key}` and `markets` are both set: each market has its own {key}\n  hint: remove `{key}`, or give it in a [[markets]] table"
            ));
        }
    }
    let mut out: Vec<Market> = Vec::with_capacity(raw.markets.len());
    for (index, entry) in raw.markets.iter().enumerate() {
        let line = super::lines::array_item_line(text, &["markets"], index, "country")
            .map_or_else(String::new, |n| format!("line {n}: "));
        let table = match entry {
            RawMarketEntry::Country(code) => RawMarket {
                country: code.clone(),
                language: None,
                currency: None,
                file: None,
                time_zone: None,
                id: None,
            },
            RawMarketEntry::Table(table) => table.clone(),
        };
        let at = format!("{line}markets[{}] `{}`", index + 1, table.country);
        if let Some(problem) = super::names::check_country(&table.country) {
            problems.push(format!("{at}: {problem}"));
            continue;
        }
        let usual = USUAL.iter().find(|(country, ..)| *country == table.country);
        let language = table
            .language
            .clone()
            .or_else(|| usual.map(|u| u.1.to_owned()));
        let currency = table
            .currency
            .clone()
            .or_else(|| usual.map(|u| u.2.to_owned()));
        let (Some(language), Some(currency)) = (language, currency) else {
            problems.push(format!(
                "{at}: omnifeed does not know this country's usual language and currency\n  hint: write it as a table: [[markets]] country = \"{}\", language = \"..\", currency = \"..\"",
                table.country
            ));
            continue;
        };
        if let Some(problem) = super::names::check_language(&language) {
            problems.push(format!("{at}: {problem}"));
        }
        if Currency::parse(&currency).is_none() {
            problems.push(format!(
                "{at}: currency `{currency}` is not a current ISO 4217 code"
            ));
        }
        let id = table
            .id
            .clone()
            .unwrap_or_else(|| table.country.to_ascii_lowercase());
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            problems.push(format!(
                "{at}: id `{id}` may hold only letters, digits, `-` and `_`"
            ));
        }
        if out.iter().any(|market| market.id == id) {
            problems.push(format!(
                "{at}: a second market `{id}`\n  hint: give markets that share a country an `id` each, e.g. id = \"ch-fr\""
            ));
        }
        let template = table
            .file
            .clone()
            .or_else(|| raw.file.clone())
            .unwrap_or_else(|| format!("{stem}-{{market}}"));
        let file = template
            .replace("{market}", &id)
            .replace("{country}", &table.country)
            .replace("{language}", &language)
            .replace("{currency}", &currency);
        out.push(Market {
            id,
            country: table.country,
            language,
            currency,
            file,
            time_zone: table.time_zone,
        });
    }
    if !out.is_empty() {
        let mut files: Vec<&str> = out.iter().map(|m| m.file.as_str()).collect();
        files.sort_unstable();
        if let Some(pair) = files.windows(2).find(|pair| pair[0] == pair[1]) {
            problems.push(format!(
                "two markets write `{}`\n  hint: put `{{market}}` in `file`, e.g. file = \"{stem}-{{market}}\"",
                pair[0]
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

impl Market {
    /// The definition as this market's own feed.
    pub fn apply(&self, raw: &RawFeed) -> RawFeed {
        let mut one = raw.clone();
        one.markets.clear();
        one.country = Some(self.country.clone());
        one.language = Some(self.language.clone());
        one.currency = Some(self.currency.clone());
        one.file = Some(self.file.clone());
        if let Some(zone) = &self.time_zone {
            one.time_zone = Some(zone.clone());
        }
        one
    }
}

/// Reads the definition's `rates` file, relative to omnifeed.toml.
pub fn load_rates(raw: &RawFeed, base: &Path) -> Result<Option<Arc<Rates>>, String> {
    let Some(path) = &raw.rates else {
        return Ok(None);
    };
    let path = base.join(path);
    Rates::load(&path)
        .map(|rates| Some(Arc::new(rates)))
        .map_err(|err| format!("rates: {err}"))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::USUAL;

    #[test]
    fn usual_currencies_are_the_countries_own() {
        for (country, language, currency) in USUAL {
            let code = iso_currency::Currency::from_code(currency).expect(currency);
            let country_code = iso_currency::Country::from_str(country).expect(country);
            assert!(
                code.used_by().contains(&country_code),
                "{currency} is not used in {country}"
            );
            assert!(
                isolang::Language::from_639_1(language).is_some(),
                "{language}"
            );
        }
    }
}

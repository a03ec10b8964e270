//! Small readings the shop exports share: option names, flags, dates, lists.

use rust_decimal::Decimal;

use crate::model::Field;

/// Whether `text` is an absolute http(s) address with a host.
pub fn is_web_address(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// The variant attribute a shop's option or attribute name stands for, in the languages
/// shops are commonly run in; other names stay custom attributes under their own name.
pub(super) fn variant_attribute(name: &str) -> Option<Field> {
    let name = name.trim().to_lowercase();
    let name = name.strip_prefix("pa_").unwrap_or(&name);
    match name {
        "color" | "colour" | "farbe" | "couleur" | "colore" | "kleur" | "färg" | "farve"
        | "farge" | "kolor" | "cor" => Some(Field::Color),
        "size" | "größe" | "groesse" | "grösse" | "taille" | "talla" | "taglia" | "maat"
        | "storlek" | "størrelse" | "rozmiar" | "tamanho" | "shoe size" | "clothing size" => {
            Some(Field::Size)
        }
        "material" | "matière" | "matiere" | "materiale" | "materiaal" | "materiał" => {
            Some(Field::Material)
        }
        "pattern" | "muster" | "motif" | "patrón" | "patron" | "motivo" => Some(Field::Pattern),
        "gender" | "geschlecht" | "genre" | "género" => Some(Field::Gender),
        "age group" | "age_group" | "altersgruppe" => Some(Field::AgeGroup),
        _ => None,
    }
}

/// A yes/no cell as the shops write it (`TRUE`, `1`, `yes`).
pub(super) fn is_yes(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "y"
    )
}

/// Whether `text` is a decimal amount above `other` (both read exactly).
pub(super) fn amount_above(text: &str, other: &str) -> bool {
    match (text.parse::<Decimal>(), other.parse::<Decimal>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}

/// A shop's sale date as the canonical ISO 8601 form. Shops write `2026-11-20`,
/// `2026-11-20 00:00:00` or (Magento in US locale) `11/20/26`; a value that is none of
/// these passes unchanged, for the loader to report.
///
/// An end date without a time means the whole day, as the shops apply it: the sale ends
/// at the start of the next day.
pub(super) fn sale_date(text: &str, is_end: bool) -> String {
    let text = text.trim();
    let date_only = |date: jiff::civil::Date| {
        if is_end {
            date.tomorrow()
                .map_or_else(|_| date.to_string(), |d| d.to_string())
        } else {
            date.to_string()
        }
    };
    // jiff reads the date of a date-time too: a time must be looked at first.
    if let Some((date, time)) = text.split_once(' ')
        && let (Ok(date), Ok(time)) = (
            date.parse::<jiff::civil::Date>(),
            time.parse::<jiff::civil::Time>(),
        )
    {
        if is_end && time == jiff::civil::Time::midnight() {
            return date_only(date);
        }
        if is_end && time.hour() == 23 && time.minute() == 59 {
            // WooCommerce stores the end as 23:59:59 of the last day.
            return date_only(date);
        }
        return date.to_datetime(time).to_string();
    }
    if !text.contains(['T', ' '])
        && let Ok(date) = text.parse::<jiff::civil::Date>()
    {
        return date_only(date);
    }
    let us = text.split('/').collect::<Vec<_>>();
    if let [month, day, year] = us.as_slice()
        && let (Ok(month), Ok(day), Ok(year)) = (
            month.parse::<i8>(),
            day.parse::<i8>(),
            year.split(' ').next().unwrap_or("").parse::<i16>(),
        )
    {
        let year = if year < 100 { 2000 + year } else { year };
        if let Ok(date) = jiff::civil::Date::new(year, month, day) {
            return date_only(date);
        }
    }
    text.to_owned()
}

/// Splits a list cell on `separator`, trimming each entry and dropping empty ones.
pub(super) fn list(text: &str, separator: char) -> impl Iterator<Item = &str> {
    text.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `base` and `path` joined by exactly one `/`.
pub(super) fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// A channel enum value as the shops capitalise it (`Unisex`, `Adult`, `New`) in the
/// lower case the channels use.
pub(super) fn lower(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A category path written with `/` (Magento) or ` > ` as the canonical ` > ` path.
pub(super) fn category_path<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" > ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sale_end_dates_cover_their_whole_day() {
        assert_eq!(sale_date("2026-11-20", false), "2026-11-20");
        assert_eq!(sale_date("2026-11-30", true), "2026-12-01");
        assert_eq!(sale_date("2026-11-30 23:59:59", true), "2026-12-01");
        assert_eq!(
            sale_date("2026-11-20 08:30:00", false),
            "2026-11-20T08:30:00"
        );
        assert_eq!(sale_date("11/20/26", false), "2026-11-20");
        assert_eq!(sale_date("12/31/2026", true), "2027-01-01");
        assert_eq!(sale_date("next week", true), "next week");
    }

    #[test]
    fn option_names_in_other_languages_are_recognised() {
        assert_eq!(variant_attribute("Farbe"), Some(Field::Color));
        assert_eq!(variant_attribute("pa_color"), Some(Field::Color));
        assert_eq!(variant_attribute("Taille"), Some(Field::Size));
        assert_eq!(variant_attribute("Style"), None);
    }
}

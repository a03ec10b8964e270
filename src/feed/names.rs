//! Names in a feed's settings that must match something outside it: market codes (ISO 3166-1
//! countries, ISO 639-1 languages), and, once the catalog is open, the locations its
//! `[stock]` counts and the columns its `[filters] custom` reads. A typo there filters every
//! item out or makes every item out of stock without a single error, so it is a config error.

use std::str::FromStr;

use crate::load::{CatalogColumns, Locations};

use super::{Feed, FeedError};

/// Checks every feed against the catalog as the first batch shows it, before anything is
/// written: the first feed with a problem is a config error naming its file and keys.
pub fn check_feeds_against_catalog(
    feeds: &[Feed],
    columns: &CatalogColumns,
    locations: &Locations,
) -> Result<(), FeedError> {
    for feed in feeds {
        let problems = check_against_catalog(feed, columns, locations);
        if !problems.is_empty() {
            return Err(FeedError::Invalid {
                path: feed.path.clone(),
                problems,
            });
        }
    }
    Ok(())
}

/// `country` must be an ISO 3166-1 alpha-2 code as channels spell it (`DE`).
pub fn check_country(code: &str) -> Option<String> {
    let upper = code.to_ascii_uppercase();
    let known = |code: &str| {
        code.len() == 2
            && iso_currency::Country::from_str(code)
                .is_ok_and(|country| country != iso_currency::Country::Unspecified)
    };
    if known(code) && code == upper {
        return None;
    }
    Some(if known(&upper) {
        format!("country `{code}`: write ISO 3166-1 codes in upper case: `{upper}`")
    } else {
        format!("country `{code}` is not an ISO 3166-1 alpha-2 code such as DE, US or GB")
    })
}

/// `language` must be an ISO 639-1 code as channels spell it (`de`).
pub fn check_language(code: &str) -> Option<String> {
    let lower = code.to_ascii_lowercase();
    let known = |code: &str| isolang::Language::from_639_1(code).is_some();
    if known(code) && code == lower {
        return None;
    }
    Some(if known(&lower) {
        format!("language `{code}`: write ISO 639-1 codes in lower case: `{lower}`")
    } else {
        format!("language `{code}` is not an ISO 639-1 code such as de, en or fr")
    })
}

/// Problems with names the feed takes from the catalog: every `[stock] locations` entry must
/// be in the locations table, every `[filters] custom` key an unmapped products column.
pub fn check_against_catalog(
    feed: &Feed,
    columns: &CatalogColumns,
    locations: &Locations,
) -> Vec<String> {
    let mut problems = Vec::new();
    let location_ids: Vec<&str> = locations.list.iter().map(|l| l.id.as_str()).collect();
    // A partition's feeds count the locations `[allocation]` names.
    let setting = match feed.partition {
        Some(_) => "[allocation] locations",
        None => "[stock] locations",
    };
    for name in feed.stock_locations.iter().flatten() {
        if !location_ids.contains(&name.as_str()) {
            problems.push(format!(
                "{setting} names `{name}`, which is not in the locations table{}",
                suggestion(name, &location_ids)
            ));
        }
    }
    if columns.complete {
        let custom: Vec<&str> = columns.custom.iter().map(|c| &**c).collect();
        for key in feed.filters.custom.keys() {
            if custom.contains(&key.as_str()) {
                continue;
            }
            let canonical = crate::model::Field::parse(key).is_some();
            problems.push(if canonical {
                format!(
                    "[filters] custom names `{key}`, a canonical field, not a custom column; filter it with brands, product_types or conditions, or filter on an unmapped column"
                )
            } else {
                format!(
                    "[filters] custom names the column `{key}`, which the products table does not have{}",
                    suggestion(key, &custom)
                )
            });
        }
    }
    problems
}

/// "; did you mean `X`?" for a close name, else the names there are (when few).
fn suggestion(name: &str, known: &[&str]) -> String {
    let close = known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), k))
        .min()
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 3));
    match close {
        Some((_, k)) => format!("; did you mean `{k}`?"),
        None if known.is_empty() => "; it has none".to_owned(),
        None if known.len() <= 12 => format!("; it has: {}", known.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_country, check_language, suggestion};

    #[test]
    fn market_codes_follow_iso() {
        assert_eq!(check_country("DE"), None);
        assert_eq!(check_country("GB"), None);
        assert!(check_country("de").unwrap().contains("`DE`"));
        assert!(check_country("UK").unwrap().contains("not an ISO 3166-1"));
        assert!(check_country("DEU").is_some());
        assert!(check_country("").is_some());
        assert_eq!(check_language("de"), None);
        assert!(check_language("EN").unwrap().contains("`en`"));
        assert!(check_language("xx").unwrap().contains("not an ISO 639-1"));
        assert!(check_language("deu").is_some());
        assert!(check_language("en-US").is_some());
    }

    #[test]
    fn close_names_are_suggested() {
        assert_eq!(
            suggestion("WH-MIAN", &["WH-MAIN", "STORE-1"]),
            "; did you mean `WH-MAIN`?"
        );
        assert_eq!(suggestion("seasn", &["season"]), "; did you mean `season`?");
        assert_eq!(suggestion("zzz", &["season"]), "; it has: season");
    }
}

//! ISO 8601 dates and date-times as catalogs write them.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// Accepts `2026-11-20T00:00:00+01:00`, `…+0100`, `…Z`, `2026-11-20T00:00` and `2026-11-20`;
/// values without an offset are read in `tz`.
pub fn parse_datetime(text: &str, tz: &TimeZone) -> Option<Timestamp> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = text.parse::<DateTime>() {
        return dt.to_zoned(tz.clone()).ok().map(|z| z.timestamp());
    }
    if let Ok(date) = text.parse::<Date>() {
        return date.to_zoned(tz.clone()).ok().map(|z| z.timestamp());
    }
    None
}

/// Whether `text` names an instant by itself (an offset or `Z`), rather than a wall-clock
/// time that needs a time zone.
pub fn has_offset(text: &str) -> bool {
    text.parse::<Timestamp>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_with_and_without_colon_agree() {
        let utc = TimeZone::UTC;
        let a = parse_datetime("2026-11-20T00:00:00+01:00", &utc).unwrap();
        let b = parse_datetime("2026-11-20T00:00+0100", &utc).unwrap();
        let c = parse_datetime("2026-11-19T23:00:00Z", &utc).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn offset_free_values_use_the_catalog_time_zone() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let local = parse_datetime("2026-11-20T00:00", &berlin).unwrap();
        assert_eq!(
            local,
            parse_datetime("2026-11-19T23:00:00Z", &berlin).unwrap()
        );
        let date = parse_datetime("2026-07-01", &berlin).unwrap();
        assert_eq!(
            date,
            parse_datetime("2026-06-30T22:00:00Z", &berlin).unwrap()
        );
    }

    #[test]
    fn garbage_is_refused() {
        for text in [
            "2026-13-45",
            "tomorrow",
            "",
            "2026-11-20T25:00",
            "20/11/2026",
        ] {
            assert!(parse_datetime(text, &TimeZone::UTC).is_none(), "{text}");
        }
    }
}

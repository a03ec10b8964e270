//! Compile-time checks of a field's value rules (`refused_prefixes`, `max_days_ahead`,
//! `url_endings`, `parts`, `max_bytes`) and of availability maps that could leak a value the
//! channel refuses.

use super::raw::{FieldType, RawField};

/// The value checks beyond type and length: each only where its type can run it, and an
/// enum fed by availability must give every availability a value the channel takes.
pub(super) fn check(raw: &RawField, problems: &mut Vec<String>) {
    let name = &raw.name;
    // (key, whether it is set, the one type it applies to)
    let typed_keys = [
        (
            "refused_prefixes",
            !raw.refused_prefixes.is_empty(),
            FieldType::Gtin,
            "gtin",
        ),
        (
            "max_days_ahead",
            raw.max_days_ahead.is_some(),
            FieldType::Date,
            "date",
        ),
        (
            "url_endings",
            raw.url_endings.is_some(),
            FieldType::Url,
            "url",
        ),
        ("parts", raw.parts.is_some(), FieldType::Text, "text"),
    ];
    for (key, set, kind, kind_name) in typed_keys {
        if set && raw.kind != kind {
            problems.push(format!(
                "field `{name}`: `{key}` applies to type `{kind_name}` only"
            ));
        }
    }
    for refused in &raw.refused_prefixes {
        if refused.prefixes.is_empty() || refused.reason.trim().is_empty() {
            problems.push(format!(
                "field `{name}`: each refused_prefixes entry needs `prefixes` and a `reason`"
            ));
        }
        for prefix in &refused.prefixes {
            if prefix.is_empty() || prefix.len() > 12 || !prefix.bytes().all(|b| b.is_ascii_digit())
            {
                problems.push(format!(
                    "field `{name}`: refused prefix `{prefix}` must be 1 to 12 digits"
                ));
            }
        }
    }
    if let Some(parts) = &raw.parts {
        if parts.separator.is_empty() {
            problems.push(format!("field `{name}`: parts.separator must not be empty"));
        }
        if parts.max == Some(0) || parts.max_length == Some(0) {
            problems.push(format!(
                "field `{name}`: parts.max and parts.max_length must be at least 1"
            ));
        }
    }
    if raw.max_bytes == Some(0) {
        problems.push(format!("field `{name}`: max_bytes must be at least 1"));
    }
    if raw
        .url_endings
        .as_ref()
        .is_some_and(|endings| endings.is_empty() || endings.iter().any(|e| !e.starts_with('.')))
    {
        problems.push(format!(
            "field `{name}`: url_endings lists endings that start with `.`, e.g. [\".jpeg\", \".png\"]"
        ));
    }
    if let Some(values) = raw.values.as_ref().filter(|_| raw.kind == FieldType::Enum) {
        let fed_by_availability = matches!(
            raw.source.as_deref().unwrap_or(name),
            "availability" | "store_availability"
        ) && raw.value.is_none();
        if fed_by_availability {
            // A canonical availability the map does not respell passes through as it is:
            // it must be one of `values`, or the channel would get a value it refuses.
            // Limited availability is sent only where `values` has it (the feed's
            // thresholds send in_stock elsewhere), so it needs no value of its own.
            for canonical in crate::model::Availability::ALL
                .into_iter()
                .filter(|a| *a != crate::model::Availability::LimitedAvailability)
            {
                let canonical = canonical.as_str();
                let sent = raw.map.get(canonical).map_or(canonical, String::as_str);
                if !values.iter().any(|v| v == sent) {
                    problems.push(format!(
                        "field `{name}`: availability `{canonical}` would be sent as `{sent}`, which is not in `values`; map it to one of {} (map = {{ {canonical} = \"…\" }})",
                        values.join(", ")
                    ));
                }
            }
        }
    }
}

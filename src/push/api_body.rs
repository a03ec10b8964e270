//! JSON request bodies for item APIs, built from the channel spec: each field's `api` path
//! says where its value goes and how it is encoded ([`crate::spec::api`]); fields without
//! one go to the spec's custom attributes as `{name, value}` pairs. No attribute names live
//! here.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::ItemValues;
use crate::spec::ChannelSpec;
use crate::spec::api::{ApiEncoding, ApiField};
use crate::spec::compile::FieldSpec;

/// The body for one item: every field of `spec` that has a value, except the fields at
/// `skip` (those that name the resource in the URL). The error names the field.
pub fn build(spec: &ChannelSpec, values: &ItemValues, skip: &[usize]) -> Result<Value, String> {
    let mut body = Map::new();
    let mut custom = Vec::new();
    for (index, field) in spec.fields.iter().enumerate() {
        if skip.contains(&index) {
            continue;
        }
        let Some(list) = values.get(&field.name).filter(|list| !list.is_empty()) else {
            continue;
        };
        match &field.api {
            Some(api) => {
                let value =
                    encode(field, api, list).map_err(|why| format!("`{}`: {why}", field.name))?;
                insert(&mut body, &api.path, value);
            }
            None => custom.push(json!({ "name": field.name, "value": list.join(",") })),
        }
    }
    if let Some(path) = spec
        .api
        .as_ref()
        .and_then(|api| api.custom_attributes.as_ref())
        && !custom.is_empty()
    {
        insert(&mut body, path, Value::Array(custom));
    }
    Ok(Value::Object(body))
}

fn insert(body: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = body;
    for part in parents {
        let entry = node
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        // Just made an object if it was not one.
        let Value::Object(next) = entry else { return };
        node = next;
    }
    node.insert(last.clone(), value);
}

/// One field's values in the API's encoding.
pub fn encode(field: &FieldSpec, api: &ApiField, list: &[String]) -> Result<Value, String> {
    let first = list.first().map(String::as_str).unwrap_or_default();
    Ok(match api.encoding {
        ApiEncoding::Text => Value::String(list.join(",")),
        ApiEncoding::List => Value::Array(list.iter().map(|v| Value::String(v.clone())).collect()),
        ApiEncoding::Price => price(first)?,
        ApiEncoding::Enum => Value::String(
            api.values
                .get(first)
                .cloned()
                .unwrap_or_else(|| enum_name(first)),
        ),
        ApiEncoding::Boolean => match first.to_ascii_lowercase().as_str() {
            "yes" | "true" | "1" => Value::Bool(true),
            "no" | "false" | "0" => Value::Bool(false),
            _ => return Err(format!("{first:?} is not yes/no or true/false")),
        },
        ApiEncoding::Integer => {
            let n: i64 = first
                .trim()
                .parse()
                .map_err(|_| format!("{first:?} is not a whole number"))?;
            // proto3 JSON writes int64 as a string.
            Value::String(n.to_string())
        }
        ApiEncoding::Number => number(first)?,
        ApiEncoding::Timestamp => Value::String(timestamp(first, &field.date_format)?),
        ApiEncoding::Interval => {
            let (start, end) = first
                .split_once('/')
                .ok_or_else(|| format!("{first:?} is not `start/end`"))?;
            json!({
                "startTime": timestamp(start, &field.date_format)?,
                "endTime": timestamp(end, &field.date_format)?,
            })
        }
        ApiEncoding::Measure => {
            let (value, unit) = first
                .trim()
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("{first:?} is not `number unit`, e.g. `1.5 kg`"))?;
            json!({ "value": number(value)?, "unit": unit.trim() })
        }
    })
}

/// `15.00 EUR` as `{amountMicros: "15000000", currencyCode: "EUR"}`.
fn price(text: &str) -> Result<Value, String> {
    let (amount, currency) = text
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("{text:?} is not `amount CURRENCY`, e.g. `15.00 EUR`"))?;
    let amount: Decimal = amount
        .parse()
        .map_err(|_| format!("{amount:?} is not an amount"))?;
    let micros = amount
        .checked_mul(Decimal::from(1_000_000))
        .filter(|micros| micros.fract().is_zero())
        .and_then(|micros| i64::try_from(micros).ok())
        .ok_or_else(|| format!("{amount} has more than 6 decimals or is too large"))?;
    Ok(json!({ "amountMicros": micros.to_string(), "currencyCode": currency.trim() }))
}

fn number(text: &str) -> Result<Value, String> {
    let n: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    serde_json::Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| format!("{text:?} is not a finite number"))
}

/// A date written with the spec's `date_format`, as RFC 3339.
fn timestamp(text: &str, format: &str) -> Result<String, String> {
    let parsed = jiff::fmt::strtime::parse(format, text.trim())
        .map_err(|err| format!("{text:?} does not match `{format}`: {err}"))?;
    let at = match parsed.to_timestamp() {
        Ok(at) => at,
        // A date without a time or offset: midnight UTC.
        Err(_) => parsed
            .to_date()
            .and_then(|date| date.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|zoned| zoned.timestamp())
            .map_err(|err| format!("{text:?} is not a point in time: {err}"))?,
    };
    Ok(at.to_string())
}

/// `ship to store` -> `SHIP_TO_STORE`: upper case, every run of other characters one `_`.
fn enum_name(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_become_integer_micros_as_strings() {
        assert_eq!(
            price("15.99 EUR").unwrap(),
            json!({"amountMicros": "15990000", "currencyCode": "EUR"})
        );
        assert_eq!(
            price("1000 JPY").unwrap(),
            json!({"amountMicros": "1000000000", "currencyCode": "JPY"})
        );
        assert!(price("0.0000001 EUR").is_err());
        assert!(price("15.99").is_err());
    }

    #[test]
    fn enum_names_are_upper_snake_case() {
        assert_eq!(enum_name("in_stock"), "IN_STOCK");
        assert_eq!(enum_name("ship to store"), "SHIP_TO_STORE");
        assert_eq!(enum_name("not supported"), "NOT_SUPPORTED");
    }

    #[test]
    fn dates_in_the_spec_format_become_rfc3339() {
        assert_eq!(
            timestamp("2026-02-24T13:00+0100", "%Y-%m-%dT%H:%M%z").unwrap(),
            "2026-02-24T12:00:00Z"
        );
        assert_eq!(
            timestamp("2026-02-24", "%Y-%m-%d").unwrap(),
            "2026-02-24T00:00:00Z"
        );
    }
}

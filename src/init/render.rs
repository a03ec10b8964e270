//! The text of the `omnifeed.toml` and feed files `init` writes: settings with a comment
//! saying why each guess was made, so the user can check it at a glance.

use std::fmt::Write;

use super::detect::{Detection, Kind, show_delimiter};
use crate::load::preset::Preset;
use crate::model::Field;

/// What the config is written from, besides the detection.
pub struct ConfigInputs<'a> {
    /// The catalog folder relative to the config, and the file's name in it.
    pub catalog_dir: &'a str,
    pub file_name: &'a str,
    pub base_url: Option<(&'a str, String)>,
    pub currency: Option<(&'a str, String)>,
    pub country: Option<&'a str>,
    pub language: Option<&'a str>,
    pub command: &'a str,
}

/// A TOML string literal (quoted and escaped).
pub fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

pub fn config(detection: &Detection, inputs: &ConfigInputs<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Written by `{}`.", inputs.command);
    let _ = writeln!(
        out,
        "# Each setting below is a guess from the file's header and first rows; the comment\n# above it says why. Check them, then run `omnifeed validate`.\n"
    );
    let _ = writeln!(out, "[catalog]\ndir = {}\n", quote(inputs.catalog_dir));
    let _ = writeln!(
        out,
        "[catalog.products]\nfile = {}",
        quote(inputs.file_name)
    );
    if detection.delimiter != b',' {
        let _ = writeln!(
            out,
            "# Delimiter {}: {}.\ndelimiter = {}",
            show_delimiter(detection.delimiter),
            detection.delimiter_reason,
            quote(&match detection.delimiter {
                b'\t' => "\\t".to_owned(),
                other => (other as char).to_string(),
            })
        );
    }
    match &detection.kind {
        Kind::Preset { preset, reason } => {
            preset_settings(&mut out, detection, *preset, reason, inputs)
        }
        Kind::Plain { mapping } => plain_settings(&mut out, mapping),
    }
    let unknown = detection.unknown_columns();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "\n# Columns not read as a field ({}); each stays a custom attribute, for feed templates\n# (`{{{{ custom[\"NAME\"] }}}}`) and [filters] custom:",
            unknown.len()
        );
        for column in unknown {
            let _ = writeln!(out, "#   {column}");
        }
    }
    let _ = writeln!(out, "\n[defaults]");
    match &inputs.currency {
        Some((code, why)) => {
            let _ = writeln!(out, "# Currency: {why}.\ncurrency = {}", quote(code));
        }
        None => {
            let _ = writeln!(
                out,
                "# The file names each row's currency in its `currency` column."
            );
        }
    }
    if let Some(country) = inputs.country {
        let _ = writeln!(out, "country = {}", quote(country));
    }
    if let Some(language) = inputs.language {
        let _ = writeln!(out, "language = {}", quote(language));
    }
    out
}

fn preset_settings(
    out: &mut String,
    detection: &Detection,
    preset: Preset,
    reason: &str,
    inputs: &ConfigInputs<'_>,
) {
    let _ = writeln!(
        out,
        "# A {}: {reason}.\n# The preset reads it as exported, one item per sellable variant, and skips (and\n# counts) what is not for sale (README, \"Shop exports\").\npreset = {}",
        preset.title(),
        quote(preset.name())
    );
    match &inputs.base_url {
        Some((url, why)) => {
            let _ = writeln!(
                out,
                "# The export has no product URLs: links are built on the shop's address ({why}).\nbase_url = {}",
                quote(url)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "# The export has no product URLs, and no shop address was given: items get no link,\n# which channels require. Set it: base_url = \"https://your-shop.example\""
            );
        }
    }
    if preset == Preset::Shopify {
        let markets: Vec<&str> = detection
            .header
            .iter()
            .filter_map(|name| name.strip_prefix("Price / "))
            .collect();
        if !markets.is_empty() {
            let _ = writeln!(
                out,
                "# The export has market prices ({}); to sell in a market, give its currency\n# (the rows then carry one price per currency):",
                markets
                    .iter()
                    .map(|m| format!("`Price / {m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let entries: Vec<String> = markets
                .iter()
                .map(|m| format!("{} = \"CUR\"", quote(m)))
                .collect();
            let _ = writeln!(out, "# markets = {{ {} }}", entries.join(", "));
        }
    }
}

fn plain_settings(out: &mut String, mapping: &[(Field, String, String)]) {
    let _ = writeln!(
        out,
        "# A plain products table: one row per variant, columns mapped onto the canonical fields."
    );
    let renamed: Vec<&(Field, String, String)> = mapping
        .iter()
        .filter(|(field, column, _)| column != field.name())
        .collect();
    let same: Vec<&str> = mapping
        .iter()
        .filter(|(field, column, _)| column == field.name())
        .map(|(field, _, _)| field.name())
        .collect();
    let _ = writeln!(out, "\n[catalog.products.columns]");
    if !same.is_empty() {
        let _ = writeln!(
            out,
            "# Read under their canonical names, no mapping needed: {}.",
            same.join(", ")
        );
    }
    for (field, column, why) in renamed {
        let _ = writeln!(out, "# {why}.\n{} = {}", field.name(), quote(column));
    }
    let missing: Vec<&str> = [Field::Sku, Field::Title, Field::Price]
        .into_iter()
        .filter(|field| !mapping.iter().any(|(f, _, _)| f == field))
        .map(Field::name)
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "# No column found for the required {}: map the column that holds each, e.g.\n# {} = \"YourColumn\"",
            missing.join(", "),
            missing[0]
        );
    }
}

/// One feed file for `channel` in `format`.
pub fn feed(channel: &str, format: &str, other_formats: &[&str], base_url: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The {channel} feed, written by `omnifeed init`. Settings: README, \"Channels and feeds\"."
    );
    let _ = writeln!(out, "channel = {}", quote(channel));
    if !other_formats.is_empty() {
        let _ = writeln!(
            out,
            "# The channel also takes: {}.",
            other_formats.join(", ")
        );
    }
    let _ = writeln!(out, "format = {}", quote(format));
    if format == "xml"
        && let Some(url) = base_url
    {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| url.to_owned());
        let _ = writeln!(
            out,
            "\n[rss]\ntitle = {}\nlink = {}",
            quote(&host),
            quote(url)
        );
    }
    let _ = writeln!(
        out,
        "\n[destination]\nkind = \"dir\"\npath = {}",
        quote(&format!("out/{channel}"))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_strings_are_valid_toml() {
        let text = format!("a = {}", quote("say \"hi\"\\"));
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["a"].as_str(), Some("say \"hi\"\\"));
    }
}

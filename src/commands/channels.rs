use std::io::Write;

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::report::OutputFormat;
use crate::spec::Requirement;

#[derive(serde::Serialize)]
struct ChannelRow {
    id: String,
    name: String,
    formats: Vec<String>,
    item_key: String,
    fields: usize,
    required: usize,
    per_store: bool,
    origin: String,
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<Exit> {
    // Channels are listed even without a config: the shipped ones are in the binary.
    let specs_dir = super::load_config(global)
        .map(|config| config.specs_dir)
        .unwrap_or_else(|_| "channel-specs".into());
    let specs = crate::spec::load_all(&specs_dir)?;
    let rows: Vec<ChannelRow> = specs
        .values()
        .map(|spec| ChannelRow {
            id: spec.id.clone(),
            name: spec.name.clone(),
            formats: spec.formats.keys().cloned().collect(),
            item_key: spec.fields[spec.item_key].name.clone(),
            fields: spec.fields.len(),
            required: spec
                .fields
                .iter()
                .filter(|f| f.requirement == Requirement::Required)
                .count(),
            per_store: spec.per_store,
            origin: spec.origin.to_string(),
        })
        .collect();
    let mut out = crate::report::stdout::stdout();
    if global.format == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    writeln!(
        out,
        "{:<24} {:<14} {:<8} {:>6} {:>8}  name",
        "id", "formats", "key", "fields", "required"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<24} {:<14} {:<8} {:>6} {:>8}  {}{}",
            row.id,
            row.formats.join(","),
            row.item_key,
            row.fields,
            row.required,
            row.name,
            if row.origin == "shipped" {
                String::new()
            } else {
                format!(" ({})", row.origin)
            }
        )?;
    }
    out.flush()?;
    Ok(Exit::Ok)
}

//! The canonical rows a preset makes, and the header they are read under.

use std::collections::{BTreeMap, HashMap};

use crate::config::RawPriceColumns;
use crate::diag::Finding;
use crate::model::Field;

/// A shop export turned into a canonical products table.
pub struct Prepared {
    /// Column names: the export's own where a field is copied from one column (so findings
    /// name it), the canonical name where the preset works a value out, then the custom
    /// attributes.
    pub header: Vec<String>,
    pub rows: Vec<PreparedRow>,
    /// Export rows that could not be read, or that break the export's own links.
    pub findings: Vec<Finding>,
    /// Export rows that are no sellable variant, counted by why (`draft`, `grouped`…).
    pub skipped: BTreeMap<String, u64>,
    /// Canonical field -> column of `header`.
    pub columns: BTreeMap<String, String>,
    /// Prices in several currencies (Shopify markets); empty for one.
    pub prices: Vec<RawPriceColumns>,
}

pub struct PreparedRow {
    /// The export line the variant's own row starts on.
    pub line: u64,
    pub byte: u64,
    pub cells: Vec<String>,
}

/// One variant as a preset builds it.
pub(super) struct Row {
    line: u64,
    byte: u64,
    fields: Vec<(Field, &'static str, String)>,
    custom: Vec<(String, String)>,
}

impl Row {
    pub(super) fn new(line: u64, byte: u64) -> Row {
        Row {
            line,
            byte,
            fields: Vec::new(),
            custom: Vec::new(),
        }
    }

    /// Sets `field` from the export column `column` (or, for a worked-out value, the
    /// field's own name); empty values are left unset.
    pub(super) fn field(&mut self, field: Field, column: &'static str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.fields.retain(|(f, _, _)| *f != field);
            self.fields.push((field, column, value));
        }
    }

    /// Sets `field` to a value the preset worked out.
    pub(super) fn derived(&mut self, field: Field, value: impl Into<String>) {
        self.field(field, field.name(), value);
    }

    pub(super) fn has(&self, field: Field) -> bool {
        self.fields.iter().any(|(f, _, _)| *f == field)
    }

    /// A custom attribute (a column of the export the preset does not read, or an
    /// option a shop names in its own words).
    pub(super) fn custom(&mut self, name: &str, value: &str) {
        if !value.is_empty() && !self.custom.iter().any(|(n, _)| n == name) {
            self.custom.push((name.to_owned(), value.to_owned()));
        }
    }
}

#[derive(Default)]
pub(super) struct RowsBuilder {
    rows: Vec<Row>,
    pub(super) findings: Vec<Finding>,
    pub(super) skipped: BTreeMap<String, u64>,
    pub(super) prices: Vec<RawPriceColumns>,
}

impl RowsBuilder {
    pub(super) fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub(super) fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_owned()).or_default() += 1;
    }

    pub(super) fn finish(self) -> Prepared {
        let mut rows = self.rows;
        // Variants keep the export's order: the line of their own row.
        rows.sort_by_key(|row| row.line);
        let mut header: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut columns: BTreeMap<String, String> = BTreeMap::new();
        let mut column_of = |name: &str, header: &mut Vec<String>| -> usize {
            *index.entry(name.to_owned()).or_insert_with(|| {
                header.push(name.to_owned());
                header.len() - 1
            })
        };
        // Field columns first, in field order, so that a custom attribute of the same name
        // is told apart below.
        for &field in Field::ALL {
            let column = rows
                .iter()
                .flat_map(|row| &row.fields)
                .find(|(f, _, _)| *f == field)
                .map(|(_, column, _)| *column);
            if let Some(column) = column {
                column_of(column, &mut header);
                columns.insert(field.name().to_owned(), column.to_owned());
            }
        }
        let taken: Vec<String> = header.clone();
        let custom_name = |name: &str| -> String {
            // A custom column named like a canonical field or a field's column would be read
            // as that field.
            if Field::parse(name).is_some() || taken.iter().any(|t| t == name) {
                format!("{name} (export)")
            } else {
                name.to_owned()
            }
        };
        let mut cells_of = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut cells: Vec<(usize, &str)> = Vec::new();
            for (field, _, value) in &row.fields {
                let column = &columns[field.name()];
                cells.push((column_of(column, &mut header), value));
            }
            for (name, value) in &row.custom {
                cells.push((column_of(&custom_name(name), &mut header), value));
            }
            cells_of.push(cells);
        }
        let width = header.len();
        let rows = rows
            .iter()
            .zip(cells_of)
            .map(|(row, cells)| {
                let mut out = vec![String::new(); width];
                for (i, value) in cells {
                    out[i] = value.to_owned();
                }
                PreparedRow {
                    line: row.line,
                    byte: row.byte,
                    cells: out,
                }
            })
            .collect();
        Prepared {
            header,
            rows,
            findings: self.findings,
            skipped: self.skipped,
            columns,
            prices: self.prices,
        }
    }
}

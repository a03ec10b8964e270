//! The canonical rows a preset makes, and the header they are read under.
//!
//! A preset passes over the export twice with the same code: the first pass only notes the
//! columns its rows fill ([`Survey`]), so the header is known, complete, before the second
//! pass hands rows to the loader one batch at a time ([`Emit`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::config::RawPriceColumns;
use crate::diag::Finding;
use crate::model::Field;

/// One variant as a preset builds it, borrowing from the export's records.
pub(super) struct Row<'r> {
    line: u64,
    byte: u64,
    fields: Vec<(Field, &'static str, Cow<'r, str>)>,
    custom: Vec<(Cow<'r, str>, Cow<'r, str>)>,
}

impl<'r> Row<'r> {
    pub(super) fn new(line: u64, byte: u64) -> Row<'r> {
        Row {
            line,
            byte,
            fields: Vec::new(),
            custom: Vec::new(),
        }
    }

    /// Sets `field` from the export column `column` (or, for a worked-out value, the
    /// field's own name); empty values are left unset.
    pub(super) fn field(
        &mut self,
        field: Field,
        column: &'static str,
        value: impl Into<Cow<'r, str>>,
    ) {
        let value = value.into();
        if !value.is_empty() {
            self.fields.retain(|(f, _, _)| *f != field);
            self.fields.push((field, column, value));
        }
    }

    /// Sets `field` to a value the preset worked out.
    pub(super) fn derived(&mut self, field: Field, value: impl Into<Cow<'r, str>>) {
        self.field(field, field.name(), value);
    }

    pub(super) fn has(&self, field: Field) -> bool {
        self.fields.iter().any(|(f, _, _)| *f == field)
    }

    /// A custom attribute (a column of the export the preset does not read, or an
    /// option a shop names in its own words).
    pub(super) fn custom(&mut self, name: impl Into<Cow<'r, str>>, value: impl Into<Cow<'r, str>>) {
        let (name, value) = (name.into(), value.into());
        if !value.is_empty() && !self.custom.iter().any(|(n, _)| *n == name) {
            self.custom.push((name, value));
        }
    }
}

/// Where a preset's rows and what it leaves out go.
pub(super) trait Sink {
    fn row(&mut self, row: Row<'_>);
    /// An export row that is no sellable variant, counted by why (`draft`, `grouped`…).
    fn skip(&mut self, why: &str);
    /// An export row that breaks the export's own links.
    fn finding(&mut self, finding: Finding);
}

/// A pass that only looks for where things are: the pass that makes the rows reports
/// what it finds.
pub(super) struct Discard;

impl Sink for Discard {
    fn row(&mut self, _row: Row<'_>) {}
    fn skip(&mut self, _why: &str) {}
    fn finding(&mut self, _finding: Finding) {}
}

/// The first pass: which columns the rows fill, and what is skipped.
#[derive(Default)]
pub(super) struct Survey {
    /// Per field, the column its first row set it from.
    field_columns: BTreeMap<usize, &'static str>,
    /// Custom attribute names in the order they first show up.
    custom: Vec<String>,
    custom_seen: HashMap<String, ()>,
    skipped: BTreeMap<String, u64>,
}

impl Sink for Survey {
    fn row(&mut self, row: Row<'_>) {
        for (field, column, _) in &row.fields {
            self.field_columns.entry(*field as usize).or_insert(column);
        }
        for (name, _) in &row.custom {
            if !self.custom_seen.contains_key(name.as_ref()) {
                self.custom_seen.insert(name.to_string(), ());
                self.custom.push(name.to_string());
            }
        }
    }

    fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_owned()).or_default() += 1;
    }

    fn finding(&mut self, _finding: Finding) {
        // Reported by the second pass, in line with the rows.
    }
}

/// A shop export's table, before its rows are read: the header the rows will have.
pub struct Prepared {
    /// Column names: the export's own where a field is copied from one column (so findings
    /// name it), the canonical name where the preset works a value out, then the custom
    /// attributes.
    pub header: Vec<String>,
    /// Export rows that are no sellable variant, counted by why (`draft`, `grouped`…).
    pub skipped: BTreeMap<String, u64>,
    /// Canonical field -> column of `header`.
    pub columns: BTreeMap<String, String>,
    /// Prices in several currencies (Shopify markets); empty for one.
    pub prices: Vec<RawPriceColumns>,
}

/// Where each of a row's values goes in the header.
pub(super) struct Layout {
    width: usize,
    fields: Vec<Option<usize>>,
    custom: HashMap<String, usize>,
}

impl Survey {
    /// The header: field columns first, in field order, then the custom attributes in the
    /// order they first show up; a custom attribute named like a canonical field or a
    /// field's column gets ` (export)` added, or it would be read as that field.
    pub(super) fn finish(self, prices: Vec<RawPriceColumns>) -> (Prepared, Layout) {
        let mut header: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut columns = BTreeMap::new();
        let mut fields = vec![None; Field::ALL.len()];
        for &field in Field::ALL {
            if let Some(column) = self.field_columns.get(&(field as usize)) {
                let at = *index.entry((*column).to_owned()).or_insert_with(|| {
                    header.push((*column).to_owned());
                    header.len() - 1
                });
                fields[field as usize] = Some(at);
                columns.insert(field.name().to_owned(), (*column).to_owned());
            }
        }
        let taken = header.clone();
        let mut custom = HashMap::new();
        for name in self.custom {
            let column = if Field::parse(&name).is_some() || taken.contains(&name) {
                format!("{name} (export)")
            } else {
                name.clone()
            };
            let at = *index.entry(column.clone()).or_insert_with(|| {
                header.push(column);
                header.len() - 1
            });
            custom.insert(name, at);
        }
        let layout = Layout {
            width: header.len(),
            fields,
            custom,
        };
        let prepared = Prepared {
            header,
            skipped: self.skipped,
            columns,
            prices,
        };
        (prepared, layout)
    }
}

/// The second pass: rows laid out under the header, handed on as they are made.
pub(super) struct Emit<'o> {
    pub(super) layout: &'o Layout,
    pub(super) out: &'o mut dyn FnMut(u64, u64, &[&str]),
    pub(super) findings: &'o mut Vec<Finding>,
    pub(super) rows: usize,
    /// Set when a row fills a column the first pass did not see: the file changed between
    /// the passes.
    pub(super) changed_at: Option<u64>,
}

impl<'o> Emit<'o> {
    pub(super) fn new(
        layout: &'o Layout,
        out: &'o mut dyn FnMut(u64, u64, &[&str]),
        findings: &'o mut Vec<Finding>,
    ) -> Emit<'o> {
        Emit {
            layout,
            out,
            findings,
            rows: 0,
            changed_at: None,
        }
    }
}

impl Sink for Emit<'_> {
    fn row(&mut self, row: Row<'_>) {
        let layout = self.layout;
        let mut cells: Vec<&str> = vec![""; layout.width];
        let mut fits = true;
        for (field, _, value) in &row.fields {
            match layout.fields[*field as usize] {
                Some(at) => cells[at] = value,
                None => fits = false,
            }
        }
        for (name, value) in &row.custom {
            match layout.custom.get(name.as_ref()) {
                Some(&at) => cells[at] = value,
                None => fits = false,
            }
        }
        if fits {
            (self.out)(row.line, row.byte, &cells);
            self.rows += 1;
        } else {
            self.changed_at.get_or_insert(row.line);
        }
    }

    fn skip(&mut self, _why: &str) {}

    fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
}

//! What a catalog file is, judged from its header and a sample of rows: a shop export
//! (a preset) or a plain table, with each column's guessed field and the reason for it.

use std::io::Read;
use std::path::Path;

use crate::load::preset::Preset;
use crate::model::Field;

/// Rows read after the header to confirm the guesses.
const SAMPLE_ROWS: usize = 200;

/// The file as `init` understood it.
pub struct Detection {
    pub header: Vec<String>,
    pub delimiter: u8,
    /// How many cells the header has per candidate delimiter, for the comment on it.
    pub delimiter_reason: String,
    pub kind: Kind,
    /// Rows read from the sample (past the header).
    pub sample_rows: Vec<Vec<String>>,
}

pub enum Kind {
    /// A shop export; `reason` names the columns that gave it away.
    Preset { preset: Preset, reason: String },
    /// A plain table: canonical field -> (column, why).
    Plain {
        mapping: Vec<(Field, String, String)>,
    },
}

impl Detection {
    /// Header columns the detected format does not read: custom attributes.
    pub fn unknown_columns(&self) -> Vec<&str> {
        match &self.kind {
            Kind::Preset { preset, .. } => self
                .header
                .iter()
                .map(String::as_str)
                .filter(|name| {
                    !preset.signature().contains(name) && !preset.known_columns().contains(name)
                })
                .collect(),
            Kind::Plain { mapping } => self
                .header
                .iter()
                .map(String::as_str)
                .filter(|name| !mapping.iter().any(|(_, column, _)| column == name))
                .collect(),
        }
    }

    /// The sample's non-empty cells of `column`.
    pub fn sample_of<'a>(&'a self, column: &str) -> impl Iterator<Item = &'a str> + 'a {
        let index = self.header.iter().position(|name| name == column);
        self.sample_rows.iter().filter_map(move |row| {
            index
                .and_then(|i| row.get(i))
                .map(String::as_str)
                .filter(|cell| !cell.is_empty())
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` has no header row (the file is empty)")]
    Empty { path: String },
    #[error("`{path}` is not UTF-8 text: {what}")]
    NotText { path: String, what: String },
}

/// Reads the start of `path` (header and a sample of rows) and detects its format.
pub fn detect(path: &Path) -> Result<Detection, DetectError> {
    let shown = path.display().to_string();
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(4 << 20).read_to_end(&mut head))
        .map_err(|source| DetectError::Read {
            path: shown.clone(),
            source,
        })?;
    if let Some(encoding) = crate::load::table::wide_encoding(&head[..head.len().min(64)]) {
        return Err(DetectError::NotText {
            path: shown,
            what: format!("it is {encoding}; save it as UTF-8"),
        });
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let (delimiter, delimiter_reason) = pick_delimiter(first_line, path);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text);
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(record)) => record.iter().map(|cell| cell.trim().to_owned()).collect(),
        Some(Err(err)) => {
            return Err(DetectError::NotText {
                path: shown,
                what: err.to_string(),
            });
        }
        None => return Err(DetectError::Empty { path: shown }),
    };
    if header.iter().all(String::is_empty) {
        return Err(DetectError::Empty { path: shown });
    }
    // The last record of a 4 MB head may be cut off; a sample of whole rows is enough.
    let sample_rows: Vec<Vec<String>> = records
        .take(SAMPLE_ROWS)
        .filter_map(Result::ok)
        .map(|record| record.iter().map(|cell| cell.trim().to_owned()).collect())
        .collect();
    let kind = match detect_preset(&header) {
        Some(kind) => kind,
        None => Kind::Plain {
            mapping: plain_mapping(&header),
        },
    };
    Ok(Detection {
        header,
        delimiter,
        delimiter_reason,
        kind,
        sample_rows,
    })
}

/// A tab for `.tsv`, else the delimiter that splits the header into the most cells.
fn pick_delimiter(first_line: &[u8], path: &Path) -> (u8, String) {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if matches!(extension.as_str(), "tsv" | "tab") {
        return (b'\t', "the file ends in .tsv".into());
    }
    let cells = |delimiter: u8| {
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .from_reader(first_line)
            .byte_records()
            .next()
            .and_then(Result::ok)
            .map_or(1, |record| record.len())
    };
    let counts: Vec<(u8, usize)> = [b',', b';', b'\t', b'|']
        .iter()
        .map(|&d| (d, cells(d)))
        .collect();
    let best = counts
        .iter()
        .copied()
        .max_by_key(|&(d, n)| (n, d == b','))
        .unwrap_or((b',', 1));
    let reason = counts
        .iter()
        .map(|(d, n)| format!("{n} on {}", show_delimiter(*d)))
        .collect::<Vec<_>>()
        .join(", ");
    (best.0, format!("the header splits into {reason}"))
}

pub fn show_delimiter(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".into(),
        other => format!("`{}`", other as char),
    }
}

fn detect_preset(header: &[String]) -> Option<Kind> {
    Preset::ALL.into_iter().find_map(|preset| {
        let signature = preset.signature();
        signature
            .iter()
            .all(|column| header.iter().any(|name| name == column))
            .then(|| Kind::Preset {
                preset,
                reason: format!(
                    "the header has {}, the columns of a {}",
                    signature
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    preset.title()
                ),
            })
    })
}

/// Other names catalogs commonly give canonical fields (English and German, as exports
/// of ERP and PIM systems name them), compared after lower-casing and with spaces, dashes
/// and dots read as `_`.
const SYNONYMS: &[(Field, &[&str])] = &[
    (
        Field::Sku,
        &[
            "id",
            "item_id",
            "article_number",
            "artikelnummer",
            "art_nr",
            "artnr",
            "product_id",
            "variant_sku",
            "sku_id",
        ],
    ),
    (
        Field::GroupId,
        &[
            "item_group_id",
            "parent_sku",
            "parent_id",
            "group",
            "model",
            "style_number",
        ],
    ),
    (
        Field::Title,
        &[
            "name",
            "product_name",
            "produktname",
            "bezeichnung",
            "artikelname",
            "titel",
        ],
    ),
    (
        Field::Description,
        &[
            "desc",
            "body",
            "long_description",
            "beschreibung",
            "body_html",
        ],
    ),
    (
        Field::Brand,
        &["manufacturer", "vendor", "hersteller", "marke"],
    ),
    (
        Field::Gtin,
        &[
            "ean", "ean13", "upc", "barcode", "isbn", "gtin13", "gtin14", "gtin8",
        ],
    ),
    (
        Field::Mpn,
        &[
            "manufacturer_part_number",
            "part_number",
            "herstellernummer",
        ],
    ),
    (Field::Condition, &["zustand"]),
    (
        Field::Price,
        &["regular_price", "list_price", "preis", "price_gross"],
    ),
    (Field::Currency, &["currency_code", "währung", "waehrung"]),
    (
        Field::SalePrice,
        &[
            "special_price",
            "sale",
            "offer_price",
            "aktionspreis",
            "angebotspreis",
        ],
    ),
    (
        Field::SaleStart,
        &["sale_from", "special_price_from", "sale_price_start"],
    ),
    (
        Field::SaleEnd,
        &["sale_to", "special_price_to", "sale_price_end"],
    ),
    (
        Field::Link,
        &["url", "product_url", "product_link", "deeplink"],
    ),
    (
        Field::ImageLink,
        &[
            "image",
            "image_url",
            "main_image",
            "bild",
            "bild_url",
            "picture",
        ],
    ),
    (
        Field::AdditionalImageLinks,
        &[
            "additional_images",
            "additional_image_link",
            "images",
            "more_images",
        ],
    ),
    (Field::GoogleProductCategory, &["google_category", "gpc"]),
    (
        Field::ProductType,
        &["category", "categories", "kategorie", "category_path"],
    ),
    (Field::Color, &["colour", "farbe"]),
    (Field::Size, &["größe", "groesse", "grosse"]),
    (Field::Gender, &["geschlecht", "sex"]),
    (Field::Material, &["stoff"]),
    (Field::Pattern, &["muster"]),
    (Field::Weight, &["gewicht", "shipping_weight"]),
    (
        Field::Stock,
        &[
            "qty",
            "quantity",
            "inventory",
            "bestand",
            "stock_quantity",
            "lagerbestand",
        ],
    ),
];

fn normalise(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .chars()
        .map(|c| if matches!(c, ' ' | '-' | '.') { '_' } else { c })
        .collect()
}

/// Each canonical field's column: its own name first, then a known other name; a column
/// serves one field.
fn plain_mapping(header: &[String]) -> Vec<(Field, String, String)> {
    let mut mapping: Vec<(Field, String, String)> = Vec::new();
    let taken = |mapping: &[(Field, String, String)], column: &str| {
        mapping.iter().any(|(_, c, _)| c == column)
    };
    for &field in Field::ALL {
        if let Some(column) = header.iter().find(|name| normalise(name) == field.name()) {
            let why = if column == field.name() {
                "the canonical name".to_owned()
            } else {
                format!("`{column}` is `{}` written differently", field.name())
            };
            mapping.push((field, column.clone(), why));
        }
    }
    for (field, names) in SYNONYMS {
        if mapping.iter().any(|(f, _, _)| f == field) {
            continue;
        }
        let found = header
            .iter()
            .find(|column| names.contains(&normalise(column).as_str()) && !taken(&mapping, column));
        if let Some(column) = found {
            let why = format!("`{column}` is a common name for {}", field.name());
            mapping.push((*field, column.clone(), why));
        }
    }
    mapping.sort_by_key(|(field, _, _)| *field);
    mapping
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn plain_headers_map_by_name_then_by_synonym() {
        let mapping = plain_mapping(&names(&[
            "Artikelnummer",
            "Name",
            "EAN",
            "Preis",
            "price",
            "Farbe",
            "Extra",
        ]));
        let find = |field| {
            mapping
                .iter()
                .find(|(f, _, _)| *f == field)
                .map(|(_, c, _)| c.as_str())
        };
        assert_eq!(find(Field::Sku), Some("Artikelnummer"));
        assert_eq!(find(Field::Title), Some("Name"));
        assert_eq!(find(Field::Gtin), Some("EAN"));
        // The canonical name wins over a synonym.
        assert_eq!(find(Field::Price), Some("price"));
        assert_eq!(find(Field::Color), Some("Farbe"));
        assert_eq!(mapping.len(), 5);
    }

    #[test]
    fn shop_exports_are_told_apart_by_their_columns() {
        let shopify = names(&["Handle", "Title", "Variant SKU", "Variant Price"]);
        assert!(matches!(
            detect_preset(&shopify),
            Some(Kind::Preset {
                preset: Preset::Shopify,
                ..
            })
        ));
        let plain = names(&["sku", "title", "price"]);
        assert!(detect_preset(&plain).is_none());
    }

    #[test]
    fn the_delimiter_is_the_one_that_splits_the_header_most() {
        let path = Path::new("x.csv");
        assert_eq!(pick_delimiter(b"a;b;c", path).0, b';');
        assert_eq!(pick_delimiter(b"a,b,c", path).0, b',');
        assert_eq!(pick_delimiter(b"\"a;x\",b,c", path).0, b',');
        assert_eq!(pick_delimiter(b"a,b", Path::new("x.tsv")).0, b'\t');
    }
}

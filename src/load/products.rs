//! Turns raw product rows into typed [`Variant`]s, with a finding for every cell that is
//! wrong. Pure and per-row, so batches convert in parallel.

use std::path::Path;
use std::sync::Arc;

use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use super::dates::parse_datetime;
use super::quantity::parse_quantity;
use super::table::{Header, LoadError, RawRow, RowCells};
use crate::config::RawTable;
use crate::diag::Finding;
use crate::model::{
    AmountError, Availability, Currency, Field, Gtin, Money, Price, Sale, Variant, parse_amount,
    parse_shipping_price, parse_weight,
};
use crate::rules::{self, Rule};

/// Where each canonical field sits in one header, worked out once per header.
pub struct ProductPlan {
    label: Arc<str>,
    header: Arc<Header>,
    columns: Vec<Option<usize>>,
    prices: PriceColumns,
    custom: Vec<usize>,
    /// The unmapped columns by name, for checks of feed settings that name them.
    columns_seen: CatalogColumns,
    list_separator: String,
    default_currency: Option<Currency>,
    required: Vec<Field>,
    time_zone: TimeZone,
}

enum PriceColumns {
    /// `price` (+ `sale_price`) in the currency of the `currency` column or the default.
    Single,
    /// One price column (and optional sale column) per currency.
    PerCurrency(Vec<(Currency, usize, Option<usize>)>),
}

/// The products table's unmapped columns (custom attributes), as the header names them.
#[derive(Debug, Clone, Default)]
pub struct CatalogColumns {
    pub custom: Vec<Arc<str>>,
    /// False for JSON Lines, whose header grows as keys show up: a name missing so far may
    /// still come.
    pub complete: bool,
}

pub struct PlanInput<'a> {
    pub table: &'a RawTable,
    pub path: &'a Path,
    pub label: Arc<str>,
    pub required: &'a [Field],
    pub default_currency: Option<Currency>,
    pub time_zone: &'a TimeZone,
    /// Whether the header is complete up front (CSV, TSV). A JSON Lines header grows as
    /// keys show up, so a column missing so far is not yet an error there.
    pub strict: bool,
}

impl ProductPlan {
    pub fn columns_seen(&self) -> &CatalogColumns {
        &self.columns_seen
    }

    pub fn new(input: &PlanInput<'_>, header: &Arc<Header>) -> Result<ProductPlan, LoadError> {
        let layout = |message: String, hint: String| LoadError::Layout {
            path: input.path.to_owned(),
            message,
            hint,
        };
        let find = |column: &str| header.index_of(column);
        let mut columns = vec![None; Field::ALL.len()];
        let mut used = vec![false; header.names.len()];
        for &field in Field::ALL {
            let mapped = input.table.columns.get(field.name());
            let index = match mapped {
                Some(column) if !input.strict => find(column),
                Some(column) => Some(find(column).ok_or_else(|| {
                    layout(
                        format!(
                            "column `{column}` (mapped to `{}`) is not in the header",
                            field.name()
                        ),
                        format!("the header has: {}", header.list()),
                    )
                })?),
                None => find(field.name()),
            };
            if let Some(index) = index {
                used[index] = true;
            }
            columns[field as usize] = index;
        }
        let prices = if input.table.prices.is_empty() {
            PriceColumns::Single
        } else {
            let mut per_currency = Vec::new();
            for entry in &input.table.prices {
                let currency = Currency::parse(&entry.currency).ok_or_else(|| {
                    layout(
                        format!("prices entry currency `{}` is not ISO 4217", entry.currency),
                        "use a code such as EUR".into(),
                    )
                })?;
                let column = |name: &str| {
                    find(name).ok_or_else(|| {
                        layout(
                            format!("price column `{name}` for {currency} is not in the header"),
                            format!("the header has: {}", header.list()),
                        )
                    })
                };
                let price = column(&entry.price)?;
                used[price] = true;
                let sale = entry.sale_price.as_deref().map(column).transpose()?;
                if let Some(sale) = sale {
                    used[sale] = true;
                }
                per_currency.push((currency, price, sale));
            }
            PriceColumns::PerCurrency(per_currency)
        };
        for &field in input.required {
            let present = match (field, &prices) {
                (Field::Price, PriceColumns::PerCurrency(_)) => true,
                (Field::Currency, PriceColumns::PerCurrency(_)) => true,
                (Field::Currency, PriceColumns::Single) => {
                    columns[field as usize].is_some() || input.default_currency.is_some()
                }
                _ => columns[field as usize].is_some(),
            };
            if !present && input.strict {
                return Err(layout(
                    format!("no column holds the required field `{}`", field.name()),
                    format!(
                        "map it in omnifeed.toml, e.g. [catalog.products.columns] {} = \"YourColumn\"{}; the header has: {}",
                        field.name(),
                        if field == Field::Currency {
                            ", or set [defaults] currency"
                        } else {
                            ""
                        },
                        header.list()
                    ),
                ));
            }
        }
        let custom: Vec<usize> = (0..header.names.len()).filter(|&i| !used[i]).collect();
        let columns_seen = CatalogColumns {
            custom: custom
                .iter()
                .map(|&i| Arc::clone(&header.names[i]))
                .collect(),
            complete: input.strict,
        };
        Ok(ProductPlan {
            columns_seen,
            label: Arc::clone(&input.label),
            header: Arc::clone(header),
            columns,
            prices,
            custom,
            list_separator: input
                .table
                .list_separator
                .clone()
                .unwrap_or_else(|| "|".into()),
            default_currency: input.default_currency,
            required: input.required.to_vec(),
            time_zone: input.time_zone.clone(),
        })
    }

    pub fn header(&self) -> &Arc<Header> {
        &self.header
    }

    fn column_name(&self, field: Field) -> Option<&Arc<str>> {
        self.columns[field as usize].map(|i| &self.header.names[i])
    }
}

/// Collects the findings of one row, each already pinned to the row's line and SKU.
struct RowFindings<'p, 'f> {
    plan: &'p ProductPlan,
    line: u64,
    sku: &'f str,
    out: &'f mut Vec<Finding>,
    errors: bool,
}

impl RowFindings<'_, '_> {
    fn push(&mut self, rule: &'static Rule, field: Field, message: String) {
        let mut finding = Finding::new(rule, &self.plan.label, message)
            .line(self.line)
            .field(field.name())
            .sku(self.sku);
        if let Some(column) = self.plan.column_name(field)
            && **column != *field.name()
        {
            finding = finding.column(column);
        }
        self.errors |= finding.is_error();
        self.out.push(finding);
    }
}

/// The outcome of one row: the variant when the row has a SKU and readable text, and
/// whether any of its findings is an error (then it goes into no feed).
pub struct Converted<'a> {
    pub variant: Option<Variant<'a>>,
    pub has_errors: bool,
}

pub fn convert<'a>(
    plan: &ProductPlan,
    row: &RawRow,
    raw: RowCells<'a>,
    out: &mut Vec<Finding>,
) -> Converted<'a> {
    let cells = match row_cells(raw) {
        Ok(cells) => cells,
        Err(index) => {
            report_invalid_utf8(plan, row, raw, index, out);
            return Converted {
                variant: None,
                has_errors: true,
            };
        }
    };
    let mut cells = cells;
    // JSON Lines rows read before a new key showed up are shorter than the header.
    cells.resize(plan.header.names.len().max(cells.len()), "");
    let cell = |field: Field| -> &'a str { plan.columns[field as usize].map_or("", |i| cells[i]) };
    let sku = cell(Field::Sku);
    let mut findings = RowFindings {
        plan,
        line: row.line,
        sku,
        out,
        errors: false,
    };
    for &field in &plan.required {
        let missing = match (field, &plan.prices) {
            (Field::Price, PriceColumns::PerCurrency(columns)) => {
                columns.iter().all(|&(_, price, _)| cells[price].is_empty())
            }
            (Field::Currency, PriceColumns::PerCurrency(_)) => false,
            (Field::Currency, PriceColumns::Single) => {
                cell(Field::Currency).is_empty() && plan.default_currency.is_none()
            }
            _ => cell(field).is_empty(),
        };
        if missing {
            findings.push(
                &rules::MISSING_REQUIRED,
                field,
                format!("required field `{}` is empty", field.name()),
            );
        }
    }
    if sku.is_empty() {
        // Without a SKU the row can go nowhere; say so even when `required` leaves sku out.
        if !plan.required.contains(&Field::Sku) {
            findings.push(
                &rules::MISSING_REQUIRED,
                Field::Sku,
                "the row has no SKU, so no channel can identify it".into(),
            );
        }
        return Converted {
            variant: None,
            has_errors: true,
        };
    }

    let gtin = match cell(Field::Gtin) {
        "" => None,
        text => match Gtin::parse(text) {
            Ok(gtin) => Some(gtin),
            Err(err) => {
                findings.push(&rules::INVALID_GTIN, Field::Gtin, err.to_string());
                None
            }
        },
    };
    for field in [Field::Link, Field::ImageLink] {
        check_url(&mut findings, field, cell(field));
    }
    let mut additional_image_links = Vec::new();
    let extra = cell(Field::AdditionalImageLinks);
    if !extra.is_empty() {
        for link in extra.split(plan.list_separator.as_str()).map(str::trim) {
            if !link.is_empty() && check_url(&mut findings, Field::AdditionalImageLinks, link) {
                additional_image_links.push(link);
            }
        }
    }

    let prices = read_prices(plan, &cells, &mut findings);

    let stock = match cell(Field::Stock) {
        "" => None,
        text => match parse_quantity(text) {
            Ok(quantity) => Some(quantity),
            Err(refused) => {
                findings.push(
                    refused.rule,
                    Field::Stock,
                    format!("stock {}", refused.reason),
                );
                None
            }
        },
    };
    let availability = match cell(Field::Availability) {
        "" => None,
        text => {
            // Limited availability is the feeds' verdict from their thresholds, not a
            // catalog state.
            let parsed = Availability::parse(text)
                .filter(|availability| *availability != Availability::LimitedAvailability);
            if parsed.is_none() {
                findings.push(
                    &rules::INVALID_VALUE,
                    Field::Availability,
                    format!(
                        "availability `{text}` is not one of in_stock, out_of_stock, preorder, backorder"
                    ),
                );
            }
            parsed
        }
    };
    let backorder_allowed = match cell(Field::BackorderAllowed).to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "0" => false,
        "true" | "yes" | "1" => true,
        other => {
            findings.push(
                &rules::INVALID_VALUE,
                Field::BackorderAllowed,
                format!("backorder_allowed `{other}` is not true/false/yes/no/1/0"),
            );
            false
        }
    };
    let availability_date = match cell(Field::AvailabilityDate) {
        "" => None,
        text => {
            let parsed = parse_datetime(text, &plan.time_zone);
            if parsed.is_none() {
                findings.push(
                    &rules::INVALID_VALUE,
                    Field::AvailabilityDate,
                    format!("availability_date `{text}` is not an ISO 8601 date-time"),
                );
            }
            parsed
        }
    };
    let shipping_weight = match cell(Field::ShippingWeight) {
        "" => None,
        text => parse_weight(text)
            .map_err(|problem| {
                findings.push(
                    &rules::INVALID_VALUE,
                    Field::ShippingWeight,
                    format!("shipping_weight {problem}"),
                );
            })
            .ok(),
    };
    let shipping_price = match cell(Field::ShippingPrice) {
        "" => None,
        text => {
            let row_currency = prices.first().map(|p| p.regular.currency);
            parse_shipping_price(text, row_currency)
                .map_err(|problem| {
                    findings.push(
                        &rules::INVALID_PRICE,
                        Field::ShippingPrice,
                        format!("shipping_price {problem}"),
                    );
                })
                .ok()
        }
    };
    let has_errors = findings.errors;
    let custom = plan
        .custom
        .iter()
        .filter(|&&i| !cells[i].is_empty())
        .map(|&i| (Arc::clone(&plan.header.names[i]), cells[i]))
        .collect();
    Converted {
        variant: Some(Variant {
            line: row.line,
            sku,
            group_id: cell(Field::GroupId),
            title: cell(Field::Title),
            description: cell(Field::Description),
            brand: cell(Field::Brand),
            gtin,
            mpn: cell(Field::Mpn),
            condition: cell(Field::Condition),
            prices,
            link: cell(Field::Link),
            image_link: cell(Field::ImageLink),
            additional_image_links,
            google_product_category: cell(Field::GoogleProductCategory),
            product_type: cell(Field::ProductType),
            color: cell(Field::Color),
            size: cell(Field::Size),
            gender: cell(Field::Gender),
            age_group: cell(Field::AgeGroup),
            material: cell(Field::Material),
            pattern: cell(Field::Pattern),
            weight: cell(Field::Weight),
            shipping_weight,
            shipping_price,
            availability,
            availability_date,
            stock,
            backorder_allowed,
            custom,
        }),
        has_errors,
    }
}

/// Checks an absolute http(s) URL; returns whether it is usable.
fn check_url(findings: &mut RowFindings<'_, '_>, field: Field, text: &str) -> bool {
    if text.is_empty() {
        return false;
    }
    if crate::model::links::plain_url(text) {
        return true;
    }
    let problem = match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            if text.contains(char::is_whitespace) {
                Some("contains white space (encode it as %20)".to_owned())
            } else {
                None
            }
        }
        Ok(url) => Some(format!("has scheme `{}`; use http or https", url.scheme())),
        Err(err) => Some(format!("is not an absolute URL ({err})")),
    };
    match problem {
        Some(problem) => {
            findings.push(
                &rules::INVALID_URL,
                field,
                format!("{} `{text}` {problem}", field.name()),
            );
            false
        }
        None => true,
    }
}

fn read_prices(
    plan: &ProductPlan,
    cells: &[&str],
    findings: &mut RowFindings<'_, '_>,
) -> Vec<Price> {
    let cell = |field: Field| plan.columns[field as usize].map_or("", |i| cells[i]);
    let (window, local_time) = match read_sale_window(plan, &cell, findings) {
        Some((window, local_time)) => (Some(window), local_time),
        None => (None, false),
    };
    let mut prices = Vec::with_capacity(1);
    match &plan.prices {
        PriceColumns::Single => {
            let code = cell(Field::Currency);
            let currency = if code.is_empty() {
                plan.default_currency
            } else {
                let parsed = Currency::parse(code);
                if parsed.is_none() {
                    findings.push(
                        &rules::UNKNOWN_CURRENCY,
                        Field::Currency,
                        format!("currency `{code}` is not a current ISO 4217 code"),
                    );
                }
                parsed
            };
            if let Some(currency) = currency
                && let Some(price) = read_price(
                    currency,
                    cell(Field::Price),
                    cell(Field::SalePrice),
                    (window, local_time),
                    findings,
                )
            {
                prices.push(price);
            }
        }
        PriceColumns::PerCurrency(columns) => {
            for &(currency, price, sale) in columns {
                let sale_text = sale.map_or("", |i| cells[i]);
                if let Some(price) = read_price(
                    currency,
                    cells[price],
                    sale_text,
                    (window, local_time),
                    findings,
                ) {
                    prices.push(price);
                }
            }
        }
    }
    if window.is_some() && prices.iter().all(|p| p.sale.is_none()) && !prices.is_empty() {
        findings.push(
            &rules::INVALID_SALE_WINDOW,
            Field::SaleStart,
            "a sale window is given but no sale price".into(),
        );
    }
    prices
}

fn read_price(
    currency: Currency,
    price_text: &str,
    sale_text: &str,
    (window, local_time): (Option<(jiff::Timestamp, jiff::Timestamp)>, bool),
    findings: &mut RowFindings<'_, '_>,
) -> Option<Price> {
    if price_text.is_empty() {
        return None;
    }
    let regular = read_amount(currency, price_text, Field::Price, findings)?;
    let sale = match sale_text {
        "" => None,
        text => read_amount(currency, text, Field::SalePrice, findings),
    };
    if let Some(sale) = sale
        && sale >= regular
    {
        findings.push(
            &rules::SALE_NOT_BELOW_PRICE,
            Field::SalePrice,
            format!("sale price {sale} {currency} is not below the price {regular} {currency}"),
        );
    }
    let money = |amount| Money { amount, currency };
    Some(Price {
        regular: money(regular),
        sale: sale.map(|amount| Sale {
            price: money(amount),
            window,
            local_time,
        }),
    })
}

fn read_amount(
    currency: Currency,
    text: &str,
    field: Field,
    findings: &mut RowFindings<'_, '_>,
) -> Option<Decimal> {
    match parse_amount(text, currency) {
        Ok(amount) if amount <= Decimal::ZERO => {
            findings.push(
                &rules::NON_POSITIVE_PRICE,
                field,
                format!("{} {text} {currency} is not above zero", field.name()),
            );
            None
        }
        Ok(amount) => Some(amount),
        Err(err @ (AmountError::NotANumber(_) | AmountError::TooPrecise { .. })) => {
            findings.push(
                &rules::INVALID_PRICE,
                field,
                format!("{}: {err}", field.name()),
            );
            None
        }
    }
}

fn read_sale_window<'a>(
    plan: &ProductPlan,
    cell: &impl Fn(Field) -> &'a str,
    findings: &mut RowFindings<'_, '_>,
) -> Option<((jiff::Timestamp, jiff::Timestamp), bool)> {
    let range = cell(Field::SaleEffectiveDate);
    let (start, end, start_field, end_field) = if !range.is_empty() {
        let Some((start, end)) = range.split_once('/') else {
            findings.push(
                &rules::INVALID_SALE_WINDOW,
                Field::SaleEffectiveDate,
                format!("`{range}` is not a `start/end` range"),
            );
            return None;
        };
        (
            start.trim(),
            end.trim(),
            Field::SaleEffectiveDate,
            Field::SaleEffectiveDate,
        )
    } else {
        (
            cell(Field::SaleStart),
            cell(Field::SaleEnd),
            Field::SaleStart,
            Field::SaleEnd,
        )
    };
    if start.is_empty() && end.is_empty() {
        return None;
    }
    let mut parse = |text: &str, field: Field| {
        if text.is_empty() {
            findings.push(
                &rules::INVALID_SALE_WINDOW,
                field,
                format!(
                    "{} is empty but the other end of the window is set",
                    field.name()
                ),
            );
            return None;
        }
        let parsed = parse_datetime(text, &plan.time_zone);
        if parsed.is_none() {
            findings.push(
                &rules::INVALID_SALE_WINDOW,
                field,
                format!("{} `{text}` is not an ISO 8601 date-time", field.name()),
            );
        }
        parsed
    };
    let start_at = parse(start, start_field);
    let end_at = parse(end, end_field);
    let (start_at, end_at) = (start_at?, end_at?);
    if end_at <= start_at {
        findings.push(
            &rules::INVALID_SALE_WINDOW,
            end_field,
            format!("the sale ends ({end}) before it starts ({start})"),
        );
        return None;
    }
    let local_time = !super::dates::has_offset(start) && !super::dates::has_offset(end);
    Some(((start_at, end_at), local_time))
}

/// Splits a record into trimmed `&str` cells, validating UTF-8 once for the whole record.
/// Returns the index of the first cell that is not UTF-8 on its own.
fn row_cells(record: RowCells<'_>) -> Result<Vec<&str>, usize> {
    let mut cells = Vec::with_capacity(record.len());
    match std::str::from_utf8(record.as_slice()) {
        Ok(all) => {
            let mut start = 0;
            for (index, raw) in record.iter().enumerate() {
                let end = start + raw.len();
                // A cell boundary inside a multi-byte character means the cells joined up into
                // valid UTF-8 only by accident.
                let cell = all.get(start..end).ok_or(index)?;
                cells.push(cell.trim());
                start = end;
            }
            Ok(cells)
        }
        Err(_) => {
            for (index, raw) in record.iter().enumerate() {
                cells.push(std::str::from_utf8(raw).map_err(|_| index)?.trim());
            }
            Ok(cells)
        }
    }
}

fn report_invalid_utf8(
    plan: &ProductPlan,
    row: &RawRow,
    cells: RowCells<'_>,
    index: usize,
    out: &mut Vec<Finding>,
) {
    let column = &plan.header.names[index];
    let valid_up_to = cells
        .get(index)
        .and_then(|raw| std::str::from_utf8(raw).err())
        .map_or(0, |err| err.valid_up_to());
    let sku = cells
        .get(plan.columns[Field::Sku as usize].unwrap_or(0))
        .and_then(|s| std::str::from_utf8(s).ok())
        .unwrap_or("");
    let mut finding = Finding::new(
        &rules::INVALID_UTF8,
        &plan.label,
        format!(
            "column `{column}` is not UTF-8 at byte {valid_up_to} of the cell (row starts at byte {} of the file)",
            row.byte
        ),
    )
    .line(row.line)
    .sku(sku);
    if let Some(field) = Field::ALL
        .iter()
        .find(|f| plan.columns[**f as usize] == Some(index))
    {
        finding = finding.field(field.name());
    }
    out.push(finding);
}

//! The registry of rule codes. Codes are stable: scripts match on them, so never rename one.
//! `omnifeed explain CODE` prints `explain`; every finding carries the one-line `hint`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub hint: &'static str,
    pub explain: &'static str,
}

macro_rules! rules {
    ($($ident:ident $code:literal $sev:ident $summary:literal, hint: $hint:literal, explain: $explain:literal;)*) => {
        $(pub static $ident: Rule = Rule {
            code: $code,
            severity: Severity::$sev,
            summary: $summary,
            hint: $hint,
            explain: $explain,
        };)*
        pub static ALL: &[&Rule] = &[$(&$ident),*];
    };
}

rules! {
    MISSING_REQUIRED "missing-required" Error "a required field is empty",
        hint: "fill the field, or map the column that holds it in omnifeed.toml [catalog.products.columns]",
        explain: "Every catalog row needs the fields listed in `[catalog] required` (default: sku, title,\nprice, currency). A row without one cannot be sent to any channel, so it is left out of\nevery feed.\n\nFix: fill the cell. If your file has the data under another column name, map it, e.g.\n  [catalog.products.columns]\n  title = \"Produktname\"\nIf every row lacks the currency, set `[defaults] currency = \"EUR\"`.";
    DUPLICATE_SKU "duplicate-sku" Error "a row repeats a SKU (and currency) of an earlier row",
        hint: "give each variant its own SKU; keep one row per SKU and currency",
        explain: "A SKU identifies one sellable variant to every channel. Two rows that claim the same SKU\nand the same currency leave it undecided which one is true. The finding is raised on the\nrepeating row and names the line of the first one; the first row is kept, the repeat is\nleft out.\n\nA SKU may appear in several rows only to give prices in several currencies (one row per\ncurrency); such rows must then agree on the variant's identity (group, GTIN, colour, size,\nmaterial, pattern, gender, age group).";
    INVALID_GTIN "invalid-gtin" Error "the GTIN is malformed or fails the GS1 check digit",
        hint: "use the 8, 12, 13 or 14 digits printed under the barcode; leave the cell empty when there is none",
        explain: "A GTIN (EAN, UPC, JAN, ISBN-13, ITF-14) has 8, 12, 13 or 14 digits, the last one a GS1\ncheck digit. Channels reject an item whose GTIN is wrong, and a made-up GTIN can get an\naccount suspended. Spaces and dashes are ignored. Values like `3.65275E+11` come from a\nspreadsheet that turned the column into numbers: format the column as text and export\nagain. All zeros is not a GTIN. If a product has no GTIN, leave the cell empty and give\nbrand and MPN instead.";
    INVALID_URL "invalid-url" Error "a link is not an absolute http(s) URL",
        hint: "write the full address starting with https://",
        explain: "`link`, `image_link` and each `additional_image_links` entry must be absolute http or\nhttps URLs (`https://shop.example.com/p/123`). Relative paths, other schemes and text with\nspaces are refused by every channel.";
    UNKNOWN_CURRENCY "unknown-currency" Error "the currency is not a current ISO 4217 code",
        hint: "use the three upper-case letters of ISO 4217, e.g. EUR, USD, GBP",
        explain: "Prices carry an ISO 4217 alphabetic code (EUR, USD, JPY). Names such as `EURO`, symbols\nsuch as `€`, lower case, and withdrawn codes (DEM, FRF) are refused. Set a default for rows\nwithout a currency in omnifeed.toml: `[defaults] currency = \"EUR\"`.";
    INVALID_PRICE "invalid-price" Error "a price is not a decimal number or has more decimals than its currency",
        hint: "write the amount with `.` as decimal separator and at most the currency's decimals (EUR 2, JPY 0, BHD 3)",
        explain: "Amounts are exact decimals: `19.99`, `1500`. Thousands separators (`1,299.00`), currency\nsymbols and scientific notation are refused. An amount may not have more decimals than its\ncurrency's minor unit: JPY has none, EUR two, BHD and KWD three.";
    NON_POSITIVE_PRICE "non-positive-price" Error "a price is zero or negative",
        hint: "set the selling price above zero; free items are not accepted by shopping channels",
        explain: "Shopping channels refuse items priced at zero or below. If the item is not for sale,\nfilter it out of the feed instead of pricing it at 0.";
    SALE_NOT_BELOW_PRICE "sale-not-below-price" Error "the sale price is not below the regular price",
        hint: "make the sale price lower than the price, or clear it",
        explain: "A sale price must be strictly lower than the regular price in the same currency; channels\ndisapprove items whose sale price is equal to or above the price.";
    INVALID_SALE_WINDOW "invalid-sale-window" Error "a sale start or end is not an ISO 8601 date-time, or the window is inverted",
        hint: "write e.g. 2026-11-20T00:00:00+01:00, and let the end come after the start",
        explain: "`sale_start` and `sale_end` (or a `start/end` range in one column) are ISO 8601 dates or\ndate-times: `2026-11-20`, `2026-11-20T00:00`, `2026-11-20T00:00:00+01:00` or with `Z`.\nValues without an offset are read in `[defaults] time_zone`. The end must come after the\nstart. A window needs a sale price.";
    INVALID_NUMBER "invalid-number" Error "a numeric cell is not a whole number",
        hint: "write a whole number such as 12",
        explain: "Stock quantities are whole numbers. Decimals, units and text are refused.";
    NEGATIVE_STOCK "negative-stock" Error "a stock quantity is below zero",
        hint: "correct the count at its source; stock below zero usually means an unrecorded delivery",
        explain: "Stock below zero cannot be sold and usually means the stock system missed a delivery or a\nreturn. Channels need a count of zero or more. The row is left out, so the location counts\nas having no stock.";
    UNKNOWN_INVENTORY_SKU "unknown-inventory-sku" Warning "an inventory row names a SKU that is not in the products file",
        hint: "remove the stale inventory row, or add the product",
        explain: "Inventory rows whose SKU has no product row are ignored. This is often stock for a\ndiscontinued product; it can also be a typo in the SKU.";
    UNKNOWN_LOCATION "unknown-location" Error "an inventory row names a location that is not in the locations file",
        hint: "add the location to locations.csv, or correct the location id",
        explain: "Each inventory row's location must be listed in the locations file (id, kind\nwarehouse|store, store code). Stock at an unknown location cannot be allocated to any\nchannel, so it is not counted.";
    DUPLICATE_INVENTORY "duplicate-inventory" Error "two inventory rows give stock for the same SKU and location",
        hint: "keep one row per SKU and location",
        explain: "Stock for one SKU at one location must be stated once. The first row counts; the repeat is\nignored.";
    INVALID_LOCATION "invalid-location" Error "a location row is incomplete or has an unknown kind",
        hint: "give each location an id and a kind of `warehouse` or `store` (stores need a store code)",
        explain: "Locations have an id, a kind (`warehouse` or `store`), a name and, for stores, the store\ncode used by Google Business Profile. Ids must be unique.";
    INDISTINCT_VARIANTS "indistinct-variants" Warning "variants of one group do not differ in any variant attribute",
        hint: "give each variant of a group its own colour, size, material, pattern, gender or age group",
        explain: "Variants that share a `group_id` are shown as one product with choices; channels tell\nthem apart by colour, size, material, pattern, gender and age group. Two variants with the\nsame values for all of these look identical to a shopper and are disapproved.";
    ORPHAN_VARIANT "orphan-variant" Error "a shop export's variant names a parent product the export does not have",
        hint: "export the parent product too (export all products, or the parent together with its variations)",
        explain: "In WooCommerce and Magento 2 exports a variant points to its parent product: a\nWooCommerce variation by `Parent` (`id:NN` or the parent's SKU), a Magento simple product\nby the `configurable_variations` of its configurable parent. The parent gives the variant\nits group and what the variant leaves empty (name, description, images, category). An\nexport of only some products can leave a variant without its parent; the variant is then\nleft out. Export the parent with it.";
    INVALID_UTF8 "invalid-utf8" Error "a cell is not valid UTF-8",
        hint: "save the file as UTF-8 (in Excel: CSV UTF-8)",
        explain: "Catalog files must be UTF-8. A file saved as Latin-1 or Windows-1252 shows up here at the\nfirst byte that is not UTF-8. Re-save it as UTF-8; the row is left out until then.";
    RAGGED_ROW "ragged-row" Error "a row has a different number of cells than the header",
        hint: "check the row for an unquoted delimiter or a missing quote",
        explain: "Every row must have as many cells as the header. A cell containing the delimiter must be\nquoted. An unclosed quote swallows the following lines. The row is left out.";
    INVALID_JSON "invalid-json" Error "a JSON Lines row is not a JSON object",
        hint: "write one JSON object per line",
        explain: "In a JSON Lines file each non-empty line holds one JSON object whose keys are column\nnames. Nested objects are kept as JSON text; arrays of strings are joined with the list\nseparator.";
    INVALID_VALUE "invalid-value" Error "a value is not one the field allows",
        hint: "use one of the listed values",
        explain: "Some fields take a fixed set of values: `availability` one of in_stock, out_of_stock,\npreorder, backorder; `availability_date` an ISO 8601 date-time; `shipping_weight` a number and
one of the units g, kg, lb, oz (`1.5 kg`).";
    FEED_MISSING_REQUIRED "feed.missing-required" Error "an item lacks a field the channel requires",
        hint: "fill the catalog field this attribute comes from, or set it for the feed in [fields]",
        explain: "The channel spec marks this attribute required (or required under a condition, such as\ncolour, size, gender and age group for apparel outside the exempt accessories, a field\nfor some target countries, or availability_date for preorders), or needs one of several\nattributes (Meta: brand, GTIN or MPN; the finding's field lists them as `brand|gtin|mpn`).\nThe item is left out of this feed only; other feeds still get it. See `omnifeed preview\nFEED --sku SKU` for where the value would come from.";
    FEED_FALLBACK "feed.fallback" Warning "an item without a value got the one the channel documents for such items",
        hint: "fill the catalog field if the item has one; to leave such items out instead, list the field in the feed's `no_fallback`",
        explain: "Some channels name a value for items that lack others: Google takes products with\nneither GTIN nor MPN (own-brand, handmade, custom goods) when they say\n`identifier_exists = no`. The spec's `fallback` sends it, and each item is counted here so\nthat a missing identifier on a branded product does not go unnoticed. A feed with\n`no_fallback = [\"identifier_exists\"]` sends such items as they are, and the channel's\nrequirements then reject them.";
    FEED_MISSING_RECOMMENDED "feed.missing-recommended" Warning "an item lacks a field the channel recommends",
        hint: "fill it to improve the listing; the item is still sent",
        explain: "The channel accepts the item without this attribute but ranks or shows it better with it.";
    FEED_TOO_LONG "feed.too-long" Error "a value is longer than the channel allows",
        hint: "shorten the value in the catalog, or override it for this feed in [fields]",
        explain: "The spec gives a maximum length in characters, or in UTF-8 bytes where the channel\ncounts bytes (Google instore_product_location: 20), and says to reject longer values. The\nitem is left out of this feed.";
    FEED_TRUNCATED "feed.truncated" Warning "a value was cut to the channel's maximum length",
        hint: "shorten the value in the catalog so the cut does not fall where shoppers see it",
        explain: "The spec allows cutting this attribute at its maximum length (Google titles at 150\ncharacters). omnifeed cuts at the last word boundary within the limit.";
    FEED_TOO_SHORT "feed.too-short" Error "a value is shorter than the channel allows",
        hint: "give a longer value",
        explain: "The spec gives a minimum length for this attribute.";
    FEED_INVALID_VALUE "feed.invalid-value" Error "a value is not one the channel accepts",
        hint: "use one of the channel's values, or map yours in the spec's `map`",
        explain: "Enumerated attributes (availability, condition, gender, age group…) accept only the\nchannel's spellings; a value off the list is never written. Numbers and booleans must be\nwritten as the channel expects. The spec's value rules land here too: GTIN prefixes the\nchannel refuses (Google: restricted 2, 02, 04 and coupon 05, 98, 99), multi-part values\n(Google colour: at most 3 parts joined by `/`, each up to 40 characters, no commas), dates\ntoo far ahead (availability_date: one year) and image URLs of a file type the channel does\nnot take (TikTok: .jpeg, .jpg, .png). The item is left out of this feed; where the spec\nmarks the field unconfirmed it is a warning, the item stays and an invalid enum value goes\nout empty.";
    FEED_PRICE_ADJUST "feed.price-adjust" Error "the feed's price rule takes a price to zero or below",
        hint: "check the feed's `price_adjust`, or the item's price in the catalog",
        explain: "A feed's `price_adjust` (`-2.00`, `-30%`) is applied to the regular and the sale price\nbefore they are sent. A price it takes to zero or below cannot be sent, so the item is left\nout of this feed. Fix the rule, or the price in the catalog.";
    FEED_INVALID_URL "feed.invalid-url" Error "a value is not an absolute http(s) URL",
        hint: "write the full https:// address",
        explain: "URL attributes must be absolute http or https addresses.";
    FEED_TOO_MANY_VALUES "feed.too-many-values" Warning "a repeated attribute has more values than the channel takes",
        hint: "keep the most important values first; the rest are not sent",
        explain: "The spec limits how many values a repeated attribute takes (Google: 10 additional image\nlinks). Values past the limit are dropped.";
    FEED_TEMPLATE "feed.template-error" Error "a field template failed for an item",
        hint: "check the template in the feed's [fields] table",
        explain: "A template in [fields] could not be rendered for this item, usually because it reads a\nvalue the item does not have.";
    FEED_DUPLICATE_KEY "feed.duplicate-key" Error "an item has the same key as an earlier item of the feed",
        hint: "make the feed's key unique per item: a key template must include something that differs per item, such as {{ sku }}",
        explain: "A channel knows an item by its key (Google's `id`, Amazon's `sku`) and keeps one item\nper key. A key made by a template (`id = \"{{ group_id }}\"`) or from another column can\nrepeat: the first item with a key, in catalog order, is sent, and each later one is left\nout of this feed with this error, naming the SKU that holds the key. Other feeds go on.";
    FEED_ITEM_TOO_LARGE "feed.item-too-large" Error "an item is larger than the channel allows on one line",
        hint: "shorten its longest texts",
        explain: "Some channels limit the bytes of one line (Meta XML: 5,242,880). The item is left out.";
    FEED_NO_PRICE_IN_CURRENCY "feed.no-price-in-currency" Error "an item has no price in a market's currency and no rate to convert one",
        hint: "give the SKU a price in that currency (a row or a price column), or add the rate to the feed's `rates` file",
        explain: "A feed with `markets` sends each market its own currency: the catalog's price in it\nwhen the SKU has one, else the SKU's price converted with the rate in the feed's `rates`\nfile (rounded half-even to the currency's minor units). Without either, the item is left\nout of that market's feed, never sent in another currency.";
    CHECK_MISSING "check.missing" Error "a SKU one feed sends is missing from another feed for the same country",
        hint: "the reason is named: change the feed's [filters], fix the finding, or give the SKU a price in that feed's currency",
        explain: "`omnifeed check` compares every feed for the same SKU and country. A SKU that one feed\nsends and another leaves out is reported with the reason: the filter that left it out, the\nrule that rejected it (with its field and message), or that the feed had nothing to map\n(no price in its currency, no store with an inventory row).";
    CHECK_CURRENCY "check.currency" Error "feeds for the same country send a SKU in different currencies",
        hint: "give the feeds of one country the same `currency`",
        explain: "`omnifeed check`: feeds that target the same country should price a SKU in the same\ncurrency; otherwise shoppers see different prices for one item.";
    CHECK_PRICE "check.price" Error "a feed sends a price other than the catalog's, without a declared rule",
        hint: "declare the difference in the feed (`price_adjust = \"+5%\"`) or fix the feed's price mapping",
        explain: "`omnifeed check` undoes each feed's `price_adjust` and compares what is left with the\nprice most feeds send. A feed that differs without a rule (a template, a constant, a\nmapped column) is named with what it sends and what it should send.";
    CHECK_SALE_PRICE "check.sale-price" Error "a feed sends a sale price other than the catalog's, without a declared rule",
        hint: "declare the difference in the feed (`price_adjust`) or fix the feed's sale price mapping",
        explain: "As `check.price`, for the sale price.";
    CHECK_SALE "check.sale" Error "a SKU is on sale in some feeds and not in others",
        hint: "check the feeds' sale price mapping and the channels' support for sale dates",
        explain: "`omnifeed check`: the same SKU in the same country should be on sale everywhere or\nnowhere. A feed without a sale where others have one usually maps the sale price away or\nsends an upcoming sale its channel cannot schedule.";
    CHECK_AVAILABILITY "check.availability" Error "a feed's availability disagrees with its own allocated stock",
        hint: "check the feed's availability mapping against its [stock] settings",
        explain: "`omnifeed check` works out each feed's availability from its own stock allocation\n(locations, partition, buffer, share, cap, thresholds) and compares it with what the feed\nsends.";
}

pub fn find(code: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|rule| rule.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for rule in ALL {
            assert!(seen.insert(rule.code), "duplicate code {}", rule.code);
            assert!(
                rule.code.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.')
            );
        }
    }
}

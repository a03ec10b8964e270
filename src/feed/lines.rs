//! Where a key sits in a feed definition's TOML source, so a problem can name its line.

use toml::de::{DeTable, DeValue};

/// The 1-based line of `key` inside element `index` of the array of tables at `table`
/// (`[[shipping.rules]]` is `["shipping", "rules"]`); the element's own line when it lacks
/// the key.
pub(super) fn array_item_line(
    text: &str,
    table: &[&str],
    index: usize,
    key: &str,
) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut current = root.get_ref();
    let (last, parents) = table.split_last()?;
    for name in parents {
        match current
            .iter()
            .find(|(k, _)| k.get_ref() == name)?
            .1
            .get_ref()
        {
            DeValue::Table(inner) => current = inner,
            _ => return None,
        }
    }
    let array = match current
        .iter()
        .find(|(k, _)| k.get_ref() == last)?
        .1
        .get_ref()
    {
        DeValue::Array(array) => array,
        _ => return None,
    };
    let item = array.get(index)?;
    let start = match item.get_ref() {
        DeValue::Table(fields) => fields
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map_or(item.span().start, |(k, _)| k.span().start),
        _ => item.span().start,
    };
    Some(text[..start.min(text.len())].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::array_item_line;

    #[test]
    fn finds_keys_in_arrays_of_tables_and_inline_tables() {
        let text = "channel = \"x\"\n\n[[shipping.rules]]\ncountry = \"DE\"\nprice = 1\n\n[[shipping.rules]]\ncountry = \"AT\"\nprice = \"x\"\n\n[tax]\nrules = [\n  { region = \"CA\", rate = 200 },\n]\n";
        assert_eq!(
            array_item_line(text, &["shipping", "rules"], 1, "price"),
            Some(9)
        );
        assert_eq!(
            array_item_line(text, &["shipping", "rules"], 0, "country"),
            Some(4)
        );
        assert_eq!(
            array_item_line(text, &["tax", "rules"], 0, "rate"),
            Some(13)
        );
        assert_eq!(
            array_item_line(text, &["shipping", "rules"], 5, "price"),
            None
        );
    }
}

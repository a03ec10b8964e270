//! Google product category ids a feed relies on (its `[category_map]` and its spec's
//! `category_under` conditions), checked against the taxonomy the config names.

use crate::spec::ChannelSpec;
use crate::spec::taxonomy::Taxonomy;

/// Problems (errors) and notes (warnings) about category ids. With the user's own taxonomy
/// file an unknown id is an error; the built-in list is older than Google's, so there an
/// unknown id may be a newer category and is only a warning.
pub(super) fn check(
    spec: &ChannelSpec,
    category_map: &[(String, String)],
    taxonomy: &Taxonomy,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let mut unknown = |what: String| {
        if taxonomy.is_authoritative() {
            problems.push(format!("{what} is not in {}", taxonomy.describe()));
        } else {
            warnings.push(format!(
                "{what} is not in {}; if Google lists it, set `taxonomy = \"FILE\"` in omnifeed.toml to Google's current taxonomy-with-ids.en-US.txt",
                taxonomy.describe()
            ));
        }
    };
    for (prefix, category) in category_map {
        if taxonomy.resolve(category).is_none() {
            unknown(format!(
                "[category_map] `{prefix}` -> `{category}`: the Google product category"
            ));
        }
    }
    for field in &spec.fields {
        let ids = field
            .condition
            .iter()
            .chain(field.fallback.as_ref().map(|f| &f.when))
            .flat_map(|c| c.category_ids());
        for id in ids {
            if taxonomy.path(*id).is_none() {
                unknown(format!(
                    "the {} spec's field `{}` is required under category `{id}`, which",
                    spec.id, field.name
                ));
            }
        }
    }
}

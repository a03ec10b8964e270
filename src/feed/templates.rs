//! Checking field templates when feeds load. A template that reads a value no item has or
//! calls a function or filter that does not exist fails for every item alike: that is a
//! mistake in the feed definition, reported once, before anything is written.

use std::collections::BTreeSet;

use minijinja::Environment;
use minijinja::machinery::{Instruction, get_compiled_template};

/// Filters and tests minijinja ships, for suggestions only: whether a name exists is asked
/// of the environment itself (see `exists`).
pub(super) const BUILTIN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "trim",
    "unique",
    "upper",
    "zip",
];
pub(super) const BUILTIN_TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "gt",
    "in",
    "integer",
    "iterable",
    "le",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];

/// Problems of the template `name` (the override of `field`), each naming the unknown name
/// and the closest known one. `variables` are the values an item gives its templates.
pub(super) fn check(
    templates: &Environment<'_>,
    name: &str,
    field: &str,
    variables: &[String],
) -> Vec<String> {
    let Ok(template) = templates.get_template(name) else {
        return Vec::new();
    };
    let compiled = get_compiled_template(&template);
    let mut filters = BTreeSet::new();
    let mut tests = BTreeSet::new();
    let mut calls = BTreeSet::new();
    for instructions in std::iter::once(&compiled.instructions).chain(compiled.blocks.values()) {
        for instruction in (0..).map_while(|index| instructions.get(index)) {
            match instruction {
                Instruction::ApplyFilter(name, ..) => filters.insert(*name),
                Instruction::PerformTest(name, ..) => tests.insert(*name),
                Instruction::CallFunction(name, _) => calls.insert(*name),
                _ => false,
            };
        }
    }
    let globals: Vec<String> = templates.globals().map(|(n, _)| n.to_owned()).collect();
    let mut problems = Vec::new();
    for filter in filters {
        if !exists(templates, "filter", filter) {
            problems.push(format!(
                "[fields] `{field}`: the template uses filter `{filter}`, which does not exist{}",
                suggest(filter, BUILTIN_FILTERS.iter().copied())
            ));
        }
    }
    for test in tests {
        if !exists(templates, "test", test) {
            problems.push(format!(
                "[fields] `{field}`: the template uses test `{test}`, which does not exist{}",
                suggest(test, BUILTIN_TESTS.iter().copied())
            ));
        }
    }
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !variables.contains(name) && !globals.contains(name))
        .collect();
    unknown.sort();
    for name in unknown {
        if calls.contains(name.as_str()) {
            problems.push(format!(
                "[fields] `{field}`: the template calls function `{name}`, which does not exist{}",
                suggest(&name, globals.iter().map(String::as_str))
            ));
        } else {
            problems.push(format!(
                "[fields] `{field}`: the template reads `{name}`, which is not a value items have{}\n    \
                 (templates read the canonical fields, custom.COLUMN and: availability, \
                 quantity, description_text, country, language, currency)",
                suggest(&name, variables.iter().map(String::as_str))
            ));
        }
    }
    problems
}

/// Whether the environment has a filter or test named `name`, asked through minijinja's own
/// `is filter` / `is test` tests.
pub(super) fn exists(templates: &Environment<'_>, kind: &str, name: &str) -> bool {
    let probe = format!("{{% if name is {kind} %}}yes{{% endif %}}");
    templates
        .render_str(&probe, minijinja::context! { name })
        .is_ok_and(|rendered| rendered == "yes")
}

fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> String {
    // Jaro-Winkler weighs a shared start, which is how names are usually mistyped
    // (`upcase` for `upper`), where edit distance would offer `escape`.
    known
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(similarity, _)| *similarity >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(String::new(), |(_, candidate)| {
            format!("; did you mean `{candidate}`?")
        })
}

use super::template_variables;
use super::templates::check;

fn problems(source: &str) -> Vec<String> {
    let mut templates = minijinja::Environment::new();
    templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    templates
        .add_template_owned("fields.title", source.to_owned())
        .expect("template compiles");
    let variables: Vec<String> = template_variables().collect();
    check(&templates, "fields.title", "title", &variables)
}

#[test]
fn templates_over_known_values_filters_and_functions_pass() {
    for source in [
        "{{ brand }} {{ title }} - {{ color }}",
        "{{ product_type | split(' > ') | first }}",
        "{{ custom.season | default('all') | upper }}",
        "{% for word in title | split(' ') %}{{ loop.index }}{{ word }}{% endfor %}",
        "{% set x = brand %}{{ x }}{{ range(3) | join(',') }}",
        "{{ quantity is even }} {{ description_text[:10] }}",
    ] {
        assert_eq!(problems(source), Vec::<String>::new(), "{source}");
    }
}

#[test]
fn unknown_filters_tests_functions_and_values_are_named_with_a_suggestion() {
    let found = problems("{{ title | upcase }}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("filter `upcase`") && found[0].contains("did you mean `upper`?"),
        "{found:?}"
    );
    let found = problems("{{ titel }}");
    assert!(
        found[0].contains("reads `titel`") && found[0].contains("did you mean `title`?"),
        "{found:?}"
    );
    let found = problems("{{ rnage(3) }}");
    assert!(
        found[0].contains("function `rnage`") && found[0].contains("did you mean `range`?"),
        "{found:?}"
    );
    let found = problems("{{ quantity is evn }}");
    assert!(
        found[0].contains("test `evn`") && found[0].contains("did you mean `even`?"),
        "{found:?}"
    );
}

#[test]
fn every_suggested_builtin_exists() {
    let env = minijinja::Environment::new();
    let mut missing = Vec::new();
    for (kind, names) in [
        ("filter", super::templates::BUILTIN_FILTERS),
        ("test", super::templates::BUILTIN_TESTS),
    ] {
        for &name in names {
            if !super::templates::exists(&env, kind, name) {
                missing.push(format!("{kind} {name}"));
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}

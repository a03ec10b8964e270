use std::path::Path;

use super::Taxonomy;

/// Google's current list, handed over in shared/reference.
fn shared_file() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/google-product-taxonomy/taxonomy-with-ids.en-US.txt"
    ))
}

fn nesting_holds(t: &Taxonomy) {
    assert_eq!(t.path(166), Some("Apparel & Accessories"));
    assert!(t.is_under("212", 166), "Shirts & Tops is apparel");
    assert!(t.is_under("187", 166), "Shoes are apparel");
    assert!(t.is_under("Apparel & Accessories > Shoes", 187));
    assert!(!t.is_under("543626", 166), "headphones are not apparel");
    assert!(!t.is_under("1660", 166), "a different id, not a child");
    assert!(t.resolve("99999999").is_none());
}

#[test]
fn built_in_ids_and_paths_resolve_and_nest() {
    nesting_holds(&Taxonomy::Bundled);
}

#[test]
fn a_taxonomy_file_resolves_and_nests_the_same_way() {
    nesting_holds(&Taxonomy::from_file(shared_file()).expect("shared taxonomy"));
}

#[test]
fn the_current_file_knows_categories_the_built_in_list_lacks() {
    let file = Taxonomy::from_file(shared_file()).expect("shared taxonomy");
    // Mini Skirts came after the crate's 2019 list.
    assert_eq!(
        file.path(2331),
        Some("Apparel & Accessories > Clothing > Skirts > Mini Skirts")
    );
    assert!(file.is_under("2331", 166));
    assert!(Taxonomy::Bundled.path(2331).is_none());
    assert!(file.is_authoritative() && !Taxonomy::Bundled.is_authoritative());
}

#[test]
fn every_built_in_category_is_in_the_current_file_with_its_path_or_renamed() {
    let file = Taxonomy::from_file(shared_file()).expect("shared taxonomy");
    let Taxonomy::File { path_by_id, .. } = &file else {
        unreachable!()
    };
    let known = path_by_id
        .keys()
        .filter(|id| Taxonomy::Bundled.path(**id).is_some())
        .count();
    // 5,595 categories today, 13 of them newer than the built-in list.
    assert_eq!((path_by_id.len(), known), (5595, 5582));
}

#[test]
fn a_file_not_in_the_taxonomy_form_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("taxonomy.txt");
    std::fs::write(&path, "# version\n1 - Animals\nAnimals > Pets\n").expect("write");
    let err = Taxonomy::from_file(&path).expect_err("malformed");
    assert!(err.to_string().contains("line 3"), "{err}");
}

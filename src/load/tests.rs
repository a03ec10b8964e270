//! Loader internals that the end-to-end tests cannot see: how the stock tables are laid out.

use super::catalog::{Inventory, read_inventory_for_test};
use super::locations::Locations;
use crate::config::Config;

/// A catalog folder with `stores` stores and `skus` SKUs, every SKU stocked in every store,
/// the inventory's rows in the order `rows` gives.
fn inventory(skus: usize, stores: usize, by_location: bool) -> (Inventory, Locations, usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut locations = String::from("location_id,kind,name,store_code\n");
    for store in 0..stores {
        locations.push_str(&format!("S{store},store,Store {store},s{store}\n"));
    }
    let mut rows: Vec<(usize, usize)> = (0..skus)
        .flat_map(|sku| (0..stores).map(move |store| (sku, store)))
        .collect();
    if by_location {
        rows.sort_by_key(|&(sku, store)| (store, sku));
    }
    let mut text = String::from("sku,location_id,quantity\n");
    for &(sku, store) in &rows {
        text.push_str(&format!("SKU-{sku},S{store},{}\n", sku * 100 + store));
    }
    std::fs::write(dir.path().join("locations.csv"), locations).expect("write");
    std::fs::write(dir.path().join("inventory.csv"), text).expect("write");
    std::fs::write(dir.path().join("products.csv"), "sku\n").expect("write");
    let config =
        Config::load(&dir.path().join("absent.toml"), false, Some(dir.path())).expect("config");
    let (inventory, locations) = read_inventory_for_test(&config).expect("reads");
    (inventory, locations, rows.len())
}

/// Issue #9.8: an inventory sorted by location moved each SKU's run to the end at every
/// row, leaving the old one behind: twenty stores took ten times the levels' memory.
#[test]
fn r9_8_inventory_sorted_by_location_keeps_its_levels_compact() {
    for by_location in [false, true] {
        let (inventory, locations, rows) = inventory(3000, 20, by_location);
        let slots = inventory.level_slots();
        assert!(
            slots * 10 <= rows * 11,
            "by location: {by_location}: {slots} level slots for {rows} rows"
        );
        for sku in [0, 1, 1234, 2999] {
            let stock = inventory.stock(&format!("SKU-{sku}"));
            let mut found: Vec<(String, u32)> = stock
                .iter()
                .map(|level| (locations.get(level.location).id.clone(), level.quantity))
                .collect();
            found.sort();
            let mut expected: Vec<(String, u32)> = (0..20)
                .map(|store| (format!("S{store}"), (sku * 100 + store) as u32))
                .collect();
            expected.sort();
            assert_eq!(found, expected, "SKU-{sku}, by location: {by_location}");
        }
    }
}

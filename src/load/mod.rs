//! Load: read the catalog files, map their columns, and check every row.

pub mod catalog;
pub mod columns;
pub mod dates;
pub mod keys;
pub mod line_counter;
pub mod locations;
pub mod preset;
pub mod products;
pub mod quantity;
pub mod store_prices;
pub mod table;

pub use catalog::{CatalogItem, Inventory, LoadCounts, LoadOutcome, StockLevel, StockTiming, load};
pub use locations::{Location, LocationKind, Locations};
pub use products::CatalogColumns;
pub use table::LoadError;

#[cfg(test)]
mod tests;

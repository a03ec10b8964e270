//! Load: read the catalog files, map their columns, and check every row.

pub mod catalog;
pub mod columns;
pub mod dates;
pub mod locations;
pub mod products;
pub mod table;

pub use catalog::{CatalogItem, LoadCounts, LoadOutcome, StockLevel, load};
pub use locations::{Location, LocationKind, Locations};
pub use table::LoadError;

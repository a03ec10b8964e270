//! The typed catalog: money, currencies, GTINs, fields and variants.

pub mod currency;
pub mod exchange;
pub mod field;
pub mod gtin;
pub mod links;
pub mod money;
pub mod shipping;
pub mod variant;

pub use currency::Currency;
pub use field::Field;
pub use gtin::{Gtin, GtinError};
pub use money::{AmountError, Money, parse_amount};
pub use shipping::{ShippingPrice, Weight, WeightUnit, parse_shipping_price, parse_weight};
pub use variant::{Availability, Price, Sale, Variant};

//! Field roles: which channel field carries the price, the stock and the currency. Guards
//! and the diff ranking read values through these, so they work for any spec (Amazon's
//! price sits in `purchasable_offer`, its stock in `fulfillment_availability`) and compare
//! canonical values (an exact decimal and a currency, a count, an availability) instead of
//! channel text.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::model::Availability;

/// What a field means to omnifeed beyond its text; at most one field per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The regular price (`type = "price"`).
    Price,
    /// The sale price (`type = "price"`).
    SalePrice,
    /// The availability (`type = "enum"`; its `map` is read backwards).
    Availability,
    /// The sellable quantity (`type = "integer"`); 0 means out of stock.
    Quantity,
    /// The price's ISO 4217 currency, for specs whose price text has none.
    Currency,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Price,
        Role::SalePrice,
        Role::Availability,
        Role::Quantity,
        Role::Currency,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Price => "price",
            Role::SalePrice => "sale_price",
            Role::Availability => "availability",
            Role::Quantity => "quantity",
            Role::Currency => "currency",
        }
    }
}

/// A role's field: its name (as diffs and the state key values) and how to read its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleField {
    pub name: String,
    /// Channel spelling -> canonical spelling (the field's `map`, reversed).
    unmap: Vec<(String, String)>,
}

/// An amount as a channel field holds it: `19.99 EUR`, or `19.99` with the currency elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount<'t> {
    pub value: Decimal,
    pub currency: Option<&'t str>,
}

impl RoleField {
    pub fn new(name: &str, map: &[(String, String)]) -> RoleField {
        RoleField {
            name: name.to_owned(),
            unmap: map
                .iter()
                .map(|(canonical, channel)| (channel.clone(), canonical.clone()))
                .collect(),
        }
    }

    /// `"19.99 EUR"` -> 19.99 and `EUR`; `"19.99"` -> 19.99 alone. None for other text.
    pub fn amount<'t>(&self, text: &'t str) -> Option<Amount<'t>> {
        let mut parts = text.split_whitespace();
        let value = Decimal::from_str_exact(parts.next()?).ok()?;
        let currency = match (parts.next(), parts.next()) {
            (None, _) => None,
            (Some(code), None) if is_currency_code(code) => Some(code),
            _ => return None,
        };
        Some(Amount { value, currency })
    }

    /// The canonical availability of a channel spelling (`out of stock` -> out_of_stock).
    pub fn availability(&self, text: &str) -> Option<Availability> {
        let canonical = self
            .unmap
            .iter()
            .find(|(channel, _)| channel == text)
            .map_or(text, |(_, canonical)| canonical.as_str());
        Availability::parse(canonical)
    }

    pub fn quantity(&self, text: &str) -> Option<u64> {
        text.trim().parse().ok()
    }

    /// A currency field's code.
    pub fn currency<'t>(&self, text: &'t str) -> Option<&'t str> {
        let code = text.trim();
        is_currency_code(code).then_some(code)
    }
}

fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// The role fields of one spec.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub price: Option<RoleField>,
    pub sale_price: Option<RoleField>,
    pub availability: Option<RoleField>,
    pub quantity: Option<RoleField>,
    pub currency: Option<RoleField>,
    /// The price text ends with its currency (`price_format = "amount_currency"`).
    pub price_carries_currency: bool,
}

impl Roles {
    pub fn get(&self, role: Role) -> Option<&RoleField> {
        match role {
            Role::Price => self.price.as_ref(),
            Role::SalePrice => self.sale_price.as_ref(),
            Role::Availability => self.availability.as_ref(),
            Role::Quantity => self.quantity.as_ref(),
            Role::Currency => self.currency.as_ref(),
        }
    }

    pub(super) fn slot(&mut self, role: Role) -> &mut Option<RoleField> {
        match role {
            Role::Price => &mut self.price,
            Role::SalePrice => &mut self.sale_price,
            Role::Availability => &mut self.availability,
            Role::Quantity => &mut self.quantity,
            Role::Currency => &mut self.currency,
        }
    }

    /// Whether the spec says when an item is out of stock (an availability, or a quantity).
    pub fn has_stock(&self) -> bool {
        self.availability.is_some() || self.quantity.is_some()
    }

    /// Whether a price's currency can be told: in the price text or in its own field.
    pub fn has_currency(&self) -> bool {
        self.currency.is_some() || (self.price.is_some() && self.price_carries_currency)
    }
}

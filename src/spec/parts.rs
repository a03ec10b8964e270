//! Sub-attributes of a group field (`source = "shipping"` or `"tax"`): the names a spec's
//! `parts` list may hold, in the channel's text order. RSS writes each part as a nested
//! element (`<g:shipping><g:country>…`), text formats join them with `part_separator`.

use super::compile::Derived;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Country,
    Region,
    PostalCode,
    /// One slot for either: the text form `US:94*:Ground:5.00 USD` puts a postal code
    /// where a region would go; RSS names the element after what the rule holds.
    RegionOrPostalCode,
    Service,
    Price,
    MinHandlingTime,
    MaxHandlingTime,
    MinTransitTime,
    MaxTransitTime,
    Rate,
    TaxShip,
}

impl Part {
    const SHIPPING: &[Part] = &[
        Part::Country,
        Part::Region,
        Part::PostalCode,
        Part::RegionOrPostalCode,
        Part::Service,
        Part::Price,
        Part::MinHandlingTime,
        Part::MaxHandlingTime,
        Part::MinTransitTime,
        Part::MaxTransitTime,
    ];
    const TAX: &[Part] = &[
        Part::Country,
        Part::Region,
        Part::PostalCode,
        Part::RegionOrPostalCode,
        Part::Rate,
        Part::TaxShip,
    ];

    /// The parts a group of this source can hold.
    pub fn allowed(source: &Derived) -> &'static [Part] {
        match source {
            Derived::Tax => Part::TAX,
            _ => Part::SHIPPING,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Part::Country => "country",
            Part::Region => "region",
            Part::PostalCode => "postal_code",
            Part::RegionOrPostalCode => "region_or_postal_code",
            Part::Service => "service",
            Part::Price => "price",
            Part::MinHandlingTime => "min_handling_time",
            Part::MaxHandlingTime => "max_handling_time",
            Part::MinTransitTime => "min_transit_time",
            Part::MaxTransitTime => "max_transit_time",
            Part::Rate => "rate",
            Part::TaxShip => "tax_ship",
        }
    }

    pub fn parse(name: &str, source: &Derived) -> Option<Part> {
        Part::allowed(source)
            .iter()
            .copied()
            .find(|part| part.name() == name)
    }
}

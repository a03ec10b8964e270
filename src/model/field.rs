//! The canonical product fields. Column mappings, required-field lists, findings and channel
//! specs all name fields by these snake_case names.

macro_rules! fields {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $($variant),* }

        impl Field {
            pub const ALL: &[Field] = &[$(Field::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Field::$variant => $name),* }
            }

            pub fn parse(name: &str) -> Option<Field> {
                match name { $($name => Some(Field::$variant),)* _ => None }
            }
        }
    };
}

fields! {
    Sku => "sku",
    GroupId => "group_id",
    Title => "title",
    Description => "description",
    Brand => "brand",
    Gtin => "gtin",
    Mpn => "mpn",
    Condition => "condition",
    Price => "price",
    Currency => "currency",
    SalePrice => "sale_price",
    SaleStart => "sale_start",
    SaleEnd => "sale_end",
    SaleEffectiveDate => "sale_price_effective_date",
    Link => "link",
    ImageLink => "image_link",
    AdditionalImageLinks => "additional_image_links",
    GoogleProductCategory => "google_product_category",
    ProductType => "product_type",
    Color => "color",
    Size => "size",
    Gender => "gender",
    AgeGroup => "age_group",
    Material => "material",
    Pattern => "pattern",
    Weight => "weight",
    ShippingWeight => "shipping_weight",
    ShippingPrice => "shipping_price",
    Availability => "availability",
    AvailabilityDate => "availability_date",
    Stock => "stock",
    BackorderAllowed => "backorder_allowed",
}

impl Field {
    pub fn names() -> Vec<&'static str> {
        Field::ALL.iter().map(|f| f.name()).collect()
    }

    /// Attributes that tell variants of one item group apart.
    pub const VARIANT_ATTRIBUTES: &[Field] = &[
        Field::Color,
        Field::Size,
        Field::Material,
        Field::Pattern,
        Field::Gender,
        Field::AgeGroup,
    ];
}

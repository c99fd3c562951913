//! The names habtm's derive gives by default, and LoopBack's.

use heck::{ToLowerCamelCase, ToSnakeCase};

/// habtm's default accessor: `Part` -> `parts`, `Person` -> `people`.
pub fn accessor(model: &str) -> String {
    pluralizer::pluralize(&model.to_snake_case(), 2, false)
}

/// A Rust field name for a LoopBack property: `partNumber` -> `part_number`.
pub fn field(property: &str) -> String {
    property.to_snake_case()
}

/// LoopBack's join key of a model: `Assembly` -> `assemblyId`.
pub fn loopback_key(model: &str) -> String {
    format!("{}Id", model.to_lower_camel_case())
}

/// Whether a name is a Rust keyword that a field must write as `r#name`.
pub fn is_keyword(name: &str) -> bool {
    syn::parse_str::<syn::Ident>(name).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(accessor("Part"), "parts");
        assert_eq!(accessor("PartCategory"), "part_categories");
        assert_eq!(field("partNumber"), "part_number");
        assert_eq!(loopback_key("KitComponent"), "kitComponentId");
        assert!(is_keyword("type"));
        assert!(!is_keyword("name"));
    }
}

//! The naming rules: deterministic, and the same from either side of a relation.

use heck::{ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

/// `Part` -> `parts`, `Assembly` -> `assemblies`, `PartCategory` -> `part_categories`.
pub fn accessor(model: &str) -> String {
    plural(&model.to_snake_case())
}

/// The plural of an English word, by the inflection rules of `pluralizer`.
pub fn plural(word: &str) -> String {
    pluralizer::pluralize(word, 2, false)
}

/// The singular of an English word: `subparts` -> `subpart`.
pub fn singular(word: &str) -> String {
    pluralizer::pluralize(word, 1, false)
}

/// The default join table: the two model names in byte order, so both sides agree.
pub fn join_table(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}{b}")
    } else {
        format!("{b}{a}")
    }
}

/// The join column of a model: `Assembly` -> `assembly_id`.
pub fn join_key(model: &str) -> String {
    format!("{}_id", model.to_snake_case())
}

/// The accessor struct: `Assembly` + `parts` -> `AssemblyParts`.
pub fn accessor_struct(owner: &str, accessor: &str) -> String {
    format!("{owner}{}", accessor.to_upper_camel_case())
}

/// The filter constant of a field: `part_number` -> `PART_NUMBER`.
pub fn column_const(field: &str) -> String {
    field.to_shouty_snake_case()
}

/// The property name in LoopBack JSON: `part_number` -> `partNumber`.
pub fn json_name(field: &str) -> String {
    field.to_lower_camel_case()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_are_snake_case_plurals() {
        assert_eq!(accessor("Part"), "parts");
        assert_eq!(accessor("Assembly"), "assemblies");
        assert_eq!(accessor("Category"), "categories");
        assert_eq!(accessor("PartCategory"), "part_categories");
        assert_eq!(accessor("Person"), "people");
    }

    #[test]
    fn join_tables_do_not_depend_on_the_side() {
        assert_eq!(join_table("Assembly", "Part"), "AssemblyPart");
        assert_eq!(join_table("Part", "Assembly"), "AssemblyPart");
        assert_eq!(join_table("Part", "Part"), "PartPart");
    }

    #[test]
    fn keys_and_structs() {
        assert_eq!(join_key("PartCategory"), "part_category_id");
        assert_eq!(singular("subparts"), "subpart");
        assert_eq!(accessor_struct("Assembly", "parts"), "AssemblyParts");
        assert_eq!(accessor_struct("Part", "spare_parts"), "PartSpareParts");
        assert_eq!(column_const("part_number"), "PART_NUMBER");
    }
}

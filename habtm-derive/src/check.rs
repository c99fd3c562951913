//! Rules that span several attributes; one function per rule.

use std::collections::HashMap;

use darling::error::Accumulator;
use proc_macro2::Span;

use crate::ast::{Model, Relation, SqlName};

/// Runs every rule, collecting all errors.
pub fn check(model: &Model<'_>, errors: &mut Accumulator) {
    sql_names(model, errors);
    distinct_columns(model, errors);
    distinct_accessors(model, errors);
    distinct_join_tables(model, errors);
    distinct_join_keys(model, errors);
    distinct_constants(model, errors);
    symmetric_to_self(model, errors);
}

/// `symmetric` links a model to itself: on a relation to another model, the two directions
/// of a link would be rows of different tables.
fn symmetric_to_self(model: &Model<'_>, errors: &mut Accumulator) {
    for relation in &model.relations {
        if let Some(span) = relation.symmetric.filter(|_| !relation.is_self) {
            errors.push(error(
                format!(
                    "`symmetric` needs a relation of `{}` to itself, and this one is to `{}`: remove `symmetric` (the other model can declare the relation back, on the same join table)",
                    model.name, relation.target_name
                ),
                span,
            ));
        }
    }
}

/// Column and relation constants share the model's namespace: a field `parts` and a relation
/// `parts` would both be `PARTS`.
fn distinct_constants(model: &Model<'_>, errors: &mut Accumulator) {
    let columns: HashMap<String, String> = model
        .fields
        .iter()
        .map(|f| (crate::naming::column_const(&f.name()), f.name()))
        .collect();
    for relation in &model.relations {
        let constant = crate::naming::column_const(&relation.accessor.to_string());
        if let Some(field) = columns.get(&constant) {
            errors.push(error(
                format!(
                    "the relation `{}` and the field `{field}` would both be `{}::{constant}`: give the relation another `name`",
                    relation.accessor, model.name
                ),
                relation.accessor.span(),
            ));
        }
    }
}

/// The longest identifier every dialect accepts (PostgreSQL's limit; MySQL allows 64).
const MAX_NAME_BYTES: usize = 63;

fn error(message: String, span: Span) -> darling::Error {
    darling::Error::custom(message).with_span(&span)
}

/// Names reaching SQL are quotable everywhere: `table = "my\"table"` is rejected.
fn sql_name(name: &SqlName, what: &str, errors: &mut Accumulator) {
    let problem = if name.value.is_empty() {
        Some("is empty".to_owned())
    } else if name.value.len() > MAX_NAME_BYTES {
        Some(format!(
            "is {} bytes long; the limit is {MAX_NAME_BYTES}",
            name.value.len()
        ))
    } else {
        name.value
            .chars()
            .find(|c| matches!(c, '"' | '`' | '\'' | '\0') || c.is_control())
            .map(|c| format!("contains {c:?}"))
    };
    if let Some(problem) = problem {
        errors.push(error(
            format!(
                "the {what} `{}` {problem}: SQL names must be 1 to {MAX_NAME_BYTES} bytes without quotes or control characters",
                name.value.escape_debug()
            ),
            name.span,
        ));
    }
}

/// Every table and column name can be quoted on every dialect: `#[model(column = "")]` is an error.
fn sql_names(model: &Model<'_>, errors: &mut Accumulator) {
    sql_name(&model.table, "table name", errors);
    for field in &model.fields {
        sql_name(&field.column, "column name", errors);
    }
    for relation in &model.relations {
        sql_name(&relation.join_table, "join table", errors);
        sql_name(&relation.owner_key, "join column", errors);
        sql_name(&relation.target_key, "join column", errors);
    }
}

/// Two fields cannot share a column: `a: i64, #[model(column = "a")] b: i64` is an error.
fn distinct_columns(model: &Model<'_>, errors: &mut Accumulator) {
    let mut seen = HashMap::new();
    for field in &model.fields {
        if let Some(first) = seen.insert(field.column.value.as_str(), field.name()) {
            errors.push(error(
                format!("the column `{}` is already used by `{first}`: give this field another `column`", field.column.value),
                field.column.span,
            ));
        }
    }
}

/// Methods the derive writes on the model itself, which an accessor must not shadow.
const MODEL_METHODS: &[&str] = &[
    "create",
    "create_many",
    "find",
    "find_by_id",
    "find_one",
    "select",
    "save",
    "delete_by_id",
    "delete_where",
    "count",
    "exists",
    "stream",
];

/// Each relation has its own accessor: two `model = "Part"` need `name = "..."` on one.
fn distinct_accessors(model: &Model<'_>, errors: &mut Accumulator) {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for relation in &model.relations {
        let accessor = relation.accessor.to_string();
        if MODEL_METHODS.contains(&accessor.as_str()) {
            errors.push(error(
                format!(
                    "the accessor `{accessor}` would hide `{}::{accessor}`: choose another `name`",
                    model.name
                ),
                relation.accessor.span(),
            ));
        }
        if let Some(first) = seen.insert(accessor.clone(), &relation.target_name) {
            errors.push(error(
                format!(
                    "the accessor `{accessor}` is already taken by the relation to `{first}`: give this relation its own `name = \"...\"`"
                ),
                relation.accessor.span(),
            ));
        }
    }
}

/// Two relations cannot share a join table: a second relation to `Part` needs its own
/// `through_table`, or both would read and write the same links. The exception is an inverse
/// pair: two relations of a model to itself, neither symmetric, whose keys are swapped
/// (`following` and `followers` on one `Follow` table); a second relation that shares the
/// table but does not swap the keys is told which keys would make it the inverse.
fn distinct_join_tables(model: &Model<'_>, errors: &mut Accumulator) {
    let mut seen: HashMap<&str, &Relation> = HashMap::new();
    for relation in &model.relations {
        let Some(first) = seen.get(relation.join_table.value.as_str()) else {
            seen.insert(&relation.join_table.value, relation);
            continue;
        };
        let pairable = relation.is_self
            && first.is_self
            && relation.symmetric.is_none()
            && first.symmetric.is_none()
            && same_path(relation.through.as_ref(), first.through.as_ref());
        if pairable {
            let mirrored = relation.owner_key.value == first.target_key.value
                && relation.target_key.value == first.owner_key.value;
            if !mirrored {
                errors.push(error(
                    format!(
                        "`{}` shares the join table `{}` with `{}`, so it must be its inverse, with the keys swapped: set `foreign_key = \"{}\", key_through = \"{}\"` (or give it its own `through_table`)",
                        relation.accessor,
                        relation.join_table.value,
                        first.accessor,
                        first.target_key.value,
                        first.owner_key.value
                    ),
                    relation.owner_key.span,
                ));
            }
            continue;
        }
        let fix = if relation.explicit_join_table {
            "choose another `through_table`"
        } else {
            "give this relation its own `through_table = \"...\"`"
        };
        let also = if relation.symmetric.or(first.symmetric).is_some() {
            " (a symmetric relation already reads its links both ways)"
        } else {
            ""
        };
        errors.push(error(
            format!(
                "the join table `{}` already links `{}` to `{}`{also}: {fix}",
                relation.join_table.value, model.name, first.target_name
            ),
            if relation.explicit_join_table {
                relation.join_table.span
            } else {
                relation.target_span
            },
        ));
    }
}

/// Whether two optional join models are written the same.
fn same_path(a: Option<&syn::Path>, b: Option<&syn::Path>) -> bool {
    let text = |p: Option<&syn::Path>| p.map(|p| quote::ToTokens::to_token_stream(p).to_string());
    text(a) == text(b)
}

/// The two join columns differ: `foreign_key = "x", key_through = "x"` is an error.
fn distinct_join_keys(model: &Model<'_>, errors: &mut Accumulator) {
    for relation in &model.relations {
        if relation.owner_key.value == relation.target_key.value {
            let hint = if relation.is_self {
                "a relation of a model to itself needs two columns"
            } else {
                "each side needs its own column"
            };
            errors.push(error(
                format!(
                    "both join columns are `{}`: {hint}; set `foreign_key` and `key_through` to different names",
                    relation.owner_key.value
                ),
                relation.target_key.span,
            ));
        }
    }
}

/// The model minus the relations whose items would clash (a taken accessor or constant),
/// for the expansion that goes out with errors.
pub fn expandable(mut model: Model<'_>) -> Model<'_> {
    let columns: Vec<String> = model
        .fields
        .iter()
        .map(|f| crate::naming::column_const(&f.name()))
        .collect();
    let mut seen: Vec<String> = Vec::new();
    model.relations.retain(|relation| {
        let accessor = relation.accessor.to_string();
        let clash = MODEL_METHODS.contains(&accessor.as_str())
            || seen.contains(&accessor)
            || columns.contains(&crate::naming::column_const(&accessor));
        seen.push(accessor);
        !clash
    });
    model
}

//! Reading the attributes: `#[model(...)]` on the struct and its fields, and each
//! `#[relation(...)]`. Unknown keys are errors that list the valid ones.

use darling::util::{Flag, Ignored, SpannedValue};
use darling::{FromDeriveInput, FromField, FromMeta};
use syn::punctuated::Punctuated;
use syn::{Attribute, DeriveInput, Generics, Ident, LitStr, Meta, Token, Type, Visibility};

/// `#[model(...)]`, on the struct and on fields.
pub const MODEL: &str = "model";
/// `#[relation(...)]`, read by hand: darling forwards it untouched.
pub const RELATION: &str = "relation";

/// The keys of each attribute, as the structs below name their fields.
pub const MODEL_KEYS: &[&str] = &["table", "plural"];
pub const FIELD_KEYS: &[&str] = &["id", "column", "generated"];
pub const RELATION_KEYS: &[&str] = &[
    "has_and_belongs_to_many",
    "model",
    "name",
    "through_table",
    "foreign_key",
    "key_through",
    "through",
];

/// Reports every key that no attribute knows, with the closest valid key and the full list.
/// Returns whether there were any.
pub fn unknown_keys(input: &DeriveInput, errors: &mut darling::error::Accumulator) -> bool {
    let mut found = false;
    let mut check = |attrs: &[Attribute], name: &str, keys: &[&str]| {
        for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
            let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                continue;
            };
            for meta in metas {
                let path = meta.path();
                let key = path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if keys.contains(&key.as_str()) {
                    continue;
                }
                found = true;
                let closest = keys
                    .iter()
                    .map(|k| (strsim::jaro_winkler(k, &key), k))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| format!(": did you mean `{k}`?"))
                    .unwrap_or_default();
                errors.push(
                    darling::Error::custom(format!(
                        "unknown key `{}` in #[{name}(...)]{closest} The keys are: {}",
                        quote::ToTokens::to_token_stream(path),
                        keys.join(", ")
                    ))
                    .with_span(path),
                );
            }
        }
    };
    check(&input.attrs, MODEL, MODEL_KEYS);
    check(&input.attrs, RELATION, RELATION_KEYS);
    if let syn::Data::Struct(data) = &input.data {
        for field in &data.fields {
            check(&field.attrs, MODEL, FIELD_KEYS);
        }
    }
    found
}

/// `#[model(table = "...", plural = "...")]` and the struct itself.
#[derive(FromDeriveInput)]
#[darling(attributes(model), forward_attrs(relation))]
pub struct ModelAttrs {
    pub ident: Ident,
    pub vis: Visibility,
    pub generics: Generics,
    pub data: darling::ast::Data<Ignored, FieldAttrs>,
    pub attrs: Vec<Attribute>,
    /// The table name; defaults to the struct name.
    pub table: Option<LitStr>,
    /// The plural of the model's name, as LoopBack's `plural`; kept for REST paths.
    pub plural: Option<LitStr>,
}

/// `#[model(id)]`, `#[model(column = "...")]`, `#[model(generated = bool)]` on a field.
#[derive(FromField)]
#[darling(attributes(model), forward_attrs(doc))]
pub struct FieldAttrs {
    pub ident: Option<Ident>,
    pub ty: Type,
    pub attrs: Vec<Attribute>,
    /// This field is the id.
    pub id: Flag,
    /// The column name; defaults to the field name.
    pub column: Option<LitStr>,
    /// Whether the database generates the id (default: for integer ids).
    pub generated: Option<SpannedValue<bool>>,
}

/// `#[relation(has_and_belongs_to_many, model = "Part", ...)]`.
#[derive(FromMeta)]
pub struct RelationAttrs {
    /// The relation kind; the only one is `has_and_belongs_to_many`.
    pub has_and_belongs_to_many: Flag,
    /// The related model.
    pub model: Option<LitStr>,
    /// The accessor; defaults to the snake_case plural of the model.
    pub name: Option<LitStr>,
    /// The join table; defaults to both model names in byte order.
    pub through_table: Option<LitStr>,
    /// This side's column in the join table; defaults to `<this model>_id`.
    pub foreign_key: Option<LitStr>,
    /// The other side's column in the join table; defaults to `<model>_id`.
    pub key_through: Option<LitStr>,
    /// A join model with extra columns.
    pub through: Option<LitStr>,
}

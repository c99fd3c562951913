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
pub const MODEL_KEYS: &[&str] = &["table", "plural", "derive"];
pub const FIELD_KEYS: &[&str] = &["id", "column", "generated"];
pub const RELATION_KEYS: &[&str] = &[
    "has_and_belongs_to_many",
    "model",
    "name",
    "through_table",
    "foreign_key",
    "key_through",
    "through",
    "symmetric",
];

/// Reports every key that no attribute knows, with the closest valid key and the full list,
/// and returns the input with each unknown key replaced by its closest valid key (or
/// dropped), so that the rest of the derive can go on as the user most likely meant: one
/// typo gives one error, not one for every use of what the derive would have generated.
pub fn correct_unknown_keys(
    input: &DeriveInput,
    errors: &mut darling::error::Accumulator,
) -> DeriveInput {
    let mut corrected = input.clone();
    let mut fix = |attrs: &mut Vec<Attribute>, name: &str, keys: &[&str]| {
        for attr in attrs.iter_mut().filter(|a| a.path().is_ident(name)) {
            let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            else {
                continue;
            };
            let mut kept: Vec<Meta> = Vec::with_capacity(metas.len());
            let mut changed = false;
            for mut meta in metas {
                let key = meta
                    .path()
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if keys.contains(&key.as_str()) {
                    kept.push(meta);
                    continue;
                }
                changed = true;
                let closest = keys
                    .iter()
                    .map(|k| (strsim::jaro_winkler(k, &key), *k))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, k)| k);
                let hint = closest
                    .map(|k| format!(": did you mean `{k}`?"))
                    .unwrap_or_default();
                errors.push(
                    darling::Error::custom(format!(
                        "unknown key `{}` in #[{name}(...)]{hint} The keys are: {}",
                        quote::ToTokens::to_token_stream(meta.path()),
                        keys.join(", ")
                    ))
                    .with_span(meta.path()),
                );
                if let Some(closest) = closest {
                    let span = syn::spanned::Spanned::span(meta.path());
                    let path = syn::Path::from(Ident::new(closest, span));
                    match &mut meta {
                        Meta::Path(p) => *p = path,
                        Meta::List(list) => list.path = path,
                        Meta::NameValue(nv) => nv.path = path,
                    }
                    kept.push(meta);
                }
            }
            if changed {
                let path = attr.path().clone();
                *attr = syn::parse_quote!(#[#path(#(#kept),*)]);
            }
        }
    };
    fix(&mut corrected.attrs, MODEL, MODEL_KEYS);
    fix(&mut corrected.attrs, RELATION, RELATION_KEYS);
    if let syn::Data::Struct(data) = &mut corrected.data {
        for field in &mut data.fields {
            fix(&mut field.attrs, MODEL, FIELD_KEYS);
        }
    }
    corrected
}

/// `#[model(table = "...", plural = "...", derive(...))]` and the struct itself.
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
    /// `derive(Debug, Clone, serde::Deserialize)`: derives for the generated `New` and
    /// `Partial` structs.
    #[darling(default)]
    pub derive: darling::util::PathList,
}

/// `#[model(id)]`, `#[model(column = "...")]`, `#[model(generated = bool)]` on a field.
#[derive(FromField)]
#[darling(attributes(model), forward_attrs(doc, sqlx))]
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
    /// A self-relation whose links go both ways: `a` linked to `b` is `b` linked to `a`.
    pub symmetric: Flag,
}

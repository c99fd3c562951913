//! Reading the attributes: `#[model(...)]` on the struct and its fields, and each
//! `#[relation(...)]`. Unknown keys are errors that list the valid ones.

use darling::util::{Flag, Ignored, SpannedValue};
use darling::{FromDeriveInput, FromField, FromMeta};
use syn::{Attribute, Generics, Ident, LitStr, Type, Visibility};

/// The container attribute read by hand: darling forwards it untouched.
pub const RELATION: &str = "relation";

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

//! The model as the derive understands it: names resolved, defaults applied, spans kept
//! so that later checks can point at the user's tokens.

use darling::FromMeta;
use proc_macro2::Span;
use syn::{Attribute, Ident, LitStr, Type, Visibility};

use crate::attr::{FieldAttrs, ModelAttrs, RELATION, RelationAttrs};
use crate::naming;

/// A name that reaches SQL, with the token it came from.
pub struct SqlName {
    pub value: String,
    pub span: Span,
}

impl SqlName {
    fn new(value: impl Into<String>, span: Span) -> Self {
        SqlName {
            value: value.into(),
            span,
        }
    }

    fn from_lit(lit: &LitStr) -> Self {
        SqlName::new(lit.value(), lit.span())
    }
}

pub struct Model<'a> {
    pub ident: &'a Ident,
    pub vis: &'a Visibility,
    /// The struct name without `r#`.
    pub name: String,
    /// The plural of the name (`Assemblies`).
    pub plural: String,
    pub table: SqlName,
    pub fields: Vec<Field<'a>>,
    /// Index of the id in `fields`.
    pub id: usize,
    pub id_generated: bool,
    pub relations: Vec<Relation>,
    /// `#[model(derive(...))]`: what the generated `New` and `Partial` structs derive.
    pub derives: Vec<syn::Path>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub column: SqlName,
    pub nullable: bool,
    pub docs: Vec<&'a Attribute>,
}

pub struct Relation {
    /// The join model, a `#[derive(Model)]` whose table is the join table.
    pub through: Option<syn::Path>,
    pub accessor: Ident,
    pub target: syn::Path,
    /// The last segment of `target`: the model's name.
    pub target_name: String,
    pub target_span: Span,
    pub is_self: bool,
    pub join_table: SqlName,
    pub explicit_join_table: bool,
    pub owner_key: SqlName,
    pub target_key: SqlName,
    /// `symmetric`, with its token: writes keep both directions of each link.
    pub symmetric: Option<Span>,
}

impl Model<'_> {
    pub fn id_field(&self) -> &Field<'_> {
        &self.fields[self.id]
    }

    pub fn value_fields(&self) -> impl Iterator<Item = &Field<'_>> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != self.id)
            .map(|(_, f)| f)
    }
}

impl Field<'_> {
    pub fn name(&self) -> String {
        self.ident.unraw_string()
    }
}

trait Unraw {
    fn unraw_string(&self) -> String;
}

impl Unraw for Ident {
    fn unraw_string(&self) -> String {
        let s = self.to_string();
        s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
    }
}

/// The last path segment's name, if the type is a plain path.
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn is_integer(ty: &Type) -> bool {
    matches!(
        type_name(ty).as_deref(),
        Some("i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64")
    )
}

impl<'a> Model<'a> {
    /// Builds the model, or every error found on the way.
    pub fn from_input(
        input: &'a ModelAttrs,
        errors: &mut darling::error::Accumulator,
    ) -> Option<Self> {
        if !input.generics.params.is_empty() {
            errors.push(
                darling::Error::custom(
                    "#[derive(Model)] does not support generic structs: remove the parameters",
                )
                .with_span(&input.generics),
            );
        }
        let fields = match &input.data {
            darling::ast::Data::Struct(fields) if fields.style.is_struct() => fields,
            darling::ast::Data::Struct(_) => {
                errors.push(
                    darling::Error::custom(
                        "#[derive(Model)] needs named fields, one per column: write `struct Name { id: i64, ... }`",
                    )
                    .with_span(&input.ident),
                );
                return None;
            }
            darling::ast::Data::Enum(_) => {
                errors.push(
                    darling::Error::custom(
                        "#[derive(Model)] works on structs with named fields, not enums: a row is a struct",
                    )
                    .with_span(&input.ident),
                );
                return None;
            }
        };

        let name = input.ident.unraw_string();
        let table = input.table.as_ref().map_or_else(
            || SqlName::new(&name, input.ident.span()),
            SqlName::from_lit,
        );

        let fields_out: Vec<Field<'a>> = fields.fields.iter().map(field).collect();
        let id = find_id(&fields.fields, &input.ident, errors)?;
        let id_generated = id_generated(&fields.fields, id, errors);

        let mut relations = Vec::new();
        for attr in input.attrs.iter().filter(|a| a.path().is_ident(RELATION)) {
            if let Some(relation) = relation(attr, &name, &input.ident, errors) {
                relations.push(relation);
            }
        }

        let plural = input
            .plural
            .as_ref()
            .map_or_else(|| naming::plural(&name), LitStr::value);
        Some(Model {
            ident: &input.ident,
            vis: &input.vis,
            plural,
            name,
            table,
            fields: fields_out,
            id,
            id_generated,
            relations,
            derives: input.derive.iter().cloned().collect(),
        })
    }
}

fn field(f: &FieldAttrs) -> Field<'_> {
    let ident = f.ident.as_ref().expect("named fields have identifiers");
    Field {
        ident,
        ty: &f.ty,
        // `#[model(column)]`, else sqlx's own `#[sqlx(rename = "...")]`, else the field name.
        column: match (&f.column, sqlx_rename(&f.attrs)) {
            (Some(column), _) => SqlName::from_lit(column),
            (None, Some(renamed)) => SqlName::from_lit(&renamed),
            (None, None) => SqlName::new(ident.unraw_string(), ident.span()),
        },
        nullable: type_name(&f.ty).as_deref() == Some("Option"),
        docs: f
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect(),
    }
}

/// The column `#[sqlx(rename = "...")]` names, as sqlx's `FromRow` reads it; other `sqlx`
/// keys are sqlx's business.
fn sqlx_rename(attrs: &[syn::Attribute]) -> Option<LitStr> {
    let mut renamed = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("sqlx")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                renamed = Some(meta.value()?.parse::<LitStr>()?);
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    renamed
}

/// The field marked `#[model(id)]`, else the one named `id`.
fn find_id(
    fields: &[FieldAttrs],
    ident: &Ident,
    errors: &mut darling::error::Accumulator,
) -> Option<usize> {
    let marked: Vec<usize> = (0..fields.len())
        .filter(|&i| fields[i].id.is_present())
        .collect();
    if let [_, extra @ ..] = marked.as_slice() {
        for &i in extra {
            errors.push(
                darling::Error::custom("only one field can be the id: remove this `#[model(id)]`")
                    .with_span(&fields[i].id.span()),
            );
        }
        return marked.first().copied();
    }
    let named = fields
        .iter()
        .position(|f| f.ident.as_ref().is_some_and(|i| i == "id"));
    if named.is_none() {
        errors.push(
            darling::Error::custom(format!(
                "`{ident}` has no id: add a field `id: i64`, or mark the key field with `#[model(id)]`"
            ))
            .with_span(ident),
        );
    }
    named
}

/// Integer ids are generated by the database unless `generated = false` says otherwise.
fn id_generated(
    fields: &[FieldAttrs],
    id: usize,
    errors: &mut darling::error::Accumulator,
) -> bool {
    for (i, f) in fields.iter().enumerate() {
        if let Some(generated) = f.generated.as_ref().filter(|_| i != id) {
            errors.push(
                darling::Error::custom("`generated` applies to the id field only: remove it here")
                    .with_span(&generated.span()),
            );
        }
    }
    match &fields[id].generated {
        Some(generated) => **generated,
        None => is_integer(&fields[id].ty),
    }
}

fn relation(
    attr: &Attribute,
    owner: &str,
    owner_ident: &Ident,
    errors: &mut darling::error::Accumulator,
) -> Option<Relation> {
    let attrs = errors.handle(RelationAttrs::from_meta(&attr.meta))?;
    if !attrs.has_and_belongs_to_many.is_present() {
        errors.push(
            darling::Error::custom(
                "name the kind of relation first: `#[relation(has_and_belongs_to_many, model = \"...\")]`",
            )
            .with_span(attr.path()),
        );
    }
    let through = match &attrs.through {
        None => None,
        Some(lit) => match lit.parse::<syn::Path>() {
            Ok(path) => Some((path, lit.span())),
            Err(_) => {
                errors.push(
                    darling::Error::custom(format!(
                        "`through = {:?}` is not a type path: name the join model, as in `through = \"AssemblyPart\"`",
                        lit.value()
                    ))
                    .with_span(lit),
                );
                return None;
            }
        },
    };
    let Some(model) = &attrs.model else {
        errors.push(
            darling::Error::custom(
                "missing `model`: name the related model, as in `#[relation(has_and_belongs_to_many, model = \"Part\")]`",
            )
            .with_span(attr.path()),
        );
        return None;
    };
    let target: syn::Path = match model.parse() {
        Ok(path) => path,
        Err(_) => {
            errors.push(
                darling::Error::custom(format!(
                    "`model = {:?}` is not a type path: write the model's name, as in `model = \"Part\"`",
                    model.value()
                ))
                .with_span(model),
            );
            return None;
        }
    };
    let last = target.segments.last()?.ident.unraw_string();
    let is_self = last == owner || (target.segments.len() == 1 && last == "Self");
    let (target, target_name) = if last == "Self" {
        // `Self` cannot be named inside the generated statics.
        (syn::Path::from(owner_ident.clone()), owner.to_owned())
    } else {
        (target, last)
    };

    let accessor = match &attrs.name {
        Some(name) => match syn::parse_str::<Ident>(&name.value()) {
            Ok(ident) => Ident::new(&ident.to_string(), name.span()),
            Err(_) => {
                errors.push(
                    darling::Error::custom(format!(
                        "`name = {:?}` must be a Rust identifier in snake_case, such as \"parts\"",
                        name.value()
                    ))
                    .with_span(name),
                );
                return None;
            }
        },
        None => Ident::new(&naming::accessor(&target_name), model.span()),
    };

    let (join_table, explicit_join_table) = match (&attrs.through_table, &through) {
        (Some(table), _) => (SqlName::from_lit(table), true),
        // The join model's table, which defaults to its name.
        (None, Some((path, span))) => {
            let name = path.segments.last()?.ident.unraw_string();
            (SqlName::new(name, *span), true)
        }
        (None, None) if is_self => {
            let table = naming::accessor_struct(owner, &accessor.to_string());
            (SqlName::new(table, model.span()), false)
        }
        (None, None) => (
            SqlName::new(naming::join_table(owner, &target_name), model.span()),
            false,
        ),
    };
    let owner_key = attrs.foreign_key.as_ref().map_or_else(
        || SqlName::new(naming::join_key(owner), model.span()),
        SqlName::from_lit,
    );
    let target_key = match &attrs.key_through {
        Some(key) => SqlName::from_lit(key),
        None if is_self => SqlName::new(
            format!("{}_id", naming::singular(&accessor.to_string())),
            accessor.span(),
        ),
        None => SqlName::new(naming::join_key(&target_name), model.span()),
    };

    Some(Relation {
        through: through.map(|(path, _)| path),
        accessor,
        target,
        target_name,
        target_span: model.span(),
        is_self,
        join_table,
        explicit_join_table,
        owner_key,
        target_key,
        symmetric: attrs.symmetric.is_present().then(|| attrs.symmetric.span()),
    })
}

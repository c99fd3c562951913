//! Writing the items: `NewAssembly`, `impl Model`, the model's methods and filter columns,
//! and one accessor struct (`AssemblyParts`) per relation.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use crate::ast::{Model, Relation};
use crate::naming;

pub fn expand(model: &Model<'_>) -> TokenStream {
    let new_struct = new_struct(model);
    let partial_struct = partial_struct(model);
    let model_impl = model_impl(model);
    let json_impl = json_impl(model);
    let inherent = inherent_impl(model);
    let accessors = model.relations.iter().map(|r| accessor_struct(model, r));
    quote! {
        #new_struct
        #partial_struct
        #model_impl
        #json_impl
        #inherent
        #(#accessors)*
    }
}

fn new_ident(model: &Model<'_>) -> Ident {
    format_ident!("New{}", model.name)
}

/// SQLite-style quoting, for doc comments.
fn q(name: &str) -> String {
    format!("\"{name}\"")
}

/// The generic parameters and bounds every database method takes.
fn db_generics() -> (TokenStream, TokenStream) {
    (quote!(<__A>), quote!(where __A: ::habtm::Db,))
}

/// The fields of `NewAssembly`: every field but a generated id.
fn new_fields<'m>(model: &'m Model<'m>) -> impl Iterator<Item = &'m crate::ast::Field<'m>> {
    model
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| !(model.id_generated && *i == model.id))
        .map(|(_, f)| f)
}

fn new_struct(model: &Model<'_>) -> TokenStream {
    let vis = model.vis;
    let ident = new_ident(model);
    let doc = if model.id_generated {
        format!(
            " The values for a new [`{}`]: every field but `{}`, which the database generates.",
            model.name,
            model.id_field().name()
        )
    } else {
        format!(
            " The values for a new [`{}`]: every field, the id included.",
            model.name
        )
    };
    let fields = new_fields(model).map(|f| {
        let (ident, ty, docs) = (f.ident, f.ty, &f.docs);
        quote!(#(#docs)* pub #ident: #ty,)
    });
    let derives = derive_attr(&model.derives);
    quote! {
        #[doc = #doc]
        #derives
        #vis struct #ident {
            #(#fields)*
        }
    }
}

/// `#[derive(...)]` of the paths `#[model(derive(...))]` names, on the user's tokens (so
/// that a derive that does not exist is reported there); nothing when there are none.
fn derive_attr(paths: &[syn::Path]) -> TokenStream {
    if paths.is_empty() {
        return TokenStream::new();
    }
    quote!(#[derive(#(#paths),*)])
}

fn partial_ident(model: &Model<'_>) -> Ident {
    format_ident!("Partial{}", model.name)
}

fn partial_struct(model: &Model<'_>) -> TokenStream {
    let vis = model.vis;
    let ident = partial_ident(model);
    let doc = format!(
        " A row of [`{}`] read with `Filter::fields` (LoopBack's `fields`): the fields that were read are `Some`.",
        model.name
    );
    let fields = model.fields.iter().map(|f| {
        let (ident, ty, docs) = (f.ident, f.ty, &f.docs);
        quote!(#(#docs)* pub #ident: ::core::option::Option<#ty>,)
    });
    // `Default` is derived already.
    let derives: Vec<syn::Path> = model
        .derives
        .iter()
        .filter(|p| p.segments.last().is_none_or(|s| s.ident != "Default"))
        .cloned()
        .collect();
    let derives = derive_attr(&derives);
    quote! {
        #[doc = #doc]
        #[derive(::core::default::Default)]
        #derives
        #vis struct #ident {
            #(#fields)*
        }
    }
}

fn model_impl(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let new = new_ident(model);
    let id = model.id_field();
    let (id_ident, id_ty) = (id.ident, id.ty);
    let (name, table) = (&model.name, &model.table.value);
    let plural = &model.plural;
    let id_index = model.id;
    let id_generated = model.id_generated;

    let columns = model.fields.iter().map(|f| {
        let (column, field, nullable, ty) = (&f.column.value, f.name(), f.nullable, f.ty);
        let json_name = naming::json_name(&field);
        quote_spanned! {ty.span()=>
            ::habtm::__private::ColumnDef {
                name: #column,
                field: #field,
                nullable: #nullable,
                sql_type: ::habtm::__private::sql_type::<#ty>,
                json_name: #json_name,
            }
        }
    });
    let relation_fns = model.relations.iter().map(|r| relation_fn(model, r));

    let decode = model.fields.iter().enumerate().map(|(i, f)| {
        let (field, ty) = (f.ident, f.ty);
        quote_spanned! {ty.span()=>
            #field: <__DB as ::habtm::Backend>::get::<#ty>(__row, __offset + #i)?,
        }
    });
    let bind = |source: TokenStream| {
        let binds = model.value_fields().map(|f| {
            let (field, ty) = (f.ident, f.ty);
            quote_spanned! {ty.span()=>
                <__DB as ::habtm::Backend>::bind::<#ty>(__args, &#source.#field)?;
            }
        });
        quote!(#(#binds)*)
    };
    let bind_self = bind(quote!(self));
    let bind_new_field = model
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| !(model.id_generated && *i == model.id))
        .map(|(i, f)| {
            let (field, ty) = (f.ident, f.ty);
            quote_spanned! {ty.span()=>
                #i => <__DB as ::habtm::Backend>::bind::<#ty>(__args, &__new.#field),
            }
        });
    let bind_new = bind(quote!(__new));

    let (new_id, id_from_generated) = if id_generated {
        (
            quote!(::core::option::Option::None),
            quote!(::habtm::__private::id_from_i64(__value)),
        )
    } else {
        (
            quote!(::core::option::Option::Some(&__new.#id_ident)),
            quote!({
                let _ = __value;
                ::core::option::Option::None
            }),
        )
    };
    let id_type = quote_spanned!(id_ty.span()=> type Id = #id_ty;);
    let partial = partial_ident(model);
    let decode_partial = model.fields.iter().enumerate().map(|(i, f)| {
        let (field, ty) = (f.ident, f.ty);
        quote! {
            #field: if __mask[#i] {
                __next += 1;
                ::core::option::Option::Some(<__DB as ::habtm::Backend>::get::<#ty>(__row, __next - 1)?)
            } else {
                ::core::option::Option::None
            },
        }
    });
    let private = quote!(::habtm::__private);

    quote! {
        #[automatically_derived]
        impl ::habtm::Model for #ident {
            #id_type
            type New = #new;
            type Partial = #partial;

            fn def() -> &'static ::habtm::__private::ModelDef {
                static DEF: ::habtm::__private::ModelDef = ::habtm::__private::ModelDef {
                    name: #name,
                    plural: #plural,
                    table: #table,
                    columns: &[#(#columns),*],
                    id: #id_index,
                    id_generated: #id_generated,
                    relations: &[#(#relation_fns),*],
                    statements: ::habtm::__private::StatementCache::new(),
                };
                &DEF
            }

            fn id(&self) -> &#id_ty {
                &self.#id_ident
            }

            fn decode<__DB: ::habtm::Backend>(
                __row: &<__DB as #private::Database>::Row,
                __offset: usize,
            ) -> ::core::result::Result<Self, #private::sqlx::Error> {
                ::core::result::Result::Ok(Self { #(#decode)* })
            }

            fn decode_partial<__DB: ::habtm::Backend>(
                __row: &<__DB as #private::Database>::Row,
                __offset: usize,
                __mask: &[bool],
            ) -> ::core::result::Result<#partial, #private::sqlx::Error> {
                let mut __next = __offset;
                ::core::result::Result::Ok(#partial { #(#decode_partial)* })
            }

            fn bind_columns<__DB: ::habtm::Backend>(
                &self,
                __args: &mut <__DB as #private::Database>::Arguments,
            ) -> ::core::result::Result<(), #private::BoxDynError> {
                #bind_self
                ::core::result::Result::Ok(())
            }

            fn bind_new_columns<__DB: ::habtm::Backend>(
                __new: &#new,
                __args: &mut <__DB as #private::Database>::Arguments,
            ) -> ::core::result::Result<(), #private::BoxDynError> {
                #bind_new
                ::core::result::Result::Ok(())
            }

            fn bind_new_field<__DB: ::habtm::Backend>(
                __new: &#new,
                __column: usize,
                __args: &mut <__DB as #private::Database>::Arguments,
            ) -> ::core::result::Result<(), #private::BoxDynError> {
                match __column {
                    #(#bind_new_field)*
                    _ => ::core::result::Result::Ok(()),
                }
            }

            fn new_id(__new: &#new) -> ::core::option::Option<&#id_ty> {
                #new_id
            }

            fn id_from_generated(__value: i64) -> ::core::option::Option<#id_ty> {
                #id_from_generated
            }
        }
    }
}

/// `impl JsonModel`, where the `json` feature is on: bounded by every field type having a
/// JSON form, so that a model with other field types still compiles, and has none. (A bound
/// under `for<'a>` is checked where the impl is used, not where it is written.)
fn json_impl(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let new = new_ident(model);
    let partial = partial_ident(model);
    let id_ty = model.id_field().ty;
    let json = quote!(::habtm::__private::serde_json);
    let convert = quote!(::habtm::__private::json);
    let field_idents: Vec<&Ident> = model.fields.iter().map(|f| f.ident).collect();
    let json_names: Vec<String> = model
        .fields
        .iter()
        .map(|f| naming::json_name(&f.name()))
        .collect();
    let new_json_names: Vec<String> = new_fields(model)
        .map(|f| naming::json_name(&f.name()))
        .collect();
    let new_rust_names: Vec<String> = new_fields(model).map(|f| f.name()).collect();
    let new_field_idents: Vec<&Ident> = new_fields(model).map(|f| f.ident).collect();
    let mut bounded: Vec<String> = Vec::new();
    let bounds = model.fields.iter().filter_map(|f| {
        let ty = f.ty;
        let key = quote!(#ty).to_string();
        if bounded.contains(&key) {
            return None;
        }
        bounded.push(key);
        Some(quote!(for<'__a> #ty: ::habtm::__private::JsonColumn))
    });
    let bounds: Vec<TokenStream> = bounds.collect();
    let tys = model.fields.iter().map(|f| f.ty);
    quote! {
        ::habtm::__with_json! {
            #[automatically_derived]
            impl ::habtm::JsonModel for #ident where #(#bounds,)* {
                fn to_json(&self) -> ::core::result::Result<#json::Map<::std::string::String, #json::Value>, ::std::string::String> {
                    let mut __object = #json::Map::new();
                    #(__object.insert(::std::string::String::from(#json_names), #convert::to_value(&self.#field_idents, #json_names)?);)*
                    ::core::result::Result::Ok(__object)
                }

                fn new_from_json(
                    mut __object: #json::Map<::std::string::String, #json::Value>,
                ) -> ::core::result::Result<#new, ::std::string::String> {
                    let __new = #new {
                        #(#new_field_idents: #convert::take(&mut __object, #new_json_names, #new_rust_names)?,)*
                    };
                    #convert::no_more(&__object, &[#(#new_json_names),*])?;
                    ::core::result::Result::Ok(__new)
                }

                fn partial_to_json(__partial: &#partial) -> ::core::result::Result<#json::Map<::std::string::String, #json::Value>, ::std::string::String> {
                    let mut __object = #json::Map::new();
                    #(
                        if let ::core::option::Option::Some(__value) = &__partial.#field_idents {
                            __object.insert(::std::string::String::from(#json_names), #convert::to_value(__value, #json_names)?);
                        }
                    )*
                    ::core::result::Result::Ok(__object)
                }

                fn json_columns() -> &'static [::habtm::__private::JsonParser] {
                    const { &[#(::habtm::__private::JsonParser::of::<#tys>()),*] }
                }

                fn id_to_json(__id: &#id_ty) -> ::core::result::Result<#json::Value, ::std::string::String> {
                    #json::to_value(__id).map_err(|__e| ::std::string::ToString::to_string(&__e))
                }

                fn id_from_json(__value: #json::Value) -> ::core::result::Result<#id_ty, ::std::string::String> {
                    #convert::from_value(__value)
                }
            }
        }
    }
}

/// The relation's marker type: `__AssemblyParts`.
fn marker_ident(model: &Model<'_>, relation: &Relation) -> Ident {
    format_ident!("__{}", accessor_struct_ident(model, relation))
}

fn relation_fn(model: &Model<'_>, relation: &Relation) -> TokenStream {
    let marker = marker_ident(model, relation);
    quote!(<#marker as ::habtm::Relation>::def)
}

fn inherent_impl(model: &Model<'_>) -> TokenStream {
    let ident = model.ident;
    let new = new_ident(model);
    let id_ty = model.id_field().ty;
    let (generics, bounds) = db_generics();
    let table = q(&model.table.value);
    let id_column = q(&model.id_field().column.value);
    let name = &model.name;

    let columns = model.fields.iter().enumerate().map(|(i, f)| {
        let constant = format_ident!("{}", naming::column_const(&f.name()), span = f.ident.span());
        let ty = f.ty;
        let doc = format!(
            " The `{}` column, for filters: `Filter::new().filter({name}::{constant}.eq(...))`.",
            f.column.value
        );
        quote! {
            #[doc = #doc]
            pub const #constant: ::habtm::Column<Self, #ty> = ::habtm::Column::new(#i);
        }
    });

    let create_doc =
        format!(" Inserts a row into {table} and returns it as stored (one `INSERT`).");
    let find_by_id_doc =
        format!(" The row of {table} with this id: `SELECT ... WHERE {id_column} = ?`.");
    let find_doc = format!(
        " The rows of {table} matching `filter`, ordered by {id_column} unless it orders them."
    );
    let partial = partial_ident(model);
    let select_doc = format!(
        " Like `find`, reading only the filter's `fields` (and the id) into [`{partial}`]."
    );
    let save_doc = format!(
        " Writes every field to this row: `UPDATE {table} SET ... WHERE {id_column} = ?`. \
         Fails with `Error::NotFound` if the row does not exist."
    );
    let delete_doc = format!(
        " Deletes the row and its links in every relation this model declares, in one transaction \
         that locks the row, deletes the links (with or without foreign keys), then \
         `DELETE FROM {table} WHERE {id_column} = ?`. Returns whether a row was deleted."
    );

    let count_doc = format!(" How many rows of {table} match `filter`: `SELECT COUNT(*) ...`.");
    let find_one_doc = format!(
        " The first row of {table} matching `filter` (its order and skip honoured), if any."
    );
    let exists_doc = format!(" Whether {table} has a row with this id.");
    let create_many_doc = format!(
        " Inserts every row into {table} in one transaction, all or none; returns them as \
         stored, in input order."
    );
    let delete_where_doc = format!(
        " Deletes every row of {table} matching `filter` and their links in every relation \
         this model declares (with or without foreign keys), in one transaction. Returns how \
         many rows were deleted."
    );

    let stream_doc = format!(
        " The rows of {table} matching `filter` as a stream, decoded as they arrive on one \
         connection (`&pool` lends one for as long as the stream lives), none buffered."
    );

    let accessors = model.relations.iter().map(|r| accessor_methods(model, r));

    quote! {
        #[automatically_derived]
        impl #ident {
            #(#columns)*

            #[doc = #create_doc]
            pub async fn create #generics (db: __A, new: #new) -> ::habtm::Result<Self> #bounds {
                ::habtm::__private::create::<Self, __A>(db, new).await
            }

            #[doc = #find_by_id_doc]
            pub async fn find_by_id #generics (db: __A, id: #id_ty) -> ::habtm::Result<::core::option::Option<Self>> #bounds {
                ::habtm::__private::find_by_id::<Self, __A>(db, &id).await
            }

            #[doc = #find_doc]
            pub async fn find #generics (db: __A, filter: ::habtm::Filter<Self>) -> ::habtm::Result<::std::vec::Vec<Self>> #bounds {
                ::habtm::__private::find::<Self, __A>(db, &filter).await
            }

            #[doc = #select_doc]
            pub async fn select<__A, __S>(db: __A, filter: ::habtm::Filter<Self, __S>) -> ::habtm::Result<::std::vec::Vec<#partial>> #bounds {
                ::habtm::__private::select::<Self, __A, __S>(db, &filter).await
            }

            #[doc = #save_doc]
            pub async fn save #generics (&self, db: __A) -> ::habtm::Result<()> #bounds {
                ::habtm::__private::save::<Self, __A>(db, self).await
            }

            #[doc = #delete_doc]
            pub async fn delete_by_id #generics (db: __A, id: #id_ty) -> ::habtm::Result<bool> #bounds {
                ::habtm::__private::delete_by_id::<Self, __A>(db, &id).await
            }

            #[doc = #count_doc]
            pub async fn count #generics (db: __A, filter: ::habtm::Filter<Self>) -> ::habtm::Result<u64> #bounds {
                ::habtm::__private::count::<Self, __A>(db, &filter).await
            }

            #[doc = #find_one_doc]
            pub async fn find_one #generics (db: __A, filter: ::habtm::Filter<Self>) -> ::habtm::Result<::core::option::Option<Self>> #bounds {
                ::habtm::__private::find_one::<Self, __A>(db, filter).await
            }

            #[doc = #exists_doc]
            pub async fn exists #generics (db: __A, id: #id_ty) -> ::habtm::Result<bool> #bounds {
                ::habtm::__private::exists::<Self, __A>(db, &id).await
            }

            #[doc = #create_many_doc]
            pub async fn create_many #generics (db: __A, news: ::std::vec::Vec<#new>) -> ::habtm::Result<::std::vec::Vec<Self>> #bounds {
                ::habtm::__private::create_many::<Self, __A>(db, &news).await
            }

            #[doc = #stream_doc]
            pub fn stream<'e, __E>(db: __E, filter: ::habtm::Filter<Self>) -> ::habtm::__private::BoxStream<'e, ::habtm::Result<Self>>
            where
                __E: ::habtm::sqlx::Executor<'e> + 'e,
                <__E as ::habtm::sqlx::Executor<'e>>::Database: ::habtm::Backend,
            {
                ::habtm::__private::stream::<Self, __E>(db, &filter)
            }

            #[doc = #delete_where_doc]
            pub async fn delete_where #generics (db: __A, filter: ::habtm::Filter<Self>) -> ::habtm::Result<u64> #bounds {
                ::habtm::__private::delete_where::<Self, __A>(db, &filter).await
            }

            #(#accessors)*
        }
    }
}

fn accessor_struct_ident(model: &Model<'_>, relation: &Relation) -> Ident {
    let name = naming::accessor_struct(&model.name, &relation.accessor.to_string());
    Ident::new(&name, relation.accessor.span())
}

/// `PARTS`, `load_parts`, `parts()` and `parts_of(id)` on the model.
fn accessor_methods(model: &Model<'_>, relation: &Relation) -> TokenStream {
    let accessor = &relation.accessor;
    let accessor_of = format_ident!("{}_of", accessor);
    let strukt = accessor_struct_ident(model, relation);
    let marker = marker_ident(model, relation);
    let id_field = model.id_field().ident;
    let id_ty = model.id_field().ty;
    let owner = model.ident;
    let target = &relation.target;
    let (name, join_table) = (accessor.to_string(), &relation.join_table.value);
    let owner_key = &relation.owner_key.value;
    let doc = format!(
        " The `{}` rows linked to this `{}` through {}.",
        relation.target_name,
        model.name,
        q(join_table)
    );
    let doc_of = format!(
        " The `{}` rows linked to the `{}` with this id, without loading it.",
        relation.target_name, model.name
    );
    let load = format_ident!("load_{}", accessor);
    let constant = format_ident!("{}", naming::column_const(&name), span = accessor.span());
    let target_name = &relation.target_name;
    let load_doc = format!(
        " LoopBack's `include`: the `{target_name}` rows linked to each of `owners`, aligned with it, in one \
         `SELECT ... WHERE {} IN (...)` per 10,000 owners. `filter` applies to each owner on its own: a \
         limit of 3 is up to 3 rows per owner.",
        q(owner_key)
    );
    let constant_doc = format!(
        " The `{name}` relation, for conditions on `{}` about its `{target_name}` rows: \
         `{}::{constant}.some(...)`, `.none(...)`, `.every(...)`, `.any()`, `.is_empty()`.",
        model.name, model.name
    );
    quote! {
        #[doc = #constant_doc]
        pub const #constant: ::habtm::RelationRef<#marker> = ::habtm::RelationRef::new();

        #[doc = #load_doc]
        pub async fn #load<__A: ::habtm::Db>(
            db: __A,
            owners: &[#owner],
            filter: ::habtm::Filter<#target>,
        ) -> ::habtm::Result<::std::vec::Vec<::std::vec::Vec<#target>>> {
            ::habtm::__private::load::<#marker, _, _, __A>(db, owners, filter).await
        }

        #[doc = #doc]
        pub fn #accessor(&self) -> #strukt {
            ::habtm::Related::new(::core::clone::Clone::clone(&self.#id_field))
        }

        #[doc = #doc_of]
        pub fn #accessor_of(id: #id_ty) -> #strukt {
            ::habtm::Related::new(id)
        }
    }
}

/// The relation as a type: the marker `__AssemblyParts`, its `habtm::Relation` impl holding
/// the join table's description, and `AssemblyParts`, the related rows of one owner.
fn accessor_struct(model: &Model<'_>, relation: &Relation) -> TokenStream {
    let vis = model.vis;
    let owner = model.ident;
    let strukt = accessor_struct_ident(model, relation);
    let marker = marker_ident(model, relation);
    let target = &relation.target;
    let target = quote_spanned!(relation.target_span=> #target);
    let link = match &relation.through {
        Some(through) => quote!(#through),
        None => quote!(()),
    };
    let name = relation.accessor.to_string();
    let join_table = &relation.join_table.value;
    let (owner_key, target_key) = (&relation.owner_key.value, &relation.target_key.value);
    let (join, ok, tk) = (q(join_table), q(owner_key), q(target_key));
    let (owner_name, target_name) = (&model.name, &relation.target_name);
    let doc = format!(
        " The `{target_name}` rows linked to one `{owner_name}`, through the join table {join} \
         ({ok}, {tk}): LoopBack's methods of a hasAndBelongsToMany relation, on [`habtm::Related`]. \
         Returned by [`{owner_name}::{name}`]."
    );
    let of = |owner_key: &str, target_key: &str| quote!(::habtm::__private::RelationDef::of::<#marker>(#name, #join_table, #owner_key, #target_key));
    let forward = of(owner_key, target_key);
    let def = if relation.symmetric.is_some() {
        // The same links read from the other end: each write goes through both.
        let mirror = of(target_key, owner_key);
        quote! {
            fn mirror() -> &'static ::habtm::__private::RelationDef {
                static MIRROR: ::habtm::__private::RelationDef = #mirror;
                &MIRROR
            }
            static DEF: ::habtm::__private::RelationDef = #forward.symmetric(mirror);
            &DEF
        }
    } else {
        quote! {
            static DEF: ::habtm::__private::RelationDef = #forward;
            &DEF
        }
    };
    quote! {
        #[doc(hidden)]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
        #vis struct #marker;

        #[automatically_derived]
        impl ::habtm::Relation for #marker {
            type Owner = #owner;
            type Target = #target;
            type Link = #link;

            fn def() -> &'static ::habtm::__private::RelationDef {
                #def
            }
        }

        #[doc = #doc]
        #vis type #strukt = ::habtm::Related<#marker>;
    }
}

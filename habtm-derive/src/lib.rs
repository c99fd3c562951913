//! `#[derive(Model)]` for habtm. Use it through the `habtm` crate.
//!
//! The pipeline: [`attr`] reads the attributes, [`ast`] resolves names and defaults into the
//! model, [`check`] applies the rules that span several attributes, [`expand`] writes the
//! items. Every error is collected and reported at once, on the user's token.

mod ast;
mod attr;
mod check;
mod expand;
mod naming;

use darling::FromDeriveInput;
use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `habtm::Model` and, for each `#[relation(has_and_belongs_to_many, ...)]`, a typed
/// accessor. See the `habtm` crate for the attributes and the generated items.
#[proc_macro_derive(Model, attributes(model, relation, sqlx))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let (errors, tokens) = derive_with_errors(&input);
    let errors = errors.map(darling::Error::write_errors);
    quote::quote!(#errors #tokens).into()
}

#[cfg(test)]
fn derive(input: &DeriveInput) -> darling::Result<proc_macro2::TokenStream> {
    let (errors, model_tokens) = derive_with_errors(input);
    match errors {
        None => Ok(model_tokens),
        Some(errors) => Err(errors),
    }
}

/// The expansion, and the errors found on the way. With errors, the expansion is still
/// made where the model could be read (minus the relations that cannot be expanded), so
/// that one mistake gives one error rather than one more for every use of the items the
/// derive would have written.
fn derive_with_errors(input: &DeriveInput) -> (Option<darling::Error>, proc_macro2::TokenStream) {
    let mut errors = darling::Error::accumulator();
    let input = &attr::correct_unknown_keys(input, &mut errors);
    let attrs = errors.handle(attr::ModelAttrs::from_derive_input(input));
    let model = attrs
        .as_ref()
        .and_then(|attrs| ast::Model::from_input(attrs, &mut errors));
    if let Some(model) = &model {
        check::check(model, &mut errors);
    }
    let errors = errors.finish().err();
    let tokens = match (model, &errors) {
        (Some(model), None) => expand::expand(&model),
        (Some(model), Some(_)) if model_is_expandable(input) => {
            expand::expand(&check::expandable(model))
        }
        _ => proc_macro2::TokenStream::new(),
    };
    (errors, tokens)
}

/// Generic structs are refused, and their expansion would not compile.
fn model_is_expandable(input: &DeriveInput) -> bool {
    input.generics.params.is_empty()
}

/// What `cargo expand` shows for representative models, kept as reviewed snapshots.
#[cfg(test)]
mod snapshots {
    fn expand(source: &str) -> String {
        let input: syn::DeriveInput = syn::parse_str(source).expect("a struct");
        let tokens = super::derive(&input).expect("no errors");
        let file: syn::File = syn::parse2(tokens).expect("items");
        prettyplease::unparse(&file)
    }

    #[test]
    fn seed_pair() {
        insta::assert_snapshot!(expand(
            r#"
            #[model(plural = "Assemblies")]
            #[relation(has_and_belongs_to_many, model = "Part")]
            pub struct Assembly {
                pub id: i64,
                pub name: String,
            }
            "#
        ));
    }

    #[test]
    fn renamed_join_table_with_custom_keys() {
        insta::assert_snapshot!(expand(
            r#"
            #[model(table = "widgets")]
            #[relation(
                has_and_belongs_to_many,
                model = "Gadget",
                name = "gadgets",
                through_table = "widget_gadget_links",
                foreign_key = "widgetId",
                key_through = "gadgetId"
            )]
            pub struct Widget {
                pub id: i64,
                #[model(column = "label_text")]
                pub label: String,
            }
            "#
        ));
    }

    #[test]
    fn self_relation() {
        insta::assert_snapshot!(expand(
            r#"
            #[relation(has_and_belongs_to_many, model = "Part", name = "subparts")]
            pub struct Part {
                pub id: i64,
                pub part_number: String,
            }
            "#
        ));
    }

    #[test]
    fn symmetric_and_inverse_pair() {
        insta::assert_snapshot!(expand(
            r#"
            #[relation(has_and_belongs_to_many, model = "Person", name = "friends", symmetric)]
            #[relation(has_and_belongs_to_many, model = "Person", name = "following",
                       through_table = "Follow", foreign_key = "follower_id", key_through = "followed_id")]
            #[relation(has_and_belongs_to_many, model = "Person", name = "followers",
                       through_table = "Follow", foreign_key = "followed_id", key_through = "follower_id")]
            pub struct Person {
                pub id: i64,
            }
            "#
        ));
    }

    #[test]
    fn through_model() {
        insta::assert_snapshot!(expand(
            r#"
            #[relation(has_and_belongs_to_many, model = "Component", through = "KitComponent")]
            pub struct Kit {
                #[model(id)]
                pub code: String,
            }
            "#
        ));
    }
}

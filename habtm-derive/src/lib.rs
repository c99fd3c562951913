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
#[proc_macro_derive(Model, attributes(model, relation))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input)
        .unwrap_or_else(darling::Error::write_errors)
        .into()
}

fn derive(input: &DeriveInput) -> darling::Result<proc_macro2::TokenStream> {
    let mut errors = darling::Error::accumulator();
    if attr::unknown_keys(input, &mut errors) {
        return errors.finish_with(proc_macro2::TokenStream::new());
    }
    let attrs = errors.handle(attr::ModelAttrs::from_derive_input(input));
    let model = attrs
        .as_ref()
        .and_then(|attrs| ast::Model::from_input(attrs, &mut errors));
    if let Some(model) = &model {
        check::check(model, &mut errors);
    }
    errors.finish()?;
    let model = model.ok_or_else(|| {
        darling::Error::custom("the model could not be read").with_span(&input.ident)
    })?;
    Ok(expand::expand(&model))
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

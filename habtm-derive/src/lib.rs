#[proc_macro_derive(Model, attributes(model, relation))]
pub fn derive_model(_i: proc_macro::TokenStream) -> proc_macro::TokenStream { proc_macro::TokenStream::new() }

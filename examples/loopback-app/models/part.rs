//! `Part`, imported from the LoopBack model definition `part.json` by `cargo habtm import`.

use habtm::Model;
use super::Assembly;
use super::Supplier;
/// The LoopBack model `Part` exposed over REST (`"public": true`), from `part.json`. `suppliers` is `Supplier.parts` read from this side, declared so that a deleted row takes its links with it.
#[derive(Debug, Clone, PartialEq, Model)]
#[allow(clippy::duplicated_attributes)]
#[relation(
    has_and_belongs_to_many,
    model = "Assembly",
    through_table = "AssemblyPart",
    foreign_key = "partId",
    key_through = "assemblyId"
)]
#[relation(
    has_and_belongs_to_many,
    model = "Supplier",
    through_table = "SupplierPart",
    foreign_key = "partId",
    key_through = "supplierId"
)]
pub struct Part {
    pub id: i32,
    #[model(column = "partNumber")]
    pub part_number: String,
    pub weight: Option<f64>,
    #[model(column = "inStock")]
    pub in_stock: Option<bool>,
    /// LoopBack `object`, stored as its JSON text.
    pub specs: Option<String>,
}

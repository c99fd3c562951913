//! `Part`, imported from the LoopBack model definition `part.json` by `cargo habtm import`.

use habtm::Model;
use super::Assembly;
use super::Supplier;
/// The LoopBack model `Part` exposed over REST (`"public": true`), from `part.json`. `suppliers` is `Supplier.parts` read from this side, declared so that a deleted row takes its links with it.
#[derive(Debug, Clone, PartialEq, Model)]
#[allow(clippy::duplicated_attributes)]
#[model(table = "part")]
#[relation(
    has_and_belongs_to_many,
    model = "Assembly",
    through_table = "assemblypart",
    foreign_key = "partid",
    key_through = "assemblyid"
)]
#[relation(
    has_and_belongs_to_many,
    model = "Supplier",
    through_table = "supplierpart",
    foreign_key = "partid",
    key_through = "supplierid"
)]
pub struct Part {
    pub id: i32,
    #[model(column = "partnumber")]
    pub part_number: String,
    pub weight: Option<f64>,
    #[model(column = "instock")]
    pub in_stock: Option<bool>,
    /// LoopBack `object`, stored as its JSON text.
    pub specs: Option<String>,
}

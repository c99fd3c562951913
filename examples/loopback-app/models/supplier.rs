//! `Supplier`, imported from the LoopBack model definition `supplier.json` by `cargo habtm import`.

use habtm::Model;
use super::Part;
/// The LoopBack model `Supplier` exposed over REST (`"public": true`), from `supplier.json`.
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Part",
    through_table = "SupplierPart",
    foreign_key = "supplierId",
    key_through = "partId"
)]
pub struct Supplier {
    #[model(id)]
    pub code: String,
    pub name: String,
    pub rating: Option<f64>,
}

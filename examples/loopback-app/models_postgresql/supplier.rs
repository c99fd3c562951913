//! `Supplier`, imported from the LoopBack model definition `supplier.json` by `cargo habtm import`.

use habtm::Model;
use super::Part;
/// The LoopBack model `Supplier` exposed over REST (`"public": true`), from `supplier.json`.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "supplier")]
#[relation(
    has_and_belongs_to_many,
    model = "Part",
    through_table = "supplierpart",
    foreign_key = "supplierid",
    key_through = "partid"
)]
pub struct Supplier {
    #[model(id)]
    pub code: String,
    pub name: String,
    pub rating: Option<f64>,
}

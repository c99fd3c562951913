//! `Part`, imported from the LoopBack model definition `part.json` by `cargo habtm import`.

use habtm::Model;
use super::Assembly;
/// The LoopBack model `Part` exposed over REST (`"public": true`), from `part.json`.
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Assembly",
    through_table = "AssemblyPart",
    foreign_key = "partId",
    key_through = "assemblyId"
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

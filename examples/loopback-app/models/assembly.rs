//! `Assembly`, imported from the LoopBack model definition `assembly.json` by `cargo habtm import`.

use habtm::Model;
use super::Part;
/// The LoopBack model `Assembly` exposed over REST (`"public": true`), from `assembly.json`.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(plural = "Assemblies")]
#[relation(
    has_and_belongs_to_many,
    model = "Part",
    through_table = "AssemblyPart",
    foreign_key = "assemblyId",
    key_through = "partId"
)]
pub struct Assembly {
    pub id: i32,
    pub name: String,
    #[model(column = "createdAt")]
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

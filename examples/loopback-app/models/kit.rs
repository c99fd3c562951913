//! `Kit`, imported from the LoopBack model definition `kit.json` by `cargo habtm import`.

use habtm::Model;
use super::Component;
use super::KitComponent;
/// The LoopBack model `Kit` exposed over REST (`"public": true`), from `kit.json`.
#[derive(Debug, Clone, PartialEq, Model)]
#[relation(
    has_and_belongs_to_many,
    model = "Component",
    through = "KitComponent",
    foreign_key = "kitId",
    key_through = "componentId"
)]
pub struct Kit {
    pub id: i32,
    pub name: String,
}

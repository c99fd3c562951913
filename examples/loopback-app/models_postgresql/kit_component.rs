//! `KitComponent`, imported from the LoopBack model definition `kit-component.json` by `cargo habtm import`.

use habtm::Model;
/// The LoopBack model `KitComponent` not exposed over REST (`"public": false`), from `kit-component.json`. The join model of a hasAndBelongsToMany relation.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "kitcomponent")]
pub struct KitComponent {
    pub id: i32,
    pub quantity: i32,
}

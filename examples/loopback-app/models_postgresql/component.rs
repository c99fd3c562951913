//! `Component`, imported from the LoopBack model definition `component.json` by `cargo habtm import`.

use habtm::Model;
use super::Kit;
use super::KitComponent;
/// The LoopBack model `Component` exposed over REST (`"public": true`), from `component.json`. `kits` is `Kit.components` read from this side, declared so that a deleted row takes its links with it.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "component")]
#[relation(
    has_and_belongs_to_many,
    model = "Kit",
    through = "KitComponent",
    foreign_key = "componentid",
    key_through = "kitid"
)]
pub struct Component {
    pub id: i32,
    pub label: String,
}

//! `Component`, imported from the LoopBack model definition `component.json` by `cargo habtm import`.

use habtm::Model;
/// The LoopBack model `Component` exposed over REST (`"public": true`), from `component.json`.
#[derive(Debug, Clone, PartialEq, Model)]
#[model(table = "component")]
pub struct Component {
    pub id: i32,
    pub label: String,
}

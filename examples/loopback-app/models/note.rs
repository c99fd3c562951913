//! `Note`, imported from the LoopBack model definition `note.json` by `cargo habtm import`.

use habtm::Model;
/// The LoopBack model `Note` exposed over REST (`"public": true`), from `note.json`.
#[derive(Debug, Clone, PartialEq, Model)]
pub struct Note {
    pub id: i32,
    pub text: String,
}

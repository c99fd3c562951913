//! The models of the LoopBack app `loopback-app`, imported by `cargo habtm import`.
//!
//! Not translated:
//! - User: in server/model-config.json but with no definition in the app (a LoopBack built-in model?): not imported
//! - AccessToken: in server/model-config.json but with no definition in the app (a LoopBack built-in model?): not imported
//! - Assembly.notes: a hasMany relation, not translated (habtm declares hasAndBelongsToMany only)
//! - KitComponent.kit: a belongsTo relation, not translated (habtm declares hasAndBelongsToMany only)
//! - KitComponent.component: a belongsTo relation, not translated (habtm declares hasAndBelongsToMany only)
//! - Note.assembly: a belongsTo relation, not translated (habtm declares hasAndBelongsToMany only)

mod assembly;
pub use assembly::*;
mod component;
pub use component::*;
mod kit_component;
pub use kit_component::*;
mod kit;
pub use kit::*;
mod note;
pub use note::*;
mod part;
pub use part::*;
mod supplier;
pub use supplier::*;

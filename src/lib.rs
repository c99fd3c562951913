pub use habtm_derive::Model;

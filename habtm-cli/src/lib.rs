//! `cargo habtm`: the relation generator (`cargo habtm relation`), which adds a
//! `#[relation(...)]` to a model in a crate's sources as LoopBack's generator added one to a
//! model definition file, and the LoopBack 3 import (`cargo habtm import`), which turns an
//! app's model definition files into `#[derive(Model)]` structs that work on its database.

pub mod import;
mod json;
mod naming;
pub mod relation;
mod sources;

use std::path::PathBuf;

/// What can go wrong in `cargo habtm`; each message names the file, flag or model to fix.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A LoopBack JSON file that does not parse.
    #[error("{file}:{line}:{column}: malformed JSON: {message}")]
    Json {
        /// The file.
        file: PathBuf,
        /// The line of the error, from 1.
        line: usize,
        /// The column of the error, from 1.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// A LoopBack model definition that parses but cannot be read as one.
    #[error("{file}: {message}")]
    Definition {
        /// The file.
        file: PathBuf,
        /// What is wrong, and what a definition holds there.
        message: String,
    },
    /// A Rust source file of the crate that does not parse.
    #[error("{file}:{line}:{column}: {message}")]
    Rust {
        /// The file.
        file: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// No `#[derive(Model)]` struct of that name in the crate's sources.
    #[error("no `#[derive(Model)]` struct named `{model}` under {dir}; the models found are: {}", list(.found))]
    ModelNotFound {
        /// The name asked for.
        model: String,
        /// The folder searched.
        dir: PathBuf,
        /// The models that were found.
        found: Vec<String>,
    },
    /// The model already has a relation with that accessor.
    #[error(
        "`{model}` already has a relation named `{name}` ({file}:{line}): choose another --name"
    )]
    RelationExists {
        /// The model.
        model: String,
        /// The accessor.
        name: String,
        /// Where the relation is declared.
        file: PathBuf,
        /// Its line, from 1.
        line: usize,
    },
    /// A value needed without a terminal to ask for it.
    #[error("{flag} is required when not run in a terminal (nothing can be asked)")]
    MissingFlag {
        /// The flag to give.
        flag: &'static str,
    },
    /// A value given that cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The prompt failed or was cancelled.
    #[error("prompt: {0}")]
    Prompt(String),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// The result of the commands.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CliError {
    let path = path.into();
    move |source| CliError::Io { path, source }
}

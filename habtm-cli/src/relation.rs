//! `cargo habtm relation`: adds a `#[relation(has_and_belongs_to_many, ...)]` to a model
//! of the crate (and with `--inverse` the relation back on the other model), inserting whole
//! lines and changing no other byte.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::sources::{ModelSource, scan};
use crate::{CliError, Result, io, naming};

/// What to add; the missing values are asked for in a terminal.
#[derive(Debug, Clone, Default)]
pub struct RelationArgs {
    /// The model that gets the relation.
    pub model: Option<String>,
    /// The related model.
    pub related: Option<String>,
    /// The accessor; defaults to the snake_case plural of the related model.
    pub name: Option<String>,
    /// The join table; habtm's default when absent.
    pub through_table: Option<String>,
    /// This side's join column.
    pub foreign_key: Option<String>,
    /// The other side's join column.
    pub key_through: Option<String>,
    /// Also add the relation back on the related model.
    pub inverse: bool,
    /// The crate's source folder.
    pub dir: PathBuf,
}

/// One line added to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The file.
    pub file: PathBuf,
    /// The line after which the new line goes, from 1.
    pub after: usize,
    /// The line, without its line ending.
    pub line: String,
}

/// How the missing values are obtained: asked in a terminal, or refused without one.
pub trait Ask {
    /// One of `choices`.
    fn choose(&mut self, question: &str, choices: Vec<String>) -> Result<String>;
    /// Free text, `default` when left empty.
    fn text(&mut self, question: &str, default: Option<&str>) -> Result<String>;
    /// Yes or no.
    fn confirm(&mut self, question: &str, default: bool) -> Result<bool>;
}

/// Asks at the terminal with `inquire`.
pub struct Terminal;

impl Ask for Terminal {
    fn choose(&mut self, question: &str, choices: Vec<String>) -> Result<String> {
        inquire::Select::new(question, choices)
            .prompt()
            .map_err(prompt)
    }

    fn text(&mut self, question: &str, default: Option<&str>) -> Result<String> {
        let mut text = inquire::Text::new(question);
        if let Some(default) = default {
            text = text.with_default(default);
        }
        text.prompt().map_err(prompt)
    }

    fn confirm(&mut self, question: &str, default: bool) -> Result<bool> {
        inquire::Confirm::new(question)
            .with_default(default)
            .prompt()
            .map_err(prompt)
    }
}

fn prompt(error: inquire::InquireError) -> CliError {
    CliError::Prompt(error.to_string())
}

/// Whether the values can be asked for: both standard input and error are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Fills in what `args` leaves out: asked through `ask` if given, else the required flags are
/// an error naming them and the optional ones take their defaults.
pub fn complete(
    mut args: RelationArgs,
    models: &[ModelSource],
    ask: Option<&mut dyn Ask>,
) -> Result<RelationArgs> {
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    let Some(ask) = ask else {
        if args.model.is_none() {
            return Err(CliError::MissingFlag { flag: "--model" });
        }
        if args.related.is_none() {
            return Err(CliError::MissingFlag { flag: "--related" });
        }
        return Ok(args);
    };
    if names.is_empty() {
        return Err(CliError::ModelNotFound {
            model: args.model.unwrap_or_default(),
            dir: args.dir,
            found: names,
        });
    }
    let all_given = args.model.is_some() && args.related.is_some();
    if args.model.is_none() {
        args.model = Some(ask.choose("The model to add the relation to:", names.clone())?);
    }
    if args.related.is_none() {
        args.related = Some(ask.choose("The related model:", names)?);
    }
    if all_given {
        // Everything required was given: the rest takes its defaults, as without a terminal.
        return Ok(args);
    }
    let related = args.related.clone().unwrap_or_default();
    if args.name.is_none() {
        let default = naming::accessor(&related);
        args.name = Some(ask.text("The relation's name (its accessor):", Some(&default))?);
    }
    let optional = |ask: &mut dyn Ask, question: &str| -> Result<Option<String>> {
        let answer = ask.text(question, Some(""))?;
        Ok((!answer.trim().is_empty()).then(|| answer.trim().to_owned()))
    };
    if args.through_table.is_none() {
        args.through_table = optional(ask, "The join table (empty: habtm's default):")?;
    }
    if args.foreign_key.is_none() {
        args.foreign_key = optional(ask, "This model's join column (empty: the default):")?;
    }
    if args.key_through.is_none() {
        args.key_through = optional(ask, "The related model's join column (empty: the default):")?;
    }
    if !args.inverse {
        args.inverse = ask.confirm("Add the relation back on the related model?", false)?;
    }
    Ok(args)
}

/// The lines to add for `args` (complete), after checking that both models exist and that
/// the accessors are free.
pub fn plan(args: &RelationArgs, models: &[ModelSource]) -> Result<Vec<Edit>> {
    let model_name = args
        .model
        .as_deref()
        .ok_or(CliError::MissingFlag { flag: "--model" })?;
    let related_name = args
        .related
        .as_deref()
        .ok_or(CliError::MissingFlag { flag: "--related" })?;
    let find = |name: &str| {
        models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| CliError::ModelNotFound {
                model: name.to_owned(),
                dir: args.dir.clone(),
                found: models.iter().map(|m| m.name.clone()).collect(),
            })
    };
    let model = find(model_name)?;
    let related = find(related_name)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| naming::accessor(related_name));
    check_name(&name)?;
    free(model, &name)?;
    let mut edits = vec![Edit {
        file: model.file.clone(),
        after: model.insert_after,
        line: attribute(
            &model.indent,
            &model.path_to(related),
            args.name
                .as_deref()
                .filter(|given| *given != naming::accessor(related_name)),
            args.through_table.as_deref(),
            args.foreign_key.as_deref(),
            args.key_through.as_deref(),
        ),
    }];
    if args.inverse {
        if model_name == related_name {
            return Err(CliError::Invalid(format!(
                "--inverse adds the relation back on `{related_name}`, which is `{model_name}` itself: declare the second relation with its own --name, --through-table and the keys swapped"
            )));
        }
        let back = naming::accessor(model_name);
        free(related, &back)?;
        edits.push(Edit {
            file: related.file.clone(),
            after: related.insert_after,
            line: attribute(
                &related.indent,
                &related.path_to(model),
                None,
                args.through_table.as_deref(),
                args.key_through.as_deref(),
                args.foreign_key.as_deref(),
            ),
        });
    }
    Ok(edits)
}

/// A relation name is a Rust identifier.
fn check_name(name: &str) -> Result<()> {
    if syn::parse_str::<syn::Ident>(name).is_err() {
        return Err(CliError::Invalid(format!(
            "--name {name:?} is not a Rust identifier: use snake_case, such as \"parts\""
        )));
    }
    Ok(())
}

/// `model` has no relation named `name` yet.
fn free(model: &ModelSource, name: &str) -> Result<()> {
    match model.relations.iter().find(|r| r.name == name) {
        Some(existing) => Err(CliError::RelationExists {
            model: model.name.clone(),
            name: name.to_owned(),
            file: model.file.clone(),
            line: existing.line,
        }),
        None => Ok(()),
    }
}

/// `#[relation(has_and_belongs_to_many, model = "Part", ...)]`, with the keys given.
fn attribute(
    indent: &str,
    related: &str,
    name: Option<&str>,
    through_table: Option<&str>,
    foreign_key: Option<&str>,
    key_through: Option<&str>,
) -> String {
    let mut line = format!("{indent}#[relation(has_and_belongs_to_many, model = {related:?}");
    for (key, value) in [
        ("name", name),
        ("through_table", through_table),
        ("foreign_key", foreign_key),
        ("key_through", key_through),
    ] {
        if let Some(value) = value {
            line.push_str(&format!(", {key} = {value:?}"));
        }
    }
    line.push_str(")]");
    line
}

/// Writes the edits: each line inserted after its line, in the file's own line endings,
/// every other byte as it was.
pub fn apply(edits: &[Edit]) -> Result<()> {
    let mut files: Vec<&Path> = edits.iter().map(|e| e.file.as_path()).collect();
    files.dedup();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(io(file))?;
        let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
        let mut mine: Vec<&Edit> = edits.iter().filter(|e| e.file == file).collect();
        // From the bottom up, so that earlier line numbers stay right.
        mine.sort_by_key(|e| std::cmp::Reverse(e.after));
        for edit in mine {
            let ending = match lines.get(edit.after.saturating_sub(1)) {
                Some(line) if line.ends_with("\r\n") => "\r\n",
                _ => "\n",
            };
            if let Some(line) = lines.get_mut(edit.after.saturating_sub(1))
                && !line.ends_with('\n')
            {
                line.push_str(ending);
            }
            lines.insert(edit.after, format!("{}{ending}", edit.line));
        }
        std::fs::write(file, lines.concat()).map_err(io(file))?;
    }
    Ok(())
}

/// `cargo habtm relation`: scans `args.dir`, asks for what is missing (in a terminal),
/// checks, and writes. Returns the edits made.
pub fn run(args: RelationArgs, ask: Option<&mut dyn Ask>) -> Result<Vec<Edit>> {
    let models = scan(&args.dir)?;
    let args = complete(args, &models, ask)?;
    let edits = plan(&args, &models)?;
    apply(&edits)?;
    Ok(edits)
}

//! The `#[derive(Model)]` structs of a crate's sources, with their relations and the line
//! after which a new `#[relation(...)]` goes.

use std::path::{Path, PathBuf};

use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Item, Lit, Meta, Token};

use crate::{CliError, Result, io, naming};

/// A model struct found in a file.
#[derive(Debug)]
pub struct ModelSource {
    /// The struct's name.
    pub name: String,
    /// The file that declares it.
    pub file: PathBuf,
    /// Its module in the crate (`["shop", "kits"]` for `crate::shop::kits`).
    pub module: Vec<String>,
    /// Its relations, as declared.
    pub relations: Vec<Declared>,
    /// The 1-based line after which a new relation attribute is inserted: that of the last
    /// `#[derive(Model)]`, `#[model(...)]` or `#[relation(...)]`.
    pub insert_after: usize,
    /// The indentation of the struct's attributes.
    pub indent: String,
}

/// A `#[relation(...)]` already on a model.
#[derive(Debug)]
pub struct Declared {
    /// Its accessor.
    pub name: String,
    /// Its line, from 1.
    pub line: usize,
}

/// Every model under `dir`, in file then source order.
pub fn scan(dir: &Path) -> Result<Vec<ModelSource>> {
    let mut files = Vec::new();
    rust_files(dir, &mut files)?;
    files.sort();
    let mut models = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(io(&file))?;
        let parsed = syn::parse_file(&text).map_err(|e| {
            let start = e.span().start();
            CliError::Rust {
                file: file.clone(),
                line: start.line,
                column: start.column + 1,
                message: e.to_string(),
            }
        })?;
        let module = module_of(dir, &file);
        collect(&parsed.items, &file, &text, &module, &mut models);
    }
    Ok(models)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The module a file is, from its path under the crate's source folder.
fn module_of(dir: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(dir).unwrap_or(file).with_extension("");
    let mut module: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if module.last().is_some_and(|last| last == "mod")
        || (module.len() == 1 && (module[0] == "lib" || module[0] == "main"))
    {
        module.pop();
    }
    module
}

fn collect(items: &[Item], file: &Path, text: &str, module: &[String], out: &mut Vec<ModelSource>) {
    for item in items {
        match item {
            Item::Struct(s) => {
                let Some(derive) = s.attrs.iter().find(|a| derives_model(a)) else {
                    continue;
                };
                let relations: Vec<(&Attribute, Declared)> = s
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("relation"))
                    .filter_map(|a| declared(a, &s.ident.to_string()).map(|d| (a, d)))
                    .collect();
                // Under the last of the attributes habtm reads, which are in place.
                let last = s
                    .attrs
                    .iter()
                    .rfind(|a| {
                        derives_model(a)
                            || a.path().is_ident("model")
                            || a.path().is_ident("relation")
                    })
                    .unwrap_or(derive);
                let line = derive.pound_token.span.start().line;
                let indent = text
                    .lines()
                    .nth(line - 1)
                    .map(|l| l[..l.len() - l.trim_start().len()].to_owned())
                    .unwrap_or_default();
                out.push(ModelSource {
                    name: s.ident.to_string(),
                    file: file.to_owned(),
                    module: module.to_vec(),
                    relations: relations.into_iter().map(|(_, d)| d).collect(),
                    insert_after: last.bracket_token.span.close().end().line,
                    indent,
                });
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    let mut inner = module.to_vec();
                    inner.push(m.ident.to_string());
                    collect(items, file, text, &inner, out);
                }
            }
            _ => {}
        }
    }
}

/// `#[derive(..., Model, ...)]` (or `habtm::Model`).
fn derives_model(attr: &Attribute) -> bool {
    attr.path().is_ident("derive")
        && attr
            .parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
            .is_ok_and(|paths| {
                paths
                    .iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == "Model"))
            })
}

/// The accessor a `#[relation(...)]` of `owner` declares: its `name`, or the default for its
/// `model`.
fn declared(attr: &Attribute, owner: &str) -> Option<Declared> {
    let metas = attr
        .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .ok()?;
    let value = |key: &str| {
        metas.iter().find_map(|m| match m {
            Meta::NameValue(nv) if nv.path.is_ident(key) => match &nv.value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(s) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
    };
    let name = value("name").or_else(|| {
        let model = value("model")?;
        let last = model.rsplit("::").next()?.trim();
        Some(naming::accessor(if last == "Self" { owner } else { last }))
    })?;
    Some(Declared {
        name,
        line: attr.pound_token.span.start().line,
    })
}

impl ModelSource {
    /// How `self`'s module names `other`: its name in the same module, else its path from
    /// the crate's root.
    pub fn path_to(&self, other: &ModelSource) -> String {
        if self.module == other.module {
            return other.name.clone();
        }
        let mut path = vec!["crate".to_owned()];
        path.extend(other.module.iter().cloned());
        path.push(other.name.clone());
        path.join("::")
    }
}

//! `cargo habtm import`: a LoopBack 3 app's model definitions (`common/models/*.json`,
//! `server/models/*.json`) as `#[derive(Model)]` structs, one module per model and a
//! `mod.rs`, with the table, column and key names the app's database already has.
//!
//! The names follow the connector of each model's data source (`server/model-config.json`
//! and `server/datasources.json`, or `--connector`): LoopBack's PostgreSQL connector folds
//! them to lower case (`assembly`, `partnumber`, `assemblyid`), the others keep them. Types
//! follow what the connectors create:
//!
//! | LoopBack | column (PostgreSQL / MySQL) | Rust |
//! |---|---|---|
//! | `string` | `TEXT` / `VARCHAR(512)` | `String` |
//! | `number` | `INTEGER` / `INT` | `i32` (`f64` with `"dataType": "float"` or `"double"`) |
//! | `boolean` | `BOOLEAN` / `TINYINT(1)` | `bool` |
//! | `date` | `TIMESTAMP WITH TIME ZONE` / `DATETIME` | `chrono::DateTime<chrono::Utc>` (sqlx's `chrono` feature) |
//! | `object`, `array`, `any` | `TEXT` | `String`, the JSON text |
//! | the generated `id` | `SERIAL` / `INT AUTO_INCREMENT` | `i32` |
//!
//! A property that is not `required` is an `Option`. Relations other than
//! hasAndBelongsToMany, and anything else not translated, are reported as warnings and
//! listed at the top of `mod.rs`.

use std::path::{Path, PathBuf};

use crate::json::{Map, Value};
use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::{CliError, Result, io, naming};

/// How a connector names tables and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// `loopback-connector-postgresql`: names folded to lower case.
    Postgresql,
    /// `loopback-connector-mysql`, `-sqlite3`, `memory`: names as written.
    Other,
}

impl Connector {
    /// The connector of a `datasources.json` entry (`"connector": "postgresql"`).
    pub fn from_name(name: &str) -> Self {
        if name.contains("postgres") {
            Connector::Postgresql
        } else {
            Connector::Other
        }
    }

    fn db_name(self, name: &str) -> String {
        match self {
            Connector::Postgresql => name.to_lowercase(),
            Connector::Other => name.to_owned(),
        }
    }

    /// The key of the connector's own settings in a definition (`"postgresql": {...}`).
    fn settings_key(self) -> &'static str {
        match self {
            Connector::Postgresql => "postgresql",
            Connector::Other => "mysql",
        }
    }
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    /// The LoopBack app's folder.
    pub app: PathBuf,
    /// The folder to write the modules into.
    pub out: PathBuf,
    /// The connector whose names to use, whatever the data sources say.
    pub connector: Option<Connector>,
}

/// What an import wrote, and what it could not translate.
#[derive(Debug, Default)]
pub struct Report {
    /// The files written, `mod.rs` last.
    pub files: Vec<PathBuf>,
    /// What was not translated, one line each.
    pub warnings: Vec<String>,
}

/// One model definition file, read.
struct Definition {
    file: PathBuf,
    name: String,
    json: Map,
}

/// One property of a model, as it becomes a field.
struct Property {
    field: String,
    column: String,
    ty: TokenStream,
    doc: Option<String>,
    id: bool,
    generated: bool,
}

/// One hasAndBelongsToMany relation, as it becomes an attribute.
#[derive(Clone)]
struct Habtm {
    name: String,
    target: String,
    through: Option<String>,
    through_table: Option<String>,
    foreign_key: String,
    key_through: String,
    /// Declared here by the import, not by the app: the other side of a relation that only
    /// the target declares.
    implied_by: Option<String>,
}

impl Habtm {
    /// Whether `self`, declared on `owner`, is `other` (declared on `other_owner`) read from
    /// the other end: the same join table, the keys swapped.
    fn mirrors(&self, owner: &str, other: &Habtm, other_owner: &str) -> bool {
        self.target == other_owner
            && other.target == owner
            && self.through == other.through
            && self.through_table == other.through_table
            && self.foreign_key == other.key_through
            && self.key_through == other.foreign_key
    }
}

/// Reads the app and writes the modules; see the module's documentation.
pub fn import(args: &ImportArgs) -> Result<Report> {
    let mut report = Report::default();
    let mut definitions = Vec::new();
    for folder in ["common/models", "server/models"] {
        let dir = args.app.join(folder);
        if !dir.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(io(&dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            definitions.push(definition(&file)?);
        }
    }
    if definitions.is_empty() {
        return Err(CliError::Invalid(format!(
            "no model definitions under {}: a LoopBack 3 app keeps them in common/models/*.json and server/models/*.json",
            args.app.display()
        )));
    }
    let config_file = args.app.join("server/model-config.json");
    let config = read_object(&config_file)?;
    let order: Vec<String> = config.iter().flat_map(|c| c.keys().cloned()).collect();
    let sources = read_object(&args.app.join("server/datasources.json"))?;
    let known: Vec<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
    if let Some(config) = &config {
        for (name, entry) in config {
            if name != "_meta" && entry.is_object() && !known.contains(&name.as_str()) {
                report.warnings.push(format!(
                    "{name}: in server/model-config.json but with no definition in the app (a LoopBack built-in model?): not imported"
                ));
            }
        }
    }
    // The order in which LoopBack registers the models: model-config.json's, then the rest.
    let registered = |name: &str| order.iter().position(|k| k == name).unwrap_or(usize::MAX);
    let connector_of = |name: &str| -> Connector {
        if let Some(connector) = args.connector {
            return connector;
        }
        let source = config
            .as_ref()
            .and_then(|c| c.get(name))
            .and_then(|e| e.get("dataSource"))
            .and_then(Value::as_str);
        let connector = source
            .and_then(|s| sources.as_ref()?.get(s)?.get("connector")?.as_str())
            .unwrap_or("memory");
        Connector::from_name(connector)
    };
    let public = |name: &str| {
        config
            .as_ref()
            .and_then(|c| c.get(name))
            .and_then(|e| e.get("public"))
            .and_then(Value::as_bool)
    };

    std::fs::create_dir_all(&args.out).map_err(io(&args.out))?;
    let through_models: Vec<String> = definitions
        .iter()
        .flat_map(|d| habtm_entries(d).map(|(_, r)| r))
        .filter_map(|r| r.get("through").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let mut declared = Vec::new();
    for def in &definitions {
        let connector = connector_of(&def.name);
        declared.push(relations(
            def,
            &definitions,
            &registered,
            connector,
            &mut report,
        )?);
    }
    let all = implied(&definitions, declared, &mut report);
    let mut modules = Vec::new();
    for (def, relations) in definitions.iter().zip(all) {
        let connector = connector_of(&def.name);
        let properties = properties(def, connector, &mut report)?;
        let module = def.name.to_snake_case();
        let file = args.out.join(format!("{module}.rs"));
        let is_through = through_models.contains(&def.name);
        let text = module_text(
            def,
            connector,
            &properties,
            &relations,
            public(&def.name),
            is_through,
        )?;
        std::fs::write(&file, text).map_err(io(&file))?;
        report.files.push(file);
        modules.push(module);
    }
    let mod_rs = args.out.join("mod.rs");
    std::fs::write(&mod_rs, mod_text(&args.app, &modules, &report.warnings)?)
        .map_err(io(&mod_rs))?;
    report.files.push(mod_rs);
    Ok(report)
}

fn definition(file: &Path) -> Result<Definition> {
    let json = definition_value(file)?;
    let Value::Object(json) = json else {
        return Err(CliError::Definition {
            file: file.to_owned(),
            message: "a model definition is a JSON object".to_owned(),
        });
    };
    let name = json
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::Definition {
            file: file.to_owned(),
            message: "no \"name\": a model definition names its model".to_owned(),
        })?
        .to_owned();
    if syn::parse_str::<syn::Ident>(&name.to_upper_camel_case()).is_err() {
        return Err(CliError::Definition {
            file: file.to_owned(),
            message: format!("the model name {name:?} cannot be a Rust type name"),
        });
    }
    Ok(Definition {
        file: file.to_owned(),
        name,
        json,
    })
}

/// A JSON object file, if it exists.
fn read_object(file: &Path) -> Result<Option<Map>> {
    if !file.exists() {
        return Ok(None);
    }
    match definition_value(file)? {
        Value::Object(map) => Ok(Some(map)),
        _ => Err(CliError::Definition {
            file: file.to_owned(),
            message: "expected a JSON object".to_owned(),
        }),
    }
}

fn definition_value(file: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(file).map_err(io(file))?;
    serde_json::from_str(&text).map_err(|e| {
        let text = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        CliError::Json {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: text.strip_suffix(&position).unwrap_or(&text).to_owned(),
        }
    })
}

/// The relations of a definition that are hasAndBelongsToMany, by name.
fn habtm_entries(def: &Definition) -> impl Iterator<Item = (&String, &Map)> {
    def.json
        .get("relations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, r)| r.as_object().map(|r| (name, r)))
        .filter(|(_, r)| r.get("type").and_then(Value::as_str) == Some("hasAndBelongsToMany"))
}

/// Every model's relations, with the other side of each relation that only its target
/// declares: habtm deletes a row's links through the relations its model declares, so a
/// `Part` deleted must know `Supplier.parts` to take its links with it. A name the model
/// already uses is a warning instead.
fn implied(
    definitions: &[Definition],
    mut all: Vec<Vec<Habtm>>,
    report: &mut Report,
) -> Vec<Vec<Habtm>> {
    let owners: Vec<&str> = definitions.iter().map(|d| d.name.as_str()).collect();
    let mut added: Vec<(usize, Habtm)> = Vec::new();
    for (i, relations) in all.iter().enumerate() {
        for relation in relations.iter().filter(|r| r.target != owners[i]) {
            let Some(t) = owners.iter().position(|o| *o == relation.target) else {
                continue;
            };
            if all[t]
                .iter()
                .any(|back| back.mirrors(owners[t], relation, owners[i]))
            {
                continue;
            }
            let name = naming::accessor(owners[i]);
            let taken = all[t].iter().any(|r| r.name == name)
                || definitions[t]
                    .json
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.keys().any(|k| naming::field(k) == name));
            if taken {
                report.warnings.push(format!(
                    "{}.{}: only {} declares it, and the name `{name}` for the relation back is taken on {}: deleting a {} leaves its links in the join table",
                    owners[i], relation.name, owners[i], owners[t], owners[t]
                ));
                continue;
            }
            added.push((
                t,
                Habtm {
                    name,
                    target: owners[i].to_owned(),
                    through: relation.through.clone(),
                    through_table: relation.through_table.clone(),
                    foreign_key: relation.key_through.clone(),
                    key_through: relation.foreign_key.clone(),
                    implied_by: Some(format!("{}.{}", owners[i], relation.name)),
                },
            ));
        }
    }
    for (t, relation) in added {
        all[t].push(relation);
    }
    all
}

/// A connector's own setting of a definition or property: `"postgresql": {"table": ...}`.
fn setting<'a>(json: &'a Map, connector: Connector, key: &str) -> Option<&'a str> {
    json.get(connector.settings_key())?.get(key)?.as_str()
}

fn properties(
    def: &Definition,
    connector: Connector,
    report: &mut Report,
) -> Result<Vec<Property>> {
    let mut out = Vec::new();
    let empty = Map::default();
    let props = def
        .json
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, value) in props {
        let spec = match value {
            Value::Object(spec) => spec.clone(),
            // `"name": "string"`, `"tags": ["string"]`.
            short => {
                let mut spec = Map::default();
                spec.insert("type".to_owned(), short.clone());
                spec
            }
        };
        let warn = |report: &mut Report, what: &str| {
            report.warnings.push(format!("{}.{name}: {what}", def.name))
        };
        let ty_name = match spec.get("type") {
            Some(Value::String(t)) => t.to_lowercase(),
            Some(Value::Array(_)) => "array".to_owned(),
            Some(Value::Object(_)) => "object".to_owned(),
            _ => {
                warn(report, "no \"type\": read as a string");
                "string".to_owned()
            }
        };
        let id = spec.get("id").is_some_and(|v| v.as_bool().unwrap_or(true));
        let data_type = spec
            .get("dataType")
            .or_else(|| spec.get(connector.settings_key())?.get("dataType"))
            .and_then(Value::as_str)
            .map(str::to_lowercase);
        let (base, doc): (TokenStream, Option<String>) = match ty_name.as_str() {
            "string" => (quote!(String), None),
            "number" => match data_type.as_deref() {
                Some("float" | "double" | "real" | "double precision") => (quote!(f64), None),
                Some("bigint") => (quote!(i64), None),
                Some("decimal" | "numeric") => {
                    warn(
                        report,
                        "a decimal column: read as f64, which the column type must allow (cast it, or change the field to a decimal type sqlx decodes)",
                    );
                    (quote!(f64), None)
                }
                _ => (quote!(i32), None),
            },
            "boolean" => (quote!(bool), None),
            "date" => (quote!(chrono::DateTime<chrono::Utc>), None),
            "object" | "array" | "any" | "json" => (
                quote!(String),
                Some(format!(" LoopBack `{ty_name}`, stored as its JSON text.")),
            ),
            other => {
                warn(
                    report,
                    &format!("type {other:?} has no mapping: read as its text"),
                );
                (
                    quote!(String),
                    Some(format!(" LoopBack `{other}`, read as text.")),
                )
            }
        };
        let required = spec
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let generated = id
            && ty_name == "number"
            && spec
                .get("generated")
                .and_then(Value::as_bool)
                .unwrap_or(true);
        let ty = if required || id {
            base
        } else {
            quote!(Option<#base>)
        };
        let column = setting(&spec, connector, "columnName")
            .map_or_else(|| connector.db_name(name), str::to_owned);
        out.push(Property {
            field: naming::field(name),
            column,
            ty,
            doc,
            id,
            generated,
        });
    }
    let has_id = out.iter().any(|p| p.id);
    let injected = def
        .json
        .get("idInjection")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if !has_id {
        if !injected {
            report.warnings.push(format!(
                "{}: \"idInjection\": false and no id property: an `id` of type i32 is assumed",
                def.name
            ));
        }
        out.insert(
            0,
            Property {
                field: "id".to_owned(),
                column: connector.db_name("id"),
                ty: quote!(i32),
                doc: None,
                id: true,
                generated: true,
            },
        );
    }
    Ok(out)
}

fn relations(
    def: &Definition,
    all: &[Definition],
    registered: &dyn Fn(&str) -> usize,
    connector: Connector,
    report: &mut Report,
) -> Result<Vec<Habtm>> {
    let mut out = Vec::new();
    if let Some(relations) = def.json.get("relations").and_then(Value::as_object) {
        for (name, rel) in relations {
            let kind = rel.get("type").and_then(Value::as_str).unwrap_or("(none)");
            if kind != "hasAndBelongsToMany" {
                report.warnings.push(format!(
                    "{}.{name}: a {kind} relation, not translated (habtm declares hasAndBelongsToMany only)",
                    def.name
                ));
            }
        }
    }
    let exists = |name: &str| all.iter().any(|d| d.name == name);
    for (name, rel) in habtm_entries(def) {
        let target = match rel.get("model").and_then(Value::as_str) {
            Some(model) => model.to_owned(),
            None => pluralizer::pluralize(name, 1, false).to_upper_camel_case(),
        };
        if !exists(&target) {
            report.warnings.push(format!(
                "{}.{name}: the related model {target:?} has no definition in the app: not translated",
                def.name
            ));
            continue;
        }
        // LoopBack's join model: `through`, else an existing `AssemblyPart` or `PartAssembly`,
        // else the one the first of the two models to register defines.
        let (through, through_table) = match rel.get("through").and_then(Value::as_str) {
            Some(through) if exists(through) => (Some(through.to_owned()), None),
            Some(through) => (None, Some(through.to_owned())),
            None => {
                let forward = format!("{}{target}", def.name);
                let backward = format!("{target}{}", def.name);
                if exists(&forward) {
                    (Some(forward), None)
                } else if exists(&backward) {
                    (Some(backward), None)
                } else {
                    let other_declares = all.iter().any(|d| {
                        d.name == target
                            && habtm_entries(d).any(|(_, r)| {
                                r.get("model").and_then(Value::as_str) == Some(def.name.as_str())
                            })
                    });
                    let table = if other_declares && registered(&target) < registered(&def.name) {
                        backward
                    } else {
                        forward
                    };
                    (None, Some(table))
                }
            }
        };
        let through_table = through_table.map(|t| connector.db_name(&t));
        let key = |k: &str, model: &str| {
            rel.get(k)
                .and_then(Value::as_str)
                .map_or_else(|| naming::loopback_key(model), str::to_owned)
        };
        out.push(Habtm {
            name: name.to_snake_case(),
            through,
            through_table,
            foreign_key: connector.db_name(&key("foreignKey", &def.name)),
            key_through: connector.db_name(&key("keyThrough", &target)),
            target,
            implied_by: None,
        });
    }
    Ok(out)
}

fn ident(name: &str) -> syn::Ident {
    if naming::is_keyword(name) {
        format_ident!("r#{name}")
    } else {
        format_ident!("{name}")
    }
}

fn module_text(
    def: &Definition,
    connector: Connector,
    properties: &[Property],
    relations: &[Habtm],
    public: Option<bool>,
    is_through: bool,
) -> Result<String> {
    let strukt = format_ident!("{}", def.name.to_upper_camel_case());
    let source = def
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let table = def
        .json
        .get(connector.settings_key())
        .and_then(|s| s.get("table"))
        .and_then(Value::as_str)
        .map_or_else(|| connector.db_name(&def.name), str::to_owned);
    let mut model_args = Vec::new();
    if strukt != table {
        model_args.push(quote!(table = #table));
    }
    if let Some(plural) = def.json.get("plural").and_then(Value::as_str) {
        model_args.push(quote!(plural = #plural));
    }
    let model_attr = (!model_args.is_empty()).then(|| quote!(#[model(#(#model_args),*)]));
    let mut uses: Vec<String> = Vec::new();
    let relation_attrs = relations.iter().map(|r| {
        let target = r.target.to_upper_camel_case();
        if strukt != target && !uses.contains(&target) {
            uses.push(target.clone());
        }
        if let Some(through) = &r.through {
            let through = through.to_upper_camel_case();
            if !uses.contains(&through) && strukt != through {
                uses.push(through);
            }
        }
        let mut args = vec![quote!(has_and_belongs_to_many), quote!(model = #target)];
        let name = &r.name;
        if *name != naming::accessor(&target) {
            args.push(quote!(name = #name));
        }
        if let Some(through) = &r.through {
            let through = through.to_upper_camel_case();
            args.push(quote!(through = #through));
        }
        if let Some(table) = &r.through_table {
            args.push(quote!(through_table = #table));
        }
        let (fk, kt) = (&r.foreign_key, &r.key_through);
        args.push(quote!(foreign_key = #fk));
        args.push(quote!(key_through = #kt));
        quote!(#[relation(#(#args),*)])
    });
    let relation_attrs: Vec<TokenStream> = relation_attrs.collect();
    let allow = (relations.len() > 1).then(|| quote!(#[allow(clippy::duplicated_attributes)]));
    let fields = properties.iter().map(|p| {
        let name = ident(&p.field);
        let ty = &p.ty;
        let doc = p.doc.as_ref().map(|d| quote!(#[doc = #d]));
        let mut model = Vec::new();
        if p.id && p.field != "id" {
            model.push(quote!(id));
        }
        if p.id && !p.generated && p.ty.to_string().contains("i32") {
            model.push(quote!(generated = false));
        }
        if p.column != p.field {
            let column = &p.column;
            model.push(quote!(column = #column));
        }
        let model = (!model.is_empty()).then(|| quote!(#[model(#(#model),*)]));
        quote! {
            #doc
            #model
            pub #name: #ty,
        }
    });
    let exposure = match public {
        Some(true) => " exposed over REST (`\"public\": true`)",
        Some(false) => " not exposed over REST (`\"public\": false`)",
        None => "",
    };
    let mut doc = format!(
        " The LoopBack model `{}`{exposure}, from `{source}`.{}",
        def.name,
        if is_through {
            " The join model of a hasAndBelongsToMany relation."
        } else {
            ""
        }
    );
    for relation in relations {
        if let Some(by) = &relation.implied_by {
            doc.push_str(&format!(
                " `{}` is `{by}` read from this side, declared so that a deleted row takes its links with it.",
                relation.name
            ));
        }
    }
    let uses = uses.iter().map(|u| {
        let u = format_ident!("{u}");
        quote!(use super::#u;)
    });
    let file = quote! {
        use habtm::Model;
        #(#uses)*

        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Model)]
        #allow
        #model_attr
        #(#relation_attrs)*
        pub struct #strukt {
            #(#fields)*
        }
    };
    let header = format!(
        "//! `{}`, imported from the LoopBack model definition `{source}` by `cargo habtm import`.\n\n",
        def.name
    );
    Ok(header + &format(file)?)
}

fn format(tokens: TokenStream) -> Result<String> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| CliError::Invalid(format!("the generated code does not parse: {e}")))?;
    Ok(prettyplease::unparse(&file))
}

fn mod_text(app: &Path, modules: &[String], warnings: &[String]) -> Result<String> {
    let mut text = format!(
        "//! The models of the LoopBack app `{}`, imported by `cargo habtm import`.\n",
        app.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| app.display().to_string())
    );
    if warnings.is_empty() {
        text.push_str("//!\n//! Everything was translated.\n");
    } else {
        text.push_str("//!\n//! Not translated:\n");
        for warning in warnings {
            text.push_str(&format!("//! - {warning}\n"));
        }
    }
    let items = modules.iter().map(|m| {
        let m = format_ident!("{m}");
        quote! {
            mod #m;
            pub use #m::*;
        }
    });
    text.push('\n');
    text.push_str(&format(quote!(#(#items)*))?);
    Ok(text)
}

/// One line saying what an import wrote.
pub fn summary(report: &Report) -> String {
    format!(
        "{} model module(s) and mod.rs written, {} warning(s)",
        report.files.len().saturating_sub(1),
        report.warnings.len()
    )
}

//! `cargo habtm`: `cargo habtm relation ...` and `cargo habtm import ...` (or, from the
//! workspace, `cargo run -p habtm-cli -- habtm ...`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use habtm_cli::import::{self, Connector, ImportArgs};
use habtm_cli::relation::{self, RelationArgs, Terminal};

/// Cargo runs `cargo-habtm habtm <args>`.
#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
enum Cargo {
    /// habtm's relation generator and LoopBack import.
    Habtm(Habtm),
}

#[derive(Args)]
#[command(version, about)]
struct Habtm {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Adds a hasAndBelongsToMany relation to a model of this crate, asking in a terminal
    /// for what is not given.
    Relation {
        /// The model to add the relation to.
        #[arg(long)]
        model: Option<String>,
        /// The related model.
        #[arg(long)]
        related: Option<String>,
        /// The relation's name, its accessor (default: the related model's snake_case plural).
        #[arg(long)]
        name: Option<String>,
        /// The join table (default: both model names in byte order).
        #[arg(long)]
        through_table: Option<String>,
        /// This model's join column.
        #[arg(long)]
        foreign_key: Option<String>,
        /// The related model's join column.
        #[arg(long)]
        key_through: Option<String>,
        /// Also add the relation back on the related model.
        #[arg(long)]
        inverse: bool,
        /// The crate's source folder.
        #[arg(long, default_value = "src")]
        dir: PathBuf,
    },
    /// Writes `#[derive(Model)]` structs for a LoopBack 3 app's models, with the names its
    /// database already uses.
    Import {
        /// The LoopBack app's folder (with common/models and server/).
        app: PathBuf,
        /// The folder to write the modules into.
        #[arg(long)]
        out: PathBuf,
        /// Name tables and columns as this connector does, whatever server/datasources.json
        /// says.
        #[arg(long, value_enum)]
        connector: Option<ConnectorArg>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ConnectorArg {
    /// Names folded to lower case.
    Postgresql,
    /// Names as written.
    Mysql,
    /// Names as written.
    Sqlite3,
}

fn main() -> ExitCode {
    let Cargo::Habtm(habtm) = Cargo::parse();
    let outcome = match habtm.command {
        Command::Relation {
            model,
            related,
            name,
            through_table,
            foreign_key,
            key_through,
            inverse,
            dir,
        } => {
            let args = RelationArgs {
                model,
                related,
                name,
                through_table,
                foreign_key,
                key_through,
                inverse,
                dir,
            };
            let mut terminal = Terminal;
            let ask = relation::interactive().then_some(&mut terminal as &mut dyn relation::Ask);
            relation::run(args, ask).map(|edits| {
                for edit in edits {
                    println!(
                        "{}:{}: {}",
                        edit.file.display(),
                        edit.after + 1,
                        edit.line.trim()
                    );
                }
            })
        }
        Command::Import {
            app,
            out,
            connector,
        } => {
            let args = ImportArgs {
                app,
                out,
                connector: connector.map(|c| match c {
                    ConnectorArg::Postgresql => Connector::Postgresql,
                    ConnectorArg::Mysql | ConnectorArg::Sqlite3 => Connector::Other,
                }),
            };
            import::import(&args).map(|report| {
                for warning in &report.warnings {
                    eprintln!("warning: {warning}");
                }
                println!("{}", import::summary(&report));
            })
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

//! `cargo habtm import` of `examples/loopback-app`: the committed modules are what the tool
//! writes (the tests of `habtm-tests` drive them on every backend), and a malformed
//! definition is an error naming its file, line and column.

use std::path::Path;

use habtm_cli::CliError;
use habtm_cli::import::{Connector, ImportArgs, import};

fn app() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/loopback-app")
}

/// Imports into a new folder and compares every file with the committed `committed`.
fn matches_committed(connector: Option<Connector>, committed: &str) {
    let out = tempfile::tempdir().expect("a temporary folder");
    let report = import(&ImportArgs {
        app: app(),
        out: out.path().to_owned(),
        connector,
    })
    .expect("the app imports");
    let committed = app().join(committed);
    let mut names: Vec<String> = report
        .files
        .iter()
        .map(|f| {
            f.file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(&committed)
        .expect("the committed modules")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    assert_eq!(names, on_disk, "the same files");
    for name in names {
        let fresh = std::fs::read_to_string(out.path().join(&name)).expect("written");
        let kept = std::fs::read_to_string(committed.join(&name)).expect("committed");
        assert_eq!(
            fresh,
            kept,
            "{name} differs from the committed one: run `cargo run -p habtm-cli -- habtm import examples/loopback-app --out examples/loopback-app/{}`",
            committed.file_name().expect("a name").to_string_lossy()
        );
    }
    // Nothing is dropped silently: every relation of another kind and every model without a
    // definition is a warning, and mod.rs lists them.
    assert_eq!(report.warnings.len(), 6, "{:#?}", report.warnings);
    let mod_rs = std::fs::read_to_string(out.path().join("mod.rs")).expect("mod.rs");
    for warning in &report.warnings {
        assert!(mod_rs.contains(warning.as_str()), "{warning}");
    }
}

#[test]
fn the_committed_import_is_what_the_tool_writes() {
    matches_committed(None, "models");
}

#[test]
fn the_postgresql_import_folds_names() {
    matches_committed(Some(Connector::Postgresql), "models_postgresql");
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let app = tempfile::tempdir().expect("a temporary folder");
    let models = app.path().join("common/models");
    std::fs::create_dir_all(&models).expect("the models folder");
    std::fs::write(
        models.join("part.json"),
        "{\n  \"name\": \"Part\",\n  \"properties\": {\"partNumber\": \"string\",}\n}\n",
    )
    .expect("a definition");
    let error = import(&ImportArgs {
        app: app.path().to_owned(),
        out: app.path().join("out"),
        connector: None,
    })
    .unwrap_err();
    assert!(
        matches!(&error, CliError::Json { line: 3, column: 41, file, .. } if file.ends_with("common/models/part.json")),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .ends_with("part.json:3:41: malformed JSON: trailing comma"),
        "{error}"
    );
    assert!(!app.path().join("out").exists(), "nothing written");
}

#[test]
fn an_app_without_models_says_where_they_belong() {
    let app = tempfile::tempdir().expect("a temporary folder");
    let error = import(&ImportArgs {
        app: app.path().to_owned(),
        out: app.path().join("out"),
        connector: None,
    })
    .unwrap_err();
    assert!(
        error.to_string().contains(
            "a LoopBack 3 app keeps them in common/models/*.json and server/models/*.json"
        ),
        "{error}"
    );
}

//! `cargo habtm relation` on a copy of a small crate: the lines it adds and no other change,
//! a crate that then compiles and uses the new accessors, the refusals, and the prompts
//! through a pseudo-terminal.

use std::path::{Path, PathBuf};
use std::process::Command;

use habtm_cli::CliError;
use habtm_cli::relation::{RelationArgs, run};

/// A copy of `tests/fixture` in a new folder, with a manifest that depends on this
/// workspace's `habtm`.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/src");
    let src = dir.path().join("src");
    std::fs::create_dir(&src).expect("src");
    for entry in std::fs::read_dir(&from).expect("the fixture") {
        let path = entry.expect("an entry").path();
        std::fs::copy(&path, src.join(path.file_name().expect("a name"))).expect("a copy");
    }
    let habtm = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest = format!(
        "[package]\nname = \"shop\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[dependencies]\nhabtm = {{ path = {:?} }}\n\n[workspace]\n",
        habtm.canonicalize().expect("the workspace")
    );
    std::fs::write(dir.path().join("Cargo.toml"), manifest).expect("the manifest");
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("a source file")
}

fn args(dir: &Path, model: &str, related: &str) -> RelationArgs {
    RelationArgs {
        model: Some(model.to_owned()),
        related: Some(related.to_owned()),
        dir: dir.join("src"),
        ..RelationArgs::default()
    }
}

/// The lines of `after` that are not in `before`, checking that `before` is `after` without
/// them: nothing else changed.
fn added_lines(before: &str, after: &str) -> Vec<String> {
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = after.split_inclusive('\n').collect();
    let mut added = Vec::new();
    let mut i = 0;
    for line in &new {
        if i < old.len() && old[i] == *line {
            i += 1;
        } else {
            added.push(line.trim_end_matches('\n').to_owned());
        }
    }
    assert_eq!(i, old.len(), "every line of the file is kept, in order");
    assert_eq!(new.len(), old.len() + added.len());
    added
}

/// `cargo check` of the crate, in a target folder of this workspace so that habtm is built
/// once for every run.
fn check(dir: &Path) {
    let target: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/cli-fixture");
    let output = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the edited crate compiles:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn adds_a_relation_and_its_inverse_and_the_crate_compiles() {
    let dir = fixture();
    let shop = dir.path().join("src/shop.rs");
    let lib = dir.path().join("src/lib.rs");
    let (before, lib_before) = (read(&shop), read(&lib));
    let edits = run(
        RelationArgs {
            inverse: true,
            ..args(dir.path(), "Assembly", "Part")
        },
        None,
    )
    .expect("the relation is added");
    assert_eq!(edits.len(), 2);
    let after = read(&shop);
    assert_eq!(
        added_lines(&before, &after),
        [
            r#"#[relation(has_and_belongs_to_many, model = "Part")]"#,
            r#"#[relation(has_and_belongs_to_many, model = "Assembly")]"#,
        ]
    );
    // Right under the derive and the model attribute, before the struct.
    assert!(after.contains(
        "#[model(plural = \"Assemblies\")]\n#[relation(has_and_belongs_to_many, model = \"Part\")]\npub struct Assembly {"
    ));
    assert_eq!(
        read(&lib),
        lib_before,
        "a file without the models is untouched"
    );

    // A second relation goes under the first, in an inline module with its indentation.
    run(
        RelationArgs {
            name: Some("spares".into()),
            through_table: Some("KitSpare".into()),
            foreign_key: Some("kit_id".into()),
            key_through: Some("spare_id".into()),
            ..args(dir.path(), "Kit", "Part")
        },
        None,
    )
    .expect("a relation with every option");
    let added = added_lines(&after, &read(&shop));
    assert_eq!(
        added,
        [
            r#"    #[relation(has_and_belongs_to_many, model = "crate::shop::Part", name = "spares", through_table = "KitSpare", foreign_key = "kit_id", key_through = "spare_id")]"#
        ]
    );
    // The new accessors exist: a use of each compiles.
    let uses = "\npub fn accessors() {\n    let _ = shop::Assembly::parts_of(1);\n    let _ = shop::Part::assemblies_of(1);\n    let _ = shop::kits::Kit::spares_of(1);\n}\n";
    std::fs::write(&lib, lib_before + uses).expect("lib.rs");
    check(dir.path());
}

#[test]
fn refusals_name_the_fix_and_change_nothing() {
    let dir = fixture();
    let shop = dir.path().join("src/shop.rs");
    let before = read(&shop);

    let taken = run(args(dir.path(), "Tag", "Part"), None).unwrap_err();
    assert!(
        matches!(&taken, CliError::RelationExists { model, name, line: 22, .. } if model == "Tag" && name == "parts"),
        "{taken:?}"
    );
    assert!(taken.to_string().contains("choose another --name"));

    let missing = run(args(dir.path(), "Assembly", "Widget"), None).unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!(
            "no `#[derive(Model)]` struct named `Widget` under {}; the models found are: Assembly, Part, Tag, Kit",
            dir.path().join("src").display()
        )
    );

    let inverse_taken = run(
        RelationArgs {
            inverse: true,
            name: Some("labels".into()),
            ..args(dir.path(), "Part", "Tag")
        },
        None,
    );
    assert!(
        matches!(&inverse_taken, Err(CliError::RelationExists { model, .. }) if model == "Tag"),
        "{inverse_taken:?}"
    );

    let unasked = run(
        RelationArgs {
            related: None,
            ..args(dir.path(), "Assembly", "Part")
        },
        None,
    )
    .unwrap_err();
    assert_eq!(
        unasked.to_string(),
        "--related is required when not run in a terminal (nothing can be asked)"
    );
    let bad_name = run(
        RelationArgs {
            name: Some("spare parts".into()),
            ..args(dir.path(), "Assembly", "Part")
        },
        None,
    )
    .unwrap_err();
    assert!(bad_name.to_string().contains("not a Rust identifier"));
    assert_eq!(read(&shop), before, "nothing written");
}

/// The binary without a terminal: the missing flag named, the exit status a failure.
#[test]
fn without_a_terminal_the_binary_names_the_missing_flag() {
    let dir = fixture();
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-habtm"))
        .args(["habtm", "relation", "--related", "Part", "--dir"])
        .arg(dir.path().join("src"))
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: --model is required when not run in a terminal (nothing can be asked)\n"
    );
}

/// In a terminal, the generator asks for each value, listing the models it found.
#[test]
fn in_a_terminal_it_asks() {
    use expectrl::Expect;

    let dir = fixture();
    let shop = dir.path().join("src/shop.rs");
    let before = read(&shop);
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-habtm"));
    command
        .args(["habtm", "relation", "--dir"])
        .arg(dir.path().join("src"));
    let mut session = expectrl::Session::spawn(command).expect("a pseudo-terminal");
    session.set_expect_timeout(Some(std::time::Duration::from_secs(20)));
    session
        .expect("The model to add the relation to:")
        .expect("asks for the model");
    // The choices are the models found; typing filters them.
    session.expect("Tag").expect("lists the models");
    session.send("Kit").expect("types");
    session.send("\r").expect("chooses Kit");
    session
        .expect("The related model:")
        .expect("asks for the related model");
    session.send("Assem\r").expect("chooses Assembly");
    session
        .expect("The relation's name")
        .expect("asks for the name, with its default");
    session.send("\r").expect("keeps the default");
    for question in [
        "The join table",
        "This model's join column",
        "The related model's join column",
    ] {
        session
            .expect(question)
            .expect("asks for an optional value");
        session.send("\r").expect("keeps the default");
    }
    session
        .expect("Add the relation back on the related model?")
        .expect("asks about the inverse");
    session.send("y\r").expect("answers yes");
    session.expect(expectrl::Eof).expect("ends");
    let added = added_lines(&before, &read(&shop));
    assert_eq!(
        added,
        [
            r#"#[relation(has_and_belongs_to_many, model = "crate::shop::kits::Kit")]"#,
            r#"    #[relation(has_and_belongs_to_many, model = "crate::shop::Assembly")]"#,
        ]
    );
}

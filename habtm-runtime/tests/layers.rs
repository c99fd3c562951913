//! The runtime's modules form layers: each module imports only from modules declared above
//! it in `lib.rs`, so none imports a module that imports it back.

use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules, in the order `lib.rs` declares them.
fn declared_modules(src: &Path) -> Vec<String> {
    let lib = fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    lib.lines()
        .map(str::trim)
        .filter_map(|line| {
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// Every `.rs` file of module `name`: `name.rs`, or everything under `name/`.
fn files_of(src: &Path, name: &str) -> Vec<PathBuf> {
    let file = src.join(format!("{name}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut found = Vec::new();
    let mut dirs = vec![src.join(name)];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("module directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}

/// The top-level modules that code (not comments) in `text` names as `crate::<module>`.
fn named_modules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

#[test]
fn each_module_imports_only_from_the_layers_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = declared_modules(&src);
    assert!(order.len() > 10, "lib.rs declares {order:?}");
    let mut wrong = Vec::new();
    for (position, module) in order.iter().enumerate() {
        for file in files_of(&src, module) {
            let text = fs::read_to_string(&file).expect("source");
            for name in named_modules(&text) {
                let Some(used) = order.iter().position(|m| *m == name) else {
                    continue; // `crate::Model` and other items of the root
                };
                if used > position {
                    wrong.push(format!(
                        "{} (in `{module}`) imports `{name}`, which is not above it",
                        file.strip_prefix(&src).unwrap_or(&file).display()
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

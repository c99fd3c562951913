//! The README's first program is `examples/first.rs`, which CI runs: the two stay the same.

#[test]
fn the_first_program_in_the_readme_is_the_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example =
        std::fs::read_to_string(format!("{root}/examples/first.rs")).expect("the example");
    let after = readme
        .split_once("as it is in `examples/first.rs`:\n\n```rust\n")
        .expect("the first program's block")
        .1;
    let block = after.split_once("```\n").expect("the block's end").0;
    assert_eq!(
        block, example,
        "copy examples/first.rs into the README's Install section"
    );
}

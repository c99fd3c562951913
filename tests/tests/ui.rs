//! Compile errors: each case under `ui/` must fail with exactly the reviewed `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*/*.rs");
}

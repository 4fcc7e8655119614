//! Misuse of a generated crate does not compile: wrong entity, wrong action, missing required
//! parameter, wrongly typed parameter, unknown parameter. Expected compiler output lives next to
//! each case in `tests/ui/` (regenerate with `TRYBUILD=overwrite`).

#[test]
fn misuse_of_the_typed_api_is_a_compile_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}

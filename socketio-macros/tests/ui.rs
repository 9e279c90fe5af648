//! Compile-time behaviour of `#[namespace]`: every documented form compiles (`ui/pass`), and
//! every rejected form fails with its diagnostic (`ui/fail`, one per file, with its `.stderr`).
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test -p socketio-macros --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

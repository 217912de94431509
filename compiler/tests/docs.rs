//! `docs/components.md` is generated from the catalogue; this test keeps it in sync.
//! `SLUICE_BLESS=1` rewrites it.

#[test]
fn components_doc_matches_the_catalogue() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/components.md");
    let expected = sluice_compiler::explain::components_markdown();
    if std::env::var_os("SLUICE_BLESS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/components.md is out of date: run `SLUICE_BLESS=1 cargo test -p sluice-compiler --test docs`"
    );
}

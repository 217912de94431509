//! `docs/components.md` and `docs/components/*.md` are generated from the catalogue; this
//! test keeps them in sync. `SLUICE_BLESS=1` rewrites them.

use std::collections::BTreeMap;
use std::path::Path;

use sluice_compiler::explain::{component_page, components_markdown, page_name};

#[test]
fn component_docs_match_the_catalogue() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let mut expected: BTreeMap<std::path::PathBuf, String> = BTreeMap::new();
    expected.insert(docs.join("components.md"), components_markdown());
    for spec in sluice_runtime::catalogue::all() {
        expected.insert(
            docs.join("components").join(page_name(spec)),
            component_page(spec),
        );
    }
    let bless = std::env::var_os("SLUICE_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(docs.join("components")).unwrap();
        for (path, text) in &expected {
            std::fs::write(path, text).unwrap();
        }
    }
    for (path, text) in &expected {
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == *text,
            "{} is out of date: run `SLUICE_BLESS=1 cargo test -p sluice-compiler --test docs`",
            path.display()
        );
    }
    // No page for a kind that no longer exists.
    for entry in std::fs::read_dir(docs.join("components")).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            expected.contains_key(&path),
            "{} documents no kind in the catalogue",
            path.display()
        );
    }
}

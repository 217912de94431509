//! A `.flow` file: parsed, checked, and when it checks clean, lowered to the IR and
//! generated into Rust.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_compiler::{check_with, codegen, SourceFile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile::new("fuzz.flow", text.to_owned());
    let checked = check_with(&source, false); // never runs cargo
    if !checked.has_errors() {
        let _ = codegen::generate(&source, &checked);
    }
    let _ = sluice_compiler::render::json(&[(&source, &checked.diagnostics[..])]);
    let _ = sluice_compiler::render::github(&source, &checked.diagnostics);
});

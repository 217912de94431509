//! A Flume properties file through `sluice import`: reading, substitution, translation,
//! and the produced flow, which must always parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_compiler::import::{self, Input, Options};

fuzz_target!(|data: &[u8]| {
    let inputs = vec![Input {
        name: "fuzz.properties".to_owned(),
        bytes: data.to_vec(),
    }];
    if let Ok(imported) = import::import(&inputs, &Options::default()) {
        assert!(
            sluice_dsl::parse(&imported.flow).errors.is_empty(),
            "the produced flow does not parse:\n{}",
            imported.flow
        );
        let _ = import::render_json(&imported, &inputs);
    }
});

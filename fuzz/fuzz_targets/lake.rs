//! A `lake` staging file as recovery finds it after a crash (any bytes after a valid
//! header), read back and encoded into every format: the reader stops at the first bad
//! record, and no header value or JSON body makes a column conversion or an encoder
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_runtime::lake::staging;
use sluice_runtime::lake::table::Table;
use sluice_runtime::lake::Encoding;
use sluice_runtime::sinks::lake::{LakeCompression, LakeFormat};

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("sluice-fuzz-lake-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("input.stg");
    let _ = std::fs::remove_file(&path);
    let Ok((mut file, _)) = staging::create(&path, "dt=2024-01-01") else {
        return;
    };
    let _ = std::io::Write::write_all(&mut file, data);
    drop(file);
    let Ok(contents) = staging::inspect(&path, u64::MAX) else {
        return;
    };
    let columns = [
        ("s", "string"),
        ("i", "int .i"),
        ("f", "float body.a.b"),
        ("b", "bool body.ok"),
        ("t", "timestamp .t"),
        ("w", "timestamp time"),
        ("j", "string body.x"),
    ];
    let table = Table::new(
        columns
            .iter()
            .map(|(n, s)| (n.to_string(), sluice_core::column::parse(n, s).unwrap()))
            .collect(),
    );
    for (format, table) in [
        (LakeFormat::Parquet, Some(table.clone())),
        (LakeFormat::Ndjson, Some(table.clone())),
        (LakeFormat::Ndjson, None),
        (LakeFormat::Csv, Some(table)),
    ] {
        let encoding = Encoding {
            format,
            compression: LakeCompression::None,
            table,
            time_header: "timestamp",
        };
        let out = std::fs::File::create(dir.join("out")).unwrap();
        let (_, done) = encoding.encode(&path, contents.good_end, out).unwrap();
        assert_eq!(done.rows, contents.events);
    }
});

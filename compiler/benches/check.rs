//! Parse + check of a generated flow with 1,000 components (SPEC §7: < 100 ms).
//!
//! Run: `cargo bench -p sluice-compiler --bench check`

use criterion::{criterion_group, criterion_main, Criterion};
use sluice_compiler::{check, SourceFile};

/// 200 pipelines of 5 components each: source, transform, channel, sink, plus a flow pair.
fn generated_flow(pipelines: usize) -> String {
    let mut text = String::from("agent \"big\" { metrics = \"127.0.0.1:9464\" }\n");
    for i in 0..pipelines {
        text.push_str(&format!(
            "source src_{i} = netcat {{ bind = \"127.0.0.1:{port}\", max_line = 16KiB }}\n\
             transform keep_{i} = filter {{ when = .level == \"ERROR\" || len(body) > {i} }}\n\
             channel buf_{i} = memory {{ capacity = 10_000, transaction_capacity = 500 }}\n\
             sink out_{i} = file_roll {{ dir = \"/var/log/out/{i}/%Y-%m-%d\", roll_interval = 1h }}\n\
             sink null_{i} = null {{ batch_size = 100 }}\n\
             flow src_{i} | keep_{i} -> buf_{i} -> out_{i}\n",
            port = 10_000 + i
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = generated_flow(200);
    let source = SourceFile::new("big.flow", text);
    let checked = check(&source);
    // The unused `null_i` sinks give 200 warnings and nothing else.
    assert!(
        !checked.has_errors(),
        "{:#?}",
        &checked.diagnostics[..3.min(checked.diagnostics.len())]
    );
    c.bench_function("check_1000_components", |b| {
        b.iter(|| check(std::hint::black_box(&source)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

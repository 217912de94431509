//! Prints the syntax errors (or the item count) of the `.flow` file given as argument.
fn main() {
    let path = std::env::args().nth(1).expect("usage: parse FILE");
    let src = std::fs::read_to_string(&path).expect("readable file");
    let parsed = sluice_dsl::parse(&src);
    for e in &parsed.errors {
        println!(
            "{}..{} {:?}: {} | help: {:?}",
            e.span.start,
            e.span.end,
            &src[e.span.start..e.span.end],
            e.message,
            e.help
        );
    }
    println!(
        "{} items, {} comments",
        parsed.file.items.len(),
        parsed.file.comments.len()
    );
    if parsed.errors.is_empty() {
        let once = sluice_dsl::format(&src, &parsed.file);
        print!("{once}");
        let again = sluice_dsl::parse(&once);
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        assert_eq!(
            sluice_dsl::format(&once, &again.file),
            once,
            "not idempotent"
        );
    }
}

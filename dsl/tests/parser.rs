//! Parser and formatter properties: the parser never panics, spans lie inside the input,
//! and formatting is idempotent on everything that parses.

use proptest::prelude::*;

/// Fragments of the language, so random inputs reach deep into the grammar.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("source".to_owned()),
        Just("channel".to_owned()),
        Just("sink".to_owned()),
        Just("flow".to_owned()),
        Just("group".to_owned()),
        Just("agent".to_owned()),
        Just("route".to_owned()),
        Just(" = ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("->".to_owned()),
        Just("|".to_owned()),
        Just("=>".to_owned()),
        Just("\n".to_owned()),
        Just(", ".to_owned()),
        Just("# c\n".to_owned()),
        Just("\"s\\n\"".to_owned()),
        Just("r#\"x\"#".to_owned()),
        Just("10_000".to_owned()),
        Just("30s".to_owned()),
        Just("64KiB".to_owned()),
        Just(".level".to_owned()),
        Just("&&".to_owned()),
        Just("len(body)".to_owned()),
        Just("env(\"X\")".to_owned()),
        Just("_".to_owned()),
        "[a-z]{1,6}",
        "\\PC{0,3}",
    ]
}

fn flowish() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn parser_never_panics_and_spans_are_in_bounds(src in flowish()) {
        let parsed = sluice_dsl::parse(&src);
        for e in &parsed.errors {
            prop_assert!(e.span.start <= e.span.end && e.span.end <= src.len());
            prop_assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end));
        }
        for item in &parsed.file.items {
            prop_assert!(item.span().end <= src.len());
        }
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        let _ = sluice_dsl::parse(&src);
    }

    #[test]
    fn formatting_is_idempotent(src in flowish()) {
        let parsed = sluice_dsl::parse(&src);
        if parsed.errors.is_empty() {
            let once = sluice_dsl::format(&src, &parsed.file);
            let again = sluice_dsl::parse(&once);
            prop_assert!(again.errors.is_empty(), "formatted output does not parse: {once:?}");
            prop_assert_eq!(sluice_dsl::format(&once, &again.file), once.clone());
            prop_assert_eq!(again.file.comments.len(), parsed.file.comments.len());
        }
    }
}

#[test]
fn every_value_form_parses() {
    let src = r##"agent "edge" { metrics = "127.0.0.1:9464", shutdown_timeout = 30s }
source s = x {
    a = "a\tb\n", b = "\u{1F600}", c = r"\d+", d = r#"say "hi""#
    e = 10_000, f = 0.25, g = true, h = 250ms, i = 7d, j = 512B, k = 2GiB, l = 10MB
    m = ["a", "b"], n = { host = "x", port = 80 }, o = primary
    p = env("KAFKA_PASSWORD"), q = env("PORT", "9000")
    r = .status >= 500 && !(body =~ r"^GET") || lower(.x) == "y" + "z" * 2 % 3
}
flow s | t -> [a, b]
flow s -> route .level {
    "ERROR", "FATAL" => errors
    -1 => drop
    _ => main
}
"##;
    let parsed = sluice_dsl::parse(src);
    assert!(parsed.errors.is_empty(), "{:#?}", parsed.errors);
    assert_eq!(parsed.file.items.len(), 4);
}

#[test]
fn precedence_follows_the_usual_rules() {
    let parsed = sluice_dsl::parse("transform f = filter { when = a || b && c == 1 + 2 * 3 }\n");
    let sluice_dsl::Item::Component(c) = &parsed.file.items[0] else {
        panic!()
    };
    let sluice_dsl::ValueKind::Expr(e) = &c.params()[0].value.kind else {
        panic!()
    };
    let sluice_dsl::ExprKind::Binary { op, rhs, .. } = &e.kind else {
        panic!()
    };
    assert_eq!(*op, sluice_dsl::BinaryOp::Or);
    let sluice_dsl::ExprKind::Binary { op, .. } = &rhs.kind else {
        panic!()
    };
    assert_eq!(*op, sluice_dsl::BinaryOp::And);
}

#[test]
fn errors_in_several_items_are_all_reported() {
    let parsed = sluice_dsl::parse(
        "source a stdin\nchannel b = memory { capacity = }\nsink c = logger\nflow a -> -> c\n",
    );
    assert_eq!(parsed.errors.len(), 3, "{:#?}", parsed.errors);
    assert_eq!(parsed.file.items.len(), 1);
}

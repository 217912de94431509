//! Runs the example program: every order of 100 or more comes back once, tagged.

use std::process::Command;

#[test]
fn the_embedded_flow_returns_exactly_the_big_orders() {
    let output = Command::new(env!("CARGO_BIN_EXE_sluice-example-embedded"))
        .arg("1000")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Orders 100..1000: 900 of them, summing to (100 + 999) * 900 / 2.
    assert_eq!(stdout.trim(), "900 big orders, 494550 total");
}

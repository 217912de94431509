//! A Rust program with a Sluice flow inside it.
//!
//! The program is the producer and the consumer: it sends orders into the flow through
//! an in-process endpoint, the flow keeps those of 100 or more and tags them with
//! computed headers, and a closure of the program receives them in batches. The flow is
//! checked when this file compiles, by the same checker as `sluice check`.
//!
//! Run it: `cargo run -p sluice-example-embedded -- 1000`.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use sluice_flow::flow;
use sluice_runtime::embed;
use sluice_runtime::prelude::*;

fn main() -> ExitCode {
    let orders: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000);
    let runtime = match sluice_runtime::tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(orders)) {
        Ok(big) => {
            println!(
                "{} big orders, {} total",
                big.len(),
                big.iter().sum::<u64>()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("the flow failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends orders `0..count` through the flow; returns the amounts it handed back.
async fn run(count: u64) -> Result<Vec<u64>, AgentError> {
    // The endpoints are registered before the agent starts: its `in_process` source and
    // sink find them by name when they are built.
    let sender = embed::sender("orders", 64);
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    embed::on_batch("big_orders", move |batch: &[Event]| {
        let mut sink = sink.lock().unwrap_or_else(|p| p.into_inner());
        for event in batch {
            let tagged = event.headers.get("size") == Some("big");
            let amount = event.headers.get("amount").and_then(|a| a.parse().ok());
            match (tagged, amount) {
                (true, Some(amount)) => sink.push(amount),
                _ => return Err(std::io::Error::other("an event came back untagged")),
            }
        }
        Ok(()) // commits the batch
    });

    let agent = flow! {
        agent "orders" { shutdown_timeout = 5s }

        source orders = in_process { endpoint = "orders" }
        transform big = filter { when = int(.amount) >= 100 }
        transform tag = set { headers = { size = "big", cents = int(.amount) * 100 } }
        channel mem = memory { capacity = 1_000 }
        sink back = in_process { endpoint = "big_orders" }

        flow orders | big | tag -> mem -> back
    };
    let running = sluice_runtime::tokio::spawn(agent.run());

    for amount in 0..count {
        let mut event = Event::new(format!("order {amount}"));
        event.headers.set("amount", amount.to_string());
        if sender.send(event).await.is_err() {
            break; // the agent stopped early; its error comes from `running`
        }
    }
    // The source ends when its last sender is dropped; the agent then drains and stops.
    drop(sender);
    match running.await {
        Ok(result) => result?,
        Err(e) => return Err(AgentError::Failed(format!("the agent task failed: {e}"))),
    }
    let mut amounts = received.lock().unwrap_or_else(|p| p.into_inner()).clone();
    amounts.sort_unstable();
    Ok(amounts)
}

//! The in-process endpoints' promises: a `send` that returns `Ok` is in the flow, and a
//! sender never waits for an agent that is gone, whether it stopped or never started.
//! One test, scenarios in order: endpoints are named per process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sluice_flow::flow;
use sluice_runtime::embed;
use sluice_runtime::prelude::*;
use sluice_runtime::testing;
use sluice_runtime::tokio;

/// Fails the test instead of hanging it.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(10), future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within 10 s"),
    }
}

#[test]
fn senders_learn_what_the_flow_has_and_never_wait_for_a_stopped_agent() {
    testing::block_on(async {
        // 1. Every acknowledged event is delivered; after a stop, sends fail at once.
        let delivered = Arc::new(AtomicUsize::new(0));
        let counter = delivered.clone();
        let sender = embed::sender("scenario_in", 8);
        embed::on_batch("scenario_out", move |batch: &[Event]| {
            counter.fetch_add(batch.len(), Ordering::SeqCst);
            Ok(())
        });
        let agent = flow! {
            source app = in_process { endpoint = "scenario_in", batch_size = 4 }
            channel mem = memory { capacity = 100, transaction_capacity = 4 }
            sink out = in_process { endpoint = "scenario_out", batch_size = 4 }
            flow app -> mem -> out
        };
        let stopper = agent.stopper();
        let running = tokio::spawn(agent.run());
        // One send larger than a transaction: split into puts of at most 4.
        let batch: Vec<Event> = (0..10).map(|i| Event::new(i.to_string())).collect();
        within("a send of 10", sender.send_batch(batch))
            .await
            .unwrap();
        for i in 0..5 {
            within("a send", sender.send(Event::new(format!("e{i}"))))
                .await
                .unwrap();
        }
        stopper.stop();
        within("the agent", running).await.unwrap().unwrap();
        assert_eq!(delivered.load(Ordering::SeqCst), 15);
        let after = within("a send after the stop", sender.send(Event::new("late"))).await;
        assert_eq!(after, Err(Closed));

        // 2. An agent that fails at start (its sink's endpoint was never registered)
        //    fails the senders waiting on it.
        let sender = embed::sender("failing_in", 8);
        let agent = flow! {
            source app = in_process { endpoint = "failing_in" }
            channel mem = memory
            sink out = in_process { endpoint = "never_registered" }
            flow app -> mem -> out
        };
        let waiting = {
            let sender = sender.clone();
            tokio::spawn(async move { sender.send(Event::new("x")).await })
        };
        let result = within("the failing agent", agent.run()).await;
        let error = result.unwrap_err().to_string();
        assert!(error.contains("never_registered"), "{error}");
        let sent = within("the waiting send", waiting).await.unwrap();
        assert_eq!(sent, Err(Closed));
    });
}

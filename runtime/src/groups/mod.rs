//! Sink groups: several sinks draining one channel together (Flume's sink processors).

pub mod failover;
pub mod load_balance;

//! Sources: where events enter the agent. One file per kind.

pub mod exec;
pub mod http;
pub mod netcat;
pub mod netcat_udp;
pub mod seq;
pub mod spooldir;
pub mod stdin;
pub mod syslog_tcp;
pub mod syslog_udp;
pub mod taildir;

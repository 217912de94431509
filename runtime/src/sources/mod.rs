//! Sources: where events enter the agent. One file per kind.

crate::catalogue::registry! {
    stdin::StdinConfig,
    exec::ExecConfig,
    seq::SeqConfig,
    taildir::TaildirConfig,
    spooldir::SpooldirConfig,
    netcat::NetcatConfig,
    netcat_udp::NetcatUdpConfig,
    syslog_tcp::SyslogTcpConfig,
    syslog_udp::SyslogUdpConfig,
    http::HttpSourceConfig,
    sluice::SluiceSourceConfig,
    kafka::KafkaSourceConfig,
    nats::NatsSourceConfig,
    in_process::InProcessSourceConfig,
}

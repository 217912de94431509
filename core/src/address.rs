//! `host:port` addresses as components bind or connect to them: one rule for the
//! checker and for `env(...)` values checked when an agent starts.

/// Why `s` is not a `host:port` address, if it is not.
pub fn problem(s: &str) -> Option<String> {
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return None;
    }
    let Some((host, port)) = s.rsplit_once(':') else {
        return Some("missing `:port`".into());
    };
    if port.parse::<u16>().is_err() {
        return Some(format!("`{port}` is not a port number (0-65535)"));
    }
    if host.is_empty() {
        return Some("missing host (use 0.0.0.0 to listen on every interface)".into());
    }
    let looks_numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_numeric {
        return Some(format!("`{host}` is not an IPv4 address"));
    }
    if host.starts_with('[') || host.contains(':') {
        return Some(format!("`{host}` is not an IPv6 address"));
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Some(format!("`{host}` is not a host name"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(problem("127.0.0.1:514"), None);
        assert_eq!(problem("[::1]:9000"), None);
        assert_eq!(problem("collector.internal:6000"), None);
        assert!(problem("127.0.0.1").is_some());
        assert!(problem("host:99999").is_some());
        assert!(problem(":80").is_some());
        assert!(problem("999.1.1.1:80").is_some());
    }
}

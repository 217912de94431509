//! The HTTP URLs a component accepts (`http://host:port/path`): one rule for the checker
//! and the `http` sink.

/// A URL split into what components need to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl<'a> {
    /// `https://`: the connection needs TLS.
    pub tls: bool,
    /// `host` or `host:port`.
    pub authority: &'a str,
}

/// The scheme a URL must start with to be sent in plain text.
pub const PLAIN_SCHEME: &str = "http://";
/// The scheme of a URL sent over TLS.
pub const TLS_SCHEME: &str = "https://";

/// Reads an `http://` or `https://` URL with a host and, if given, a valid port.
pub fn parse_http(url: &str) -> Result<HttpUrl<'_>, String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix(PLAIN_SCHEME) {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix(TLS_SCHEME) {
        (true, rest)
    } else {
        return Err("a URL starts with http:// or https://".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err("the URL has no host".into());
    }
    if let Some((_, port)) = authority
        .rsplit_once(':')
        .filter(|_| !authority.ends_with(']'))
    {
        if port.parse::<u16>().is_err() {
            return Err(format!("`{port}` is not a port number"));
        }
    }
    Ok(HttpUrl { tls, authority })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_http("https://example.com:8443/x"),
            Ok(HttpUrl {
                tls: true,
                authority: "example.com:8443"
            })
        );
        assert!(!parse_http("http://[::1]/x").unwrap().tls);
        assert!(parse_http("ftp://x").is_err());
        assert!(parse_http("http:///x").is_err());
        assert!(parse_http("http://x:99999/").is_err());
    }
}

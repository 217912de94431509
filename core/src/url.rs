//! The URLs components accept: HTTP endpoints (`http://host:port/path`) for the checker
//! and the `http` sink, and storage locations (`/data/lake`, `file:///data/lake`,
//! `s3://bucket/prefix`) for the checker and the `lake` sink.

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

/// Where a sink stores files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage<'a> {
    /// A local directory (an absolute or relative path, or `file://` + absolute path).
    Local(&'a str),
    /// An S3 bucket and a key prefix without leading or trailing `/` (may be empty).
    S3 { bucket: &'a str, prefix: &'a str },
}

/// The scheme of an S3 location.
pub const S3_SCHEME: &str = "s3://";

/// Reads a storage location: a directory path, `file:///abs/dir`, or
/// `s3://bucket[/prefix]`.
pub fn parse_storage(url: &str) -> Result<Storage<'_>, String> {
    if let Some(rest) = url.strip_prefix(S3_SCHEME) {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("an s3:// URL needs a bucket: \"s3://bucket/prefix\"".into());
        }
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
        if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
            return Err(format!(
                "`{bucket}` is not an S3 bucket name (3 to 63 lowercase letters, digits, `-` and `.`)"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
            && !prefix.is_empty()
        {
            return Err("the key prefix has an empty, `.` or `..` segment".into());
        }
        return Ok(Storage::S3 { bucket, prefix });
    }
    let path = match url.strip_prefix("file://") {
        Some(path) if path.starts_with('/') => path,
        Some(_) => {
            return Err("a file:// URL takes an absolute path: \"file:///data/lake\"".into())
        }
        None if url.contains("://") => {
            return Err("the location is a directory, file:///dir or s3://bucket/prefix".into())
        }
        None => url,
    };
    if path.is_empty() {
        return Err("the directory is empty".into());
    }
    Ok(Storage::Local(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_locations() {
        assert_eq!(
            parse_storage("/data/lake"),
            Ok(Storage::Local("/data/lake"))
        );
        assert_eq!(
            parse_storage("file:///data/lake"),
            Ok(Storage::Local("/data/lake"))
        );
        assert_eq!(
            parse_storage("s3://logs-bucket/raw/web/"),
            Ok(Storage::S3 {
                bucket: "logs-bucket",
                prefix: "raw/web"
            })
        );
        assert_eq!(
            parse_storage("s3://logs-bucket"),
            Ok(Storage::S3 {
                bucket: "logs-bucket",
                prefix: ""
            })
        );
        for bad in [
            "s3://",
            "s3://A_B/x",
            "s3://b/../x",
            "file://rel",
            "gs://x/y",
            "",
        ] {
            assert!(parse_storage(bad).is_err(), "{bad}");
        }
    }

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

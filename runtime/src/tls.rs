//! TLS settings shared by the network components that accept `tls = { ... }`.

use std::path::PathBuf;

use sluice_macros::Params;

/// TLS for a listening source: the server's certificate chain and key, PEM files.
#[derive(Clone, Debug, Params)]
pub struct TlsServerConfig {
    /// PEM file with the certificate chain presented to clients.
    pub cert: PathBuf,
    /// PEM file with the private key of `cert`.
    pub key: PathBuf,
    /// PEM file of CAs; when set, clients must present a certificate signed by one of them.
    pub client_ca: Option<PathBuf>,
}

/// TLS for a connecting sink.
#[derive(Clone, Debug, Params)]
pub struct TlsClientConfig {
    /// PEM file of CAs to trust instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// PEM certificate to present to the server (mutual TLS).
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// Name to verify the server's certificate against (default: the host of the address).
    pub server_name: Option<String>,
    /// Accept any server certificate. For tests only: it defeats TLS.
    #[param(default = "false")]
    pub insecure_skip_verify: bool,
}

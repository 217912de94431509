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

#[cfg(all(
    feature = "tls",
    any(feature = "sink-http", feature = "source-nats", feature = "sink-nats")
))]
pub(crate) use imp::rustls_setup::client as rustls_client;
#[cfg(feature = "agent")]
pub use imp::{acceptor, connector, Acceptor, Connector, NetStream};

#[cfg(feature = "agent")]
mod imp {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    #[cfg(feature = "tls")]
    use std::time::Duration;

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::TcpStream;

    use super::{TlsClientConfig, TlsServerConfig};

    /// How long a client may take to finish the TLS handshake.
    #[cfg(feature = "tls")]
    const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// A TCP connection, plain or wrapped in TLS; what sources read and sinks write.
    pub enum NetStream {
        Plain(TcpStream),
        #[cfg(feature = "tls")]
        Tls(Box<tokio_rustls::TlsStream<TcpStream>>),
    }

    macro_rules! each_stream {
        ($self:ident, $s:ident => $body:expr) => {
            match $self.get_mut() {
                NetStream::Plain($s) => $body,
                #[cfg(feature = "tls")]
                NetStream::Tls($s) => $body,
            }
        };
    }

    impl AsyncRead for NetStream {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            each_stream!(self, s => Pin::new(s).poll_read(cx, buf))
        }
    }

    impl AsyncWrite for NetStream {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            each_stream!(self, s => Pin::new(s).poll_write(cx, buf))
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            each_stream!(self, s => Pin::new(s).poll_flush(cx))
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            each_stream!(self, s => Pin::new(s).poll_shutdown(cx))
        }
    }

    #[cfg(not(feature = "tls"))]
    fn without_tls() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "this agent was built without TLS support; rebuild it with `sluice build`",
        )
    }

    /// Wraps accepted connections in TLS when the source has a `tls` block.
    #[derive(Clone)]
    pub struct Acceptor {
        #[cfg(feature = "tls")]
        inner: tokio_rustls::TlsAcceptor,
    }

    impl Acceptor {
        /// Runs the server side of the handshake, bounded by a timeout so a silent
        /// client cannot hold a connection slot forever.
        pub async fn accept(&self, stream: TcpStream) -> io::Result<NetStream> {
            #[cfg(feature = "tls")]
            {
                let handshake = self.inner.accept(stream);
                let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake)
                    .await
                    .map_err(|_| {
                        io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out")
                    })??;
                Ok(NetStream::Tls(Box::new(tls.into())))
            }
            #[cfg(not(feature = "tls"))]
            {
                drop(stream);
                Err(without_tls())
            }
        }
    }

    /// The acceptor for a source's `tls` block, or `None` to serve plain TCP. Reads
    /// the certificate and key now, so a bad file fails the agent at start.
    pub fn acceptor(config: Option<&TlsServerConfig>) -> io::Result<Option<Acceptor>> {
        let Some(config) = config else {
            return Ok(None);
        };
        #[cfg(feature = "tls")]
        {
            let inner = tokio_rustls::TlsAcceptor::from(rustls_setup::server(config)?);
            Ok(Some(Acceptor { inner }))
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = config;
            Err(without_tls())
        }
    }

    /// Opens client connections, with TLS when the sink has a `tls` block.
    #[derive(Clone)]
    pub struct Connector {
        #[cfg(feature = "tls")]
        tls: Option<(tokio_rustls::TlsConnector, Option<String>)>,
    }

    /// The connector for a sink's `tls` block (`None`: plain TCP). Reads the CA and
    /// client certificate files now.
    pub fn connector(config: Option<&TlsClientConfig>) -> io::Result<Connector> {
        #[cfg(feature = "tls")]
        {
            let tls = match config {
                Some(c) => Some((
                    tokio_rustls::TlsConnector::from(rustls_setup::client(c)?),
                    c.server_name.clone(),
                )),
                None => None,
            };
            Ok(Connector { tls })
        }
        #[cfg(not(feature = "tls"))]
        match config {
            Some(_) => Err(without_tls()),
            None => Ok(Connector {}),
        }
    }

    impl Connector {
        /// Connects to `addr` (`host:port`) and runs the client handshake if needed.
        pub async fn connect(&self, addr: &str) -> io::Result<NetStream> {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            #[cfg(feature = "tls")]
            if let Some((connector, name)) = &self.tls {
                let host = match name {
                    Some(n) => n.clone(),
                    None => host_of(addr).to_owned(),
                };
                let server_name =
                    rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| {
                        io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("server name {host}: {e}"),
                        )
                    })?;
                let tls = connector.connect(server_name, stream).await?;
                return Ok(NetStream::Tls(Box::new(tls.into())));
            }
            Ok(NetStream::Plain(stream))
        }
    }

    /// The host part of `host:port` or `[v6]:port`.
    #[cfg(feature = "tls")]
    fn host_of(addr: &str) -> &str {
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
        host.trim_start_matches('[').trim_end_matches(']')
    }

    #[cfg(feature = "tls")]
    pub(crate) mod rustls_setup {
        //! rustls configurations from the PEM files a `tls` block names.

        use std::io;
        use std::path::Path;
        use std::sync::Arc;

        use rustls::client::danger::{
            HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
        };
        use rustls::crypto::{ring, CryptoProvider};
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
        use rustls::{
            ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
        };

        use super::super::{TlsClientConfig, TlsServerConfig};

        fn provider() -> Arc<CryptoProvider> {
            Arc::new(ring::default_provider())
        }

        fn bad(path: &Path, what: &str, e: impl std::fmt::Display) -> io::Error {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("tls: cannot read {what} from {}: {e}", path.display()),
            )
        }

        fn certs(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(path, "certificates", e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(path, "certificates", e))?;
            if certs.is_empty() {
                return Err(bad(path, "certificates", "no PEM certificate in the file"));
            }
            Ok(certs)
        }

        fn key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
            PrivateKeyDer::from_pem_file(path).map_err(|e| bad(path, "a private key", e))
        }

        fn roots(path: &Path) -> io::Result<RootCertStore> {
            let mut roots = RootCertStore::empty();
            for cert in certs(path)? {
                roots
                    .add(cert)
                    .map_err(|e| bad(path, "a CA certificate", e))?;
            }
            Ok(roots)
        }

        fn tls_error(e: rustls::Error) -> io::Error {
            io::Error::new(io::ErrorKind::InvalidInput, format!("tls: {e}"))
        }

        pub fn server(config: &TlsServerConfig) -> io::Result<Arc<ServerConfig>> {
            let provider = provider();
            let builder = ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(tls_error)?;
            let builder = match &config.client_ca {
                Some(ca) => {
                    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                        Arc::new(roots(ca)?),
                        provider,
                    )
                    .build()
                    .map_err(|e| bad(ca, "client CAs", e))?;
                    builder.with_client_cert_verifier(verifier)
                }
                None => builder.with_no_client_auth(),
            };
            let server = builder
                .with_single_cert(certs(&config.cert)?, key(&config.key)?)
                .map_err(|e| bad(&config.key, "a key matching the certificate", e))?;
            Ok(Arc::new(server))
        }

        pub fn client(config: &TlsClientConfig) -> io::Result<Arc<ClientConfig>> {
            let provider = provider();
            let roots = match &config.ca {
                Some(ca) => roots(ca)?,
                None => {
                    let mut roots = RootCertStore::empty();
                    let native = rustls_native_certs::load_native_certs();
                    roots.add_parsable_certificates(native.certs);
                    roots
                }
            };
            let builder = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(tls_error)?
                .with_root_certificates(roots);
            let mut client = match (&config.cert, &config.key) {
                (Some(cert), Some(key_path)) => builder
                    .with_client_auth_cert(certs(cert)?, key(key_path)?)
                    .map_err(|e| bad(key_path, "a key matching the certificate", e))?,
                (None, None) => builder.with_no_client_auth(),
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "tls: `cert` and `key` must be set together",
                    ))
                }
            };
            if config.insecure_skip_verify {
                tracing::warn!(
                    "tls.insecure_skip_verify is set: server certificates are not checked"
                );
                client
                    .dangerous()
                    .set_certificate_verifier(Arc::new(AcceptAnyServer(provider)));
            }
            Ok(Arc::new(client))
        }

        /// Accepts every server certificate but still checks handshake signatures.
        #[derive(Debug)]
        struct AcceptAnyServer(Arc<CryptoProvider>);

        impl ServerCertVerifier for AcceptAnyServer {
            fn verify_server_cert(
                &self,
                _end_entity: &CertificateDer<'_>,
                _intermediates: &[CertificateDer<'_>],
                _server_name: &ServerName<'_>,
                _ocsp_response: &[u8],
                _now: UnixTime,
            ) -> Result<ServerCertVerified, rustls::Error> {
                Ok(ServerCertVerified::assertion())
            }

            fn verify_tls12_signature(
                &self,
                message: &[u8],
                cert: &CertificateDer<'_>,
                dss: &DigitallySignedStruct,
            ) -> Result<HandshakeSignatureValid, rustls::Error> {
                rustls::crypto::verify_tls12_signature(
                    message,
                    cert,
                    dss,
                    &self.0.signature_verification_algorithms,
                )
            }

            fn verify_tls13_signature(
                &self,
                message: &[u8],
                cert: &CertificateDer<'_>,
                dss: &DigitallySignedStruct,
            ) -> Result<HandshakeSignatureValid, rustls::Error> {
                rustls::crypto::verify_tls13_signature(
                    message,
                    cert,
                    dss,
                    &self.0.signature_verification_algorithms,
                )
            }

            fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
                self.0.signature_verification_algorithms.supported_schemes()
            }
        }
    }
}

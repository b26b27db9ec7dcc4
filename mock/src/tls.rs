//! HTTPS listeners (rustls, HTTP/1.1 only).
//!
//! Real providers are reached over TLS, with Envoy choosing the SNI; serving
//! TLS lets the end-to-end suite check that each upstream cluster sends the
//! right server name and trusts the right CA. The `ring` provider keeps the
//! build free of cmake.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Server config from a PEM certificate chain and a PEM private key.
pub fn server_config(cert_path: &str, key_path: &str) -> Result<Arc<ServerConfig>, String> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read certificates from {cert_path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {cert_path}"));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| format!("cannot read private key from {key_path}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key from {cert_path}, {key_path}: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub type Stream = StreamOwned<ServerConnection, TcpStream>;

/// Runs the handshake; returns the stream and the SNI the client sent.
pub fn accept(
    config: Arc<ServerConfig>,
    mut tcp: TcpStream,
) -> io::Result<(Stream, Option<String>)> {
    let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
    tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    tcp.set_read_timeout(None)?;
    let sni = conn.server_name().map(str::to_string);
    Ok((StreamOwned::new(conn, tcp), sni))
}

/// Sends close_notify and closes the socket (a clean end of a connection).
pub fn close(stream: &RefCell<Stream>) {
    let mut s = stream.borrow_mut();
    s.conn.send_close_notify();
    let _ = s.flush();
    let _ = s.sock.shutdown(std::net::Shutdown::Both);
}

/// One half of a TLS stream shared by the reader and the writer of a
/// connection (both live on the connection's thread, one call at a time).
pub struct Half<'a>(pub &'a RefCell<Stream>);

impl Read for Half<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.borrow_mut().read(buf)
    }
}

impl Write for Half<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

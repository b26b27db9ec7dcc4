//! End-to-end test of a TLS listener: certificates from scripts/gen-cert.sh
//! (openssl CLI), a rustls client, and the SNI recorded per request.

use std::io::BufReader;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::json;

use crate::e2e_tests::{post, simple};
use crate::server::{spawn_with, Options, Provider};
use crate::tls::server_config;

type Client = BufReader<StreamOwned<ClientConnection, TcpStream>>;

/// A fresh directory with ca.crt, server.crt and server.key.
fn gen_certs() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir =
        std::env::temp_dir().join(format!("modelmux-mock-tls-{}-{nanos}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/gen-cert.sh");
    let out = Command::new("bash").arg(script).arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn tls_connect(addr: std::net::SocketAddr, ca: &Path, sni: &str) -> Client {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(sni.to_string()).unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    BufReader::new(StreamOwned::new(conn, tcp))
}

#[test]
fn tls_round_trip_records_sni() {
    let dir = gen_certs();
    let config = server_config(
        dir.join("server.crt").to_str().unwrap(),
        dir.join("server.key").to_str().unwrap(),
    )
    .unwrap();
    let opts = Options {
        label: "anthropic-tls",
        provider: Provider::Anthropic,
        addr: "127.0.0.1:0",
        key: "ak",
        tls: Some(config),
        base: None,
    };
    let (addr, _) = spawn_with(opts).unwrap();
    let ca = dir.join("ca.crt");

    let mut c = tls_connect(addr, &ca, "anthropic.mock.test");
    assert_eq!(
        simple(&mut c, "GET", "/_mock/health").json(),
        json!({"ok": true})
    );
    let headers = [
        ("x-api-key", "ak"),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    let body = json!({"model": "claude", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]});
    let resp = post(&mut c, "/v1/messages", &headers, &body);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json()["content"][0]["text"],
        "Mock reply ✓ from claude: hi"
    );

    // A second connection with another name in the certificate.
    let mut c2 = tls_connect(addr, &ca, "localhost");
    let resp = post(&mut c2, "/v1/messages", &headers[..1], &body);
    assert_eq!(resp.status, 400);

    let log = simple(&mut c, "GET", "/_mock/requests").json();
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[0]["sni"], "anthropic.mock.test");
    assert_eq!(log[1]["sni"], "localhost");
    let _ = std::fs::remove_dir_all(&dir);
}

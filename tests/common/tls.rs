//! The test certificate as a rustls server configuration, shared by the
//! https test server (`tests/common`) and `mock_api --tls` (benchmarks).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A file in `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A server configuration for `localhost`, `127.0.0.1` and `::1`, signed by
/// the test CA `tests/fixtures/ca.pem`.
pub fn server_config() -> Arc<rustls::ServerConfig> {
    let certs = CertificateDer::pem_file_iter(fixture("server.pem"))
        .expect("read server.pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("parse server.pem");
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("read server.key");
    Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("a valid certificate and key"),
    )
}

//! `--ca-cert` / `OCD_CRON_CA_CERT`: a PEM bundle of CAs trusted instead of
//! the system store, for deployments behind an internal CA.

use std::path::Path;

use ureq::tls::{Certificate, PemItem};

use crate::error::Error;
use crate::files;

/// The certificates of a PEM bundle; anything else in it is ignored.
pub(super) fn read_bundle(path: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let fail = |why: String| {
        Error::Config(format!(
            "{} {} {why}; it must be a PEM file of CA certificates",
            crate::setting::CA_CERT,
            path.display()
        ))
    };
    let pem = files::read(path, files::CA_BUNDLE).map_err(|e| fail(e.to_string()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(_) => return Err(fail("is not valid PEM".into())),
        }
    }
    if certs.is_empty() {
        return Err(fail("contains no certificate".into()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not pem at all\n").unwrap();
        let err = read_bundle(&path).unwrap_err();
        assert_eq!(err.exit_code(), 78);
        assert!(err.to_string().contains("contains no certificate"), "{err}");
        let err = read_bundle(&dir.path().join("missing.pem")).unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
    }
}

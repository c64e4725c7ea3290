//! The probe's TLS client (rustls with the ring provider, TLS 1.2 and 1.3) and what Cloudflare
//! trusts in Full (strict) mode.
//!
//! Full (strict) accepts an origin certificate that is unexpired, issued "by a publicly
//! trusted certificate authority" (Cloudflare's own `cfssl_trust` store) "or Cloudflare's
//! Origin CA", and whose Common Name or Subject Alternative Name matches the requested or
//! target hostname (developers.cloudflare.com/ssl/origin-configuration/ssl-modes/full-strict/).
//! The probe trusts:
//!
//! - the Mozilla root program as compiled into `webpki-roots`: like Cloudflare's store, a
//!   public store that does not depend on the machine the probe runs on. The machine's own
//!   store (`/etc/ssl/certs`) may hold private CAs that Cloudflare never trusts, which would
//!   hide a 526, and may lack public roots on minimal hosts;
//! - Cloudflare's Origin CA roots, ECC and RSA (both valid until 2029-08-15), embedded from
//!   `origin_ca.pem` beside this module: copied from Cloudflare's own `cloudflared`
//!   (`tlsconfig/cloudflare_ca.go`), checked self-signed with `openssl verify`, and the ones
//!   Cloudflare publishes as `origin_ca_ecc_root.pem` and `origin_ca_rsa_root.pem`
//!   (developers.cloudflare.com/ssl/origin-configuration/origin-ca/);
//! - the trust anchors given with `--ca` (PEM), e.g. a private CA added to a zone's Custom
//!   Origin Trust Store.
//!
//! The verifier wraps rustls' WebPKI verifier: it records the certificate and the verdict,
//! and lets the handshake go on when the verdict is negative, so that a handshake that fails
//! (Cloudflare's 525) and a certificate that is not valid (526) are told apart, and so that
//! Full mode, which accepts any certificate, can still fetch the page. Handshake signatures
//! are still checked against the presented key.
//!
//! Limits: rustls speaks TLS 1.2 and 1.3 only, with modern cipher suites; an origin that
//! offers only TLS 1.0/1.1 or only CBC suites fails here (525) though Cloudflare may still
//! connect to it.

use std::io;
use std::net::TcpStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct};
use rustls::{RootCertStore, SignatureScheme, StreamOwned};

use super::cert::{describe, CertificateInfo};

/// Cloudflare's Origin CA roots (see the module documentation for their source).
pub const ORIGIN_CA_PEM: &str = include_str!("origin_ca.pem");

/// The certificates of a PEM text; an error when there is none or one does not parse.
pub fn parse_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        certs.push(item.map_err(|e| format!("not a PEM certificate: {e}"))?);
    }
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into());
    }
    Ok(certs)
}

/// The trust store: public roots, Cloudflare's Origin CA and `extra`.
fn roots(extra: &[CertificateDer<'static>]) -> Result<RootCertStore, String> {
    let mut store = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let origin_ca = parse_pem(ORIGIN_CA_PEM.as_bytes())?;
    for cert in origin_ca.into_iter().chain(extra.iter().cloned()) {
        store
            .add(cert)
            .map_err(|e| format!("a trust anchor is not usable: {e}"))?;
    }
    Ok(store)
}

/// What the verifier saw: the presented end-entity certificate and, when it is not valid for
/// Full (strict), why.
#[derive(Debug, Default)]
struct Seen {
    leaf: Option<Vec<u8>>,
    problem: Option<String>,
}

/// rustls' WebPKI verifier, recording instead of refusing.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.leaf = Some(end_entity.to_vec());
        seen.problem = verdict.err().map(|e| certificate_problem(&e, server_name));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why a certificate is not valid, in words.
fn certificate_problem(e: &rustls::Error, name: &ServerName<'_>) -> String {
    let name = name.to_str();
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".into(),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not valid yet".into()
            }
            CertificateError::UnknownIssuer => "issued by an authority that is not trusted \
                 (self-signed, or a CA that is neither public nor Cloudflare's Origin CA)"
                .into(),
            CertificateError::NotValidForName => format!("not valid for {name}"),
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "not valid for {name} (it names {})",
                if presented.is_empty() {
                    "nothing".to_string()
                } else {
                    presented
                        .iter()
                        .map(|n| presented_name(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            CertificateError::Revoked => "revoked".into(),
            other => format!("invalid: {other:?}"),
        },
        other => format!("invalid: {other}"),
    }
}

/// A name as rustls presents it (`DnsName("a.example")`, `IpAddress(…)`), without the wrapper.
fn presented_name(n: &str) -> &str {
    n.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .unwrap_or(n)
}

/// The TLS step as the report shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlsStep {
    /// The name sent as SNI and checked against the certificate.
    pub sni: String,
    /// Handshake time in milliseconds, when it completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_ms: Option<u64>,
    /// `TLSv1.3`, `TLSv1.2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The negotiated cipher suite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// The certificate presented, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo>,
    /// Why the certificate is not valid for Full (strict), when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_problem: Option<String>,
    /// Why the handshake failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A finished handshake's stream.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// Runs the handshake on `tcp` (its timeouts already set) for `sni`, trusting the public
/// roots, the Origin CA and `extra`. The stream when it completed, and the step either way;
/// `Err` only for a bad name or trust anchor.
pub fn handshake(
    tcp: TcpStream,
    sni: &str,
    extra: &[CertificateDer<'static>],
    read_timeout: Duration,
) -> Result<(Option<TlsStream>, TlsStep), String> {
    let name = ServerName::try_from(sni.to_string())
        .map_err(|_| format!("{sni:?} is not a valid TLS server name"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots(extra)?), provider.clone())
            .build()
            .map_err(|e| format!("trust store: {e}"))?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let verifier = Arc::new(RecordingVerifier {
        inner,
        seen: seen.clone(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let conn =
        ClientConnection::new(Arc::new(config), name).map_err(|e| format!("TLS client: {e}"))?;
    let mut stream = StreamOwned::new(conn, tcp);
    let start = Instant::now();
    let mut step = TlsStep {
        sni: sni.to_string(),
        ..TlsStep::default()
    };
    let result = loop {
        if !stream.conn.is_handshaking() {
            break Ok(());
        }
        if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
            break Err(e);
        }
    };
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
    step.certificate = seen.leaf.as_deref().and_then(describe);
    step.certificate_problem = seen.problem;
    match result {
        Ok(()) => {
            step.handshake_ms = Some(millis(start.elapsed()));
            step.version = stream
                .conn
                .protocol_version()
                .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1."));
            step.cipher = stream
                .conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()));
            Ok((Some(stream), step))
        }
        Err(e) => {
            step.error = Some(handshake_error(&e, read_timeout));
            Ok((None, step))
        }
    }
}

/// A failed handshake in words.
fn handshake_error(e: &io::Error, read_timeout: Duration) -> String {
    if super::http::is_timeout(e) {
        return format!(
            "no TLS answer within the read timeout ({})",
            super::seconds(read_timeout)
        );
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            "the origin closed the connection during the handshake".into()
        }
        io::ErrorKind::ConnectionReset => {
            "the origin reset the connection during the handshake".into()
        }
        _ => match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(rustls::Error::InvalidMessage(m)) => {
                format!("the origin's answer is not TLS ({m:?}): plain HTTP on a TLS port?")
            }
            Some(rustls::Error::AlertReceived(alert)) => {
                format!("the origin refused the handshake (alert {alert:?}): no protocol version or cipher suite in common, or no certificate for this SNI")
            }
            Some(other) => other.to_string(),
            None => e.to_string(),
        },
    }
}

/// Whole milliseconds.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_ca_roots_load() {
        let certs = parse_pem(ORIGIN_CA_PEM.as_bytes()).unwrap();
        assert_eq!(certs.len(), 2);
        let subjects: Vec<String> = certs.iter().map(|c| describe(c).unwrap().subject).collect();
        assert!(subjects[0].contains("OU=CloudFlare Origin SSL ECC Certificate Authority"));
        assert!(subjects[1].contains("OU=CloudFlare Origin SSL Certificate Authority"));
        let store = roots(&[]).unwrap();
        assert_eq!(store.len(), webpki_roots::TLS_SERVER_ROOTS.len() + 2);
    }

    #[test]
    fn presented_names() {
        assert_eq!(presented_name("DnsName(\"a.example\")"), "a.example");
        assert_eq!(presented_name("IpAddress(V4(..))"), "IpAddress(V4(..))");
    }

    #[test]
    fn bad_pem() {
        assert!(parse_pem(b"hello")
            .unwrap_err()
            .contains("no PEM certificate"));
        assert!(
            parse_pem(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err()
        );
    }
}

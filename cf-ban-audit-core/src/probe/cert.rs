//! What the probe shows of the origin's certificate: subject, issuer, validity and the names
//! it holds, read from the DER of the end-entity certificate (RFC 5280 section 4.1) by a small
//! reader that never panics and gives up (`None`) on anything it does not understand. The
//! verdict on the certificate is rustls' (WebPKI's); this is only what people read.

use serde::Serialize;

/// The certificate the origin presented, as people read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// The subject, `CN=…, O=…` (the attributes people know).
    pub subject: String,
    /// The issuer, in the same form.
    pub issuer: String,
    /// Start of validity, `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_before: String,
    /// End of validity, `YYYY-MM-DDTHH:MM:SSZ`.
    pub not_after: String,
    /// The DNS names and addresses of its subject alternative names.
    pub names: Vec<String>,
    /// Whether subject and issuer are the same name (a self-signed certificate or a root).
    pub self_issued: bool,
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// One DER element: its tag, its contents and what follows it; `None` when `input` does not
/// start with a whole element (definite lengths of up to four bytes only).
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in input.get(2..2 + n)? {
            len = (len << 8) | usize::from(*b);
        }
        (len, 2 + n)
    };
    let end = head.checked_add(len)?;
    Some((tag, input.get(head..end)?, input.get(end..)?))
}

/// The contents of the element with `tag` at the start of `input`, and what follows.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, content, rest) = element(input)?;
    (t == tag).then_some((content, rest))
}

/// Reads the end-entity certificate `der`; `None` when it is not a certificate this reader
/// understands.
pub fn describe(der: &[u8]) -> Option<CertificateInfo> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (tbs, _) = expect(cert, SEQUENCE)?;
    let mut rest = tbs;
    // [0] EXPLICIT version, optional.
    if rest.first() == Some(&0xa0) {
        rest = element(rest)?.2;
    }
    let (_tag, _serial, r) = element(rest)?;
    let (_algorithm, r) = expect(r, SEQUENCE)?;
    let (issuer, r) = expect(r, SEQUENCE)?;
    let (validity, r) = expect(r, SEQUENCE)?;
    let (subject, r) = expect(r, SEQUENCE)?;
    let (_key, mut r) = expect(r, SEQUENCE)?;
    let mut names = Vec::new();
    while let Some((tag, content, next)) = element(r) {
        if tag == 0xa3 {
            if let Some((extensions, _)) = expect(content, SEQUENCE) {
                names = alt_names(extensions);
            }
        }
        r = next;
    }
    let (not_before, after) = time(validity)?;
    let (not_after, _) = time(after)?;
    Some(CertificateInfo {
        subject: name(subject),
        issuer: name(issuer),
        not_before,
        not_after,
        names,
        self_issued: subject == issuer,
    })
}

/// A `Time` (UTCTime or GeneralizedTime) as `YYYY-MM-DDTHH:MM:SSZ`, and what follows it.
fn time(input: &[u8]) -> Option<(String, &[u8])> {
    let (tag, content, rest) = element(input)?;
    let text = std::str::from_utf8(content).ok()?;
    if !text.ends_with('Z') || !text[..text.len() - 1].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = &text[..text.len() - 1];
    let full = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
            let century = if digits < "50" { "20" } else { "19" };
            format!("{century}{digits}")
        }
        (GENERALIZED_TIME, 14) => digits.to_string(),
        _ => return None,
    };
    let f = |a: usize, b: usize| &full[a..b];
    Some((
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            f(0, 4),
            f(4, 6),
            f(6, 8),
            f(8, 10),
            f(10, 12),
            f(12, 14)
        ),
        rest,
    ))
}

/// A distinguished name as `CN=…, O=…`, in the certificate's order; attributes other than
/// the usual ones are left out, values that are not text are shown as `?`.
fn name(mut rdns: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((content, rest)) = expect(rdns, SET) {
        let mut set = content;
        while let Some((attribute, next)) = expect(set, SEQUENCE) {
            if let Some((oid, value)) = expect(attribute, OID) {
                if let Some(label) = attribute_label(oid) {
                    parts.push(format!("{label}={}", string_value(value)));
                }
            }
            set = next;
        }
        rdns = rest;
    }
    parts.join(", ")
}

/// The short label of an X.520 attribute type (2.5.4.x) or of emailAddress.
fn attribute_label(oid: &[u8]) -> Option<&'static str> {
    match oid {
        [0x55, 0x04, 0x03] => Some("CN"),
        [0x55, 0x04, 0x06] => Some("C"),
        [0x55, 0x04, 0x07] => Some("L"),
        [0x55, 0x04, 0x08] => Some("ST"),
        [0x55, 0x04, 0x0a] => Some("O"),
        [0x55, 0x04, 0x0b] => Some("OU"),
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => Some("emailAddress"),
        _ => None,
    }
}

/// A directory string's text: UTF8String, PrintableString, IA5String and T61String as
/// (lossy) UTF-8, BMPString as UTF-16; anything else `?`.
fn string_value(value: &[u8]) -> String {
    match element(value) {
        Some((0x0c | 0x13 | 0x16 | 0x14, content, _)) => {
            String::from_utf8_lossy(content).into_owned()
        }
        Some((0x1e, content, _)) => {
            let units: Vec<u16> = content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => "?".into(),
    }
}

/// The DNS names and IP addresses of the subjectAltName extension (2.5.29.17).
fn alt_names(mut extensions: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    while let Some((extension, rest)) = expect(extensions, SEQUENCE) {
        extensions = rest;
        let Some((oid, mut r)) = expect(extension, OID) else {
            continue;
        };
        if oid != [0x55, 0x1d, 0x11] {
            continue;
        }
        if r.first() == Some(&BOOLEAN) {
            r = element(r).map(|e| e.2).unwrap_or_default();
        }
        let Some((octets, _)) = expect(r, OCTET_STRING) else {
            continue;
        };
        let Some((mut general, _)) = expect(octets, SEQUENCE) else {
            continue;
        };
        while let Some((tag, content, next)) = element(general) {
            match (tag, content.len()) {
                (0x82, _) => names.push(String::from_utf8_lossy(content).into_owned()),
                (0x87, 4) => {
                    let b: [u8; 4] = content.try_into().unwrap_or_default();
                    names.push(std::net::Ipv4Addr::from(b).to_string());
                }
                (0x87, 16) => {
                    let b: [u8; 16] = content.try_into().unwrap_or_default();
                    names.push(std::net::Ipv6Addr::from(b).to_string());
                }
                _ => {}
            }
            general = next;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The Cloudflare Origin CA RSA root embedded beside this module.
    fn origin_rsa_root() -> Vec<u8> {
        let pem = include_str!("origin_ca.pem");
        let mut blocks = pem.split("-----BEGIN CERTIFICATE-----").skip(2);
        let body: String = blocks
            .next()
            .unwrap()
            .split("-----END CERTIFICATE-----")
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        decode_base64(&body)
    }

    fn decode_base64(text: &str) -> Vec<u8> {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in text.bytes().filter(|&c| c != b'=') {
            let v = alphabet.iter().position(|&a| a == c).unwrap() as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }

    #[test]
    fn reads_a_real_root() {
        let info = describe(&origin_rsa_root()).unwrap();
        assert_eq!(
            info.subject,
            "C=US, O=CloudFlare, Inc., OU=CloudFlare Origin SSL Certificate Authority, L=San Francisco, ST=California"
        );
        assert_eq!(info.issuer, info.subject);
        assert!(info.self_issued);
        assert_eq!(
            (info.not_before.as_str(), info.not_after.as_str()),
            ("2019-08-23T21:08:00Z", "2029-08-15T17:00:00Z")
        );
        assert!(info.names.is_empty());
    }

    #[test]
    fn truncated_certificates_give_none() {
        let der = origin_rsa_root();
        for cut in 0..der.len() {
            assert!(describe(&der[..cut]).is_none(), "{cut}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = describe(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_certificates(i in 0usize..1024, b in any::<u8>()) {
            let mut der = origin_rsa_root();
            let n = der.len();
            der[i % n] = b;
            let _ = describe(&der);
        }
    }
}

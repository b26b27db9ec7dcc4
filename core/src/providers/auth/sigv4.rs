//! AWS Signature Version 4 of the finished upstream request (Bedrock).
//!
//! What is signed, and why:
//! * Method `POST`, the canonical URI, an empty canonical query (the
//!   translators put nothing in the query), and the SHA-256 of the exact
//!   body that is sent, hashed once.
//! * The canonical URI is the path percent-encoded *again*: the translator
//!   already encoded the model id as one path segment (`:` → `%3A`, `/` →
//!   `%2F`), and for every service but S3 SigV4 encodes each byte of the
//!   path outside the unreserved set and `/`, so `%3A` becomes `%253A`.
//!   That is what botocore does, so it is what AWS verifies.
//! * Signed headers: `content-type` (when the translator set it), `host`
//!   (the `:authority` the request goes to), `x-amz-date`, and
//!   `x-amz-security-token` when a session token is configured. No
//!   `x-amz-content-sha256` header is sent: botocore sends none for
//!   Bedrock, the payload hash is still part of the canonical request.
//!   Other headers the shell forwards are not signed, which SigV4 allows.
//! * The time is the gateway's clock, formatted as `YYYYMMDD'T'HHMMSS'Z'`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::error::ApiError;
use crate::providers::Outbound;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Long-term or temporary AWS credentials and where they sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4 {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    /// Temporary credentials' session token (`x-amz-security-token`).
    pub session_token: Option<Secret>,
    pub region: String,
    /// The signing name, `bedrock` for Bedrock Runtime.
    pub service: &'static str,
}

impl SigV4 {
    /// Adds `x-amz-date`, `x-amz-security-token` (if any) and
    /// `authorization` to `out`, bound for `host`, at `now_unix_secs`.
    pub fn sign(&self, out: &mut Outbound, host: &str, now_unix_secs: u64) -> Result<(), ApiError> {
        let amz_date = amz_date(now_unix_secs);
        let date = amz_date.get(..8).unwrap_or_default().to_string();
        out.headers.push(("x-amz-date", amz_date.clone()));
        if let Some(token) = &self.session_token {
            out.headers
                .push(("x-amz-security-token", token.expose().to_string()));
        }
        let (signed_headers, canonical_headers) = canonical_headers(out, host);
        let (path, query) = out.path.split_once('?').unwrap_or((&out.path, ""));
        let payload = hex(&Sha256::digest(out.body.as_deref().unwrap_or_default()));
        let canonical = format!(
            "POST\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload}",
            uri_encode_path(path),
            canonical_query(query),
        );
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let to_sign = format!(
            "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let secret = format!("AWS4{}", self.secret_access_key.expose());
        let mut key = hmac(secret.as_bytes(), date.as_bytes())?;
        for part in [self.region.as_str(), self.service, "aws4_request"] {
            key = hmac(&key, part.as_bytes())?;
        }
        let signature = hex(&hmac(&key, to_sign.as_bytes())?);
        out.headers.push((
            "authorization",
            format!(
                "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                self.access_key_id.expose()
            ),
        ));
        Ok(())
    }
}

const SIGNED: &[&str] = &["content-type", "x-amz-date", "x-amz-security-token"];

/// `(signed header names, canonical header lines)`, sorted by name.
fn canonical_headers(out: &Outbound, host: &str) -> (String, String) {
    let mut headers: Vec<(&str, &str)> = out
        .headers
        .iter()
        .filter(|(n, _)| SIGNED.contains(n))
        .map(|(n, v)| (*n, v.trim()))
        .collect();
    headers.push(("host", host));
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let mut lines = String::new();
    for (n, v) in &headers {
        lines.push_str(n);
        lines.push(':');
        lines.push_str(v);
        lines.push('\n');
    }
    (names.join(";"), lines)
}

/// The query's `name=value` pairs (already percent-encoded) sorted.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort_unstable();
    let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("&")
}

/// Percent-encodes every byte but the unreserved set and `/`.
pub fn uri_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + path.len() / 4);
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| ApiError::internal("cannot build the SigV4 signing key"))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.push(char::from(
                *DIGITS.get(usize::from(nibble)).unwrap_or(&b'0'),
            ));
        }
    }
    s
}

/// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
pub fn amz_date(unix_secs: u64) -> String {
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request of `core/tests/fixtures/bedrock/sigv4_vector.py`.
    const HOST: &str = "bedrock-runtime.us-east-1.amazonaws.com";
    const PATH: &str = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-sonnet-4-20250514-v1%3A0/converse";
    const BODY: &[u8] = br#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#;
    const NOW: u64 = 1_767_323_045;
    const SCOPE: &str = "Credential=AKIDEXAMPLE/20260102/us-east-1/bedrock/aws4_request";

    fn signer(token: Option<&str>) -> SigV4 {
        SigV4 {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: token.map(Secret::new),
            region: "us-east-1".to_string(),
            service: "bedrock",
        }
    }

    fn signed(token: Option<&str>, body: &[u8]) -> Vec<(&'static str, String)> {
        let mut out = Outbound {
            path: PATH.to_string(),
            headers: vec![("content-type", "application/json".to_string())],
            body: Some(body.to_vec()),
        };
        signer(token).sign(&mut out, HOST, NOW).unwrap();
        out.headers
    }

    fn header<'h>(h: &'h [(&'static str, String)], name: &str) -> Option<&'h str> {
        h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn matches_botocore() {
        let h = signed(None, BODY);
        assert_eq!(header(&h, "x-amz-date"), Some("20260102T030405Z"));
        assert_eq!(header(&h, "x-amz-security-token"), None);
        let want = format!("AWS4-HMAC-SHA256 {SCOPE}, SignedHeaders=content-type;host;x-amz-date, Signature=d628e051f77ef52fe046d66d5b145d04d17c9c083e8c3b2eb189363144cc5134");
        assert_eq!(header(&h, "authorization"), Some(want.as_str()));
    }

    #[test]
    fn matches_botocore_with_a_session_token() {
        let h = signed(Some("FQoGZXIvYXdzEXAMPLETOKEN"), BODY);
        assert_eq!(
            header(&h, "x-amz-security-token"),
            Some("FQoGZXIvYXdzEXAMPLETOKEN")
        );
        let want = format!("AWS4-HMAC-SHA256 {SCOPE}, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=b313acba1605b32c3e734410263abe5708f6db4883963823e2706f4d33de5315");
        assert_eq!(header(&h, "authorization"), Some(want.as_str()));
    }

    #[test]
    fn the_body_is_signed() {
        let h = signed(None, br#"{"messages":[]}"#);
        let want = format!("AWS4-HMAC-SHA256 {SCOPE}, SignedHeaders=content-type;host;x-amz-date, Signature=8552e21231f8d0529aa87005dbf837142698419315cfac765aa6631ea58b6c91");
        assert_eq!(header(&h, "authorization"), Some(want.as_str()));
    }

    #[test]
    fn encodes_the_path_again() {
        assert_eq!(
            uri_encode_path("/model/a%3Ab/converse"),
            "/model/a%253Ab/converse"
        );
        assert_eq!(uri_encode_path("/a b/é"), "/a%20b/%C3%A9");
    }

    #[test]
    fn formats_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(NOW), "20260102T030405Z");
        assert_eq!(amz_date(4_102_444_799), "20991231T235959Z");
    }
}

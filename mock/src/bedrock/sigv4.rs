//! Credential checks: a Bedrock API key, or an AWS Signature Version 4
//! verified from the request as received.
//!
//! The signature is rebuilt from what came over the wire, never from a
//! signer's view of the request: the raw path (SigV4 encodes it once more
//! for every service but S3, so an SDK's `%3A` in a model id is `%253A` in
//! the canonical request), the query re-encoded and sorted, the signed
//! headers' values trimmed with inner runs of spaces collapsed, and the
//! SHA-256 of the body bytes received. A gateway that re-encodes the path,
//! changes the body after signing or signs a header it then rewrites fails
//! here the way it would against AWS.
//!
//! Error types and messages are the AWS front end's: 403 for all of them on
//! this JSON protocol (`MissingAuthenticationTokenException`,
//! `IncompleteSignatureException`, `UnrecognizedClientException`,
//! `InvalidSignatureException`); the clock skew allowed is 5 minutes.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{error_with, front_error, CORAL_NS};
use crate::faults::Response;
use crate::http::Request;
use crate::server::Listener;

type HmacSha256 = Hmac<Sha256>;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "bedrock";
const MAX_SKEW_SECS: i64 = 5 * 60;

/// The AWS identity a Bedrock listener accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Aws {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
    /// When set, requests must carry it (signed) in `x-amz-security-token`.
    pub session_token: Option<String>,
}

impl Default for Aws {
    fn default() -> Self {
        Aws {
            access_key_id: "AKIDMOCKBEDROCK".into(),
            secret_access_key: "mock-bedrock-secret".into(),
            region: "us-east-1".into(),
            session_token: None,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const BAD_TOKEN: &str = "The security token included in the request is invalid.";

fn invalid_signature(message: &str) -> Response {
    front_error(403, "InvalidSignatureException", message)
}

fn incomplete(message: &str) -> Response {
    front_error(403, "IncompleteSignatureException", message)
}

fn unrecognized() -> Response {
    front_error(403, "UnrecognizedClientException", BAD_TOKEN)
}

/// Accepts a valid API key or SigV4 signature; `now` in epoch seconds.
pub fn authenticate(state: &Listener, req: &Request, now: i64) -> Result<(), Response> {
    let Some(auth) = req.header("authorization") else {
        return Err(front_error(
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    if let Some(key) = auth.strip_prefix("Bearer ") {
        if key.trim() == state.key {
            return Ok(());
        }
        let body = serde_json::json!({"Message": "Authentication failed: Please make sure your API Key is valid."});
        return Err(error_with(403, "AccessDeniedException", CORAL_NS, body));
    }
    match auth.strip_prefix(ALGORITHM).filter(|r| r.starts_with(' ')) {
        Some(params) => verify(req, &state.aws, params, now),
        None => Err(incomplete(&format!(
            "Authorization header requires '{ALGORITHM}' or 'Bearer' scheme."
        ))),
    }
}

/// The parts of `Credential=AK/DATE/REGION/SERVICE/aws4_request`.
struct Scope<'a> {
    key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

fn param<'a>(params: &'a str, name: &str) -> Option<&'a str> {
    params
        .split(',')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn scope(credential: &str) -> Result<Scope<'_>, Response> {
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [key_id, date, region, service, "aws4_request"] => Ok(Scope {
            key_id,
            date,
            region,
            service,
        }),
        [.., last] if parts.len() == 5 => Err(invalid_signature(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{last}'. "
        ))),
        _ => Err(incomplete(&format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
            parts.first().map_or("", |k| k)
        ))),
    }
}

fn verify(req: &Request, aws: &Aws, params: &str, now: i64) -> Result<(), Response> {
    let (Some(credential), Some(signed), Some(signature)) = (
        param(params, "Credential"),
        param(params, "SignedHeaders"),
        param(params, "Signature"),
    ) else {
        return Err(incomplete("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."));
    };
    let scope = scope(credential)?;
    if scope.key_id != aws.access_key_id {
        return Err(unrecognized());
    }
    let Some(amz_date) = req.header("x-amz-date") else {
        return Err(incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    check_scope(&scope, aws, amz_date, now)?;
    let signed: Vec<&str> = signed.split(';').collect();
    if !signed.contains(&"host") {
        return Err(invalid_signature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    check_token(req, aws, &signed)?;
    let body_hash = hex(&Sha256::digest(&req.body));
    if req
        .header("x-amz-content-sha256")
        .is_some_and(|h| h != body_hash && h != "UNSIGNED-PAYLOAD")
    {
        return Err(invalid_signature(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    let canonical = canonical_request(req, &signed, &body_hash);
    let scope_text = format!(
        "{}/{}/{}/aws4_request",
        scope.date, scope.region, scope.service
    );
    let to_sign = string_to_sign(amz_date, &scope_text, &canonical);
    let key = signing_key(
        &aws.secret_access_key,
        scope.date,
        scope.region,
        scope.service,
    );
    let given = unhex(signature).ok_or_else(|| invalid_signature(MISMATCH))?;
    let mut mac = HmacSha256::new_from_slice(&key).map_err(|_| invalid_signature(MISMATCH))?;
    mac.update(to_sign.as_bytes());
    // Constant time, so a client can't learn the signature byte by byte.
    mac.verify_slice(&given)
        .map_err(|_| invalid_signature(MISMATCH))
}

fn check_scope(scope: &Scope<'_>, aws: &Aws, amz_date: &str, now: i64) -> Result<(), Response> {
    let Some(at) = parse_amz_date(amz_date) else {
        return Err(incomplete(&format!("Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601")));
    };
    let day = amz_date.get(..8).unwrap_or("");
    if scope.date != day {
        return Err(invalid_signature(&format!("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{amz_date}'.", scope.date)));
    }
    if scope.region != aws.region {
        return Err(invalid_signature(&format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            scope.region
        )));
    }
    if scope.service != SERVICE {
        return Err(invalid_signature(&format!(
            "Credential should be scoped to correct service: '{SERVICE}'. "
        )));
    }
    let skew = format_amz_date(now - MAX_SKEW_SECS);
    if at < now - MAX_SKEW_SECS {
        let message = format!(
            "Signature expired: {amz_date} is now earlier than {skew} ({} - 5 min.)",
            format_amz_date(now)
        );
        return Err(invalid_signature(&message));
    }
    if at > now + MAX_SKEW_SECS {
        let message = format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 5 min.)",
            format_amz_date(now + MAX_SKEW_SECS),
            format_amz_date(now)
        );
        return Err(invalid_signature(&message));
    }
    Ok(())
}

/// A configured session token must be sent and signed; none may be sent
/// when none is configured.
fn check_token(req: &Request, aws: &Aws, signed: &[&str]) -> Result<(), Response> {
    let sent = req.header("x-amz-security-token");
    let ok = match (&aws.session_token, sent) {
        (None, None) => true,
        (Some(want), Some(got)) => want == got && signed.contains(&"x-amz-security-token"),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(unrecognized())
    }
}

/// SigV4 URI encoding: unreserved characters kept, `/` kept if `path`.
pub fn uri_encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (path && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn canonical_query(target: &str) -> String {
    let Some((_, query)) = target.split_once('?') else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let enc =
                |s: &str| uri_encode(&super::percent_decode(s).unwrap_or_else(|| s.into()), false);
            (enc(k), enc(v))
        })
        .collect();
    pairs.sort();
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    joined.join("&")
}

/// A header's canonical value: every value sent, trimmed, inner runs of
/// whitespace collapsed, joined with `,`.
fn header_value(req: &Request, name: &str) -> String {
    let values: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    values.join(",")
}

/// The canonical request of the received `req`.
pub fn canonical_request(req: &Request, signed: &[&str], body_hash: &str) -> String {
    let path = match req.path() {
        "" => "/",
        p => p,
    };
    let headers: String = signed
        .iter()
        .map(|h| format!("{h}:{}\n", header_value(req, h)))
        .collect();
    format!(
        "{}\n{}\n{}\n{headers}\n{}\n{body_hash}",
        req.method,
        uri_encode(path, true),
        canonical_query(&req.target),
        signed.join(";"),
    )
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical: &str) -> String {
    let hash = hex(&Sha256::digest(canonical.as_bytes()));
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{hash}")
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length.
        Err(_) => Vec::new(),
    }
}

pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k_region = hmac(&k_date, region);
    let k_service = hmac(&k_region, service);
    hmac(&k_service, "aws4_request")
}

/// The hex signature of `to_sign` with a derived key.
#[cfg(test)]
pub fn sign(key: &[u8], to_sign: &str) -> String {
    hex(&hmac(key, to_sign))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Parses `YYYYMMDDTHHMMSSZ` into epoch seconds.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = s.get(from..to)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (h, mi, se) = (num(9, 11)?, num(11, 13)?, num(13, 15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Formats epoch seconds as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

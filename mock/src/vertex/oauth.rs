//! The two ways a Vertex client gets an access token, mocked strictly.
//!
//! * Metadata server: `GET /computeMetadata/v1/instance/service-accounts/
//!   default/token`. As on GCE/GKE, the request must carry
//!   `Metadata-Flavor: Google` (else 403, which is what stops SSRF through
//!   proxies that cannot set headers); the answer is
//!   `{"access_token","expires_in","token_type":"Bearer"}`.
//! * OAuth token endpoint: `POST /token`, form-encoded RFC 7523 grant
//!   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT`.
//!   The JWT is verified for real: RS256 with the configured public key,
//!   `iss` present, `aud` the token URI as the client reached it
//!   (`http(s)://{Host}/token`) or Google's own, which google-auth always
//!   signs for, `scope` including `cloud-platform`, `iat`
//!   not in the future (60 s skew), `exp` in the future and at most one hour
//!   after `iat`. Failures are Google's `400 {"error":"invalid_grant",
//!   "error_description"}` (`unsupported_grant_type` for another grant).
//!
//! Issued tokens are remembered with their expiry, so publisher calls can
//! check that a bearer is one this mock issued and still valid.

use std::time::{SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::State;
use crate::faults::Response;
use crate::http::Request;

pub const METADATA_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";
pub const TOKEN_PATH: &str = "/token";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The audience Google accepts whatever URI the assertion was posted to.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const MAX_LIFETIME: u64 = 3600;
const SKEW: u64 = 60;

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn token_response(state: &State) -> Response {
    let token = state.issue(now());
    Response::json(
        200,
        &json!({"access_token": token, "expires_in": state.ttl, "token_type": "Bearer"}),
    )
}

/// The metadata server's token endpoint.
pub fn metadata(state: &State, req: &Request) -> Response {
    if req.method != "GET" {
        return Response::raw_json(405, b"Method not allowed".to_vec());
    }
    if req.header("metadata-flavor") != Some("Google") {
        let body = b"Missing required header \"Metadata-Flavor\": \"Google\"".to_vec();
        return Response::raw_json(403, body);
    }
    token_response(state).with_header("metadata-flavor", "Google".to_string())
}

fn oauth_error(error: &str, description: &str) -> Response {
    Response::json(
        400,
        &json!({"error": error, "error_description": description}),
    )
}

/// `POST /token`: the JWT-bearer grant.
pub fn token(state: &State, req: &Request) -> Response {
    if req.method != "POST" {
        return oauth_error("invalid_request", "Only POST is allowed.");
    }
    let ct = req.header("content-type").unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return oauth_error("invalid_request", "Expected a form-encoded body.");
    }
    let form = String::from_utf8_lossy(&req.body);
    let field = |name: &str| {
        form.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode_form(v))
    };
    match field("grant_type").as_deref() {
        Some(JWT_BEARER) => {}
        Some(other) => {
            let msg = format!("Invalid grant_type: {other}");
            return oauth_error("unsupported_grant_type", &msg);
        }
        None => return oauth_error("invalid_request", "Missing required parameter: grant_type"),
    }
    let Some(assertion) = field("assertion") else {
        return oauth_error("invalid_request", "Missing required parameter: assertion");
    };
    let host = req.header("host").unwrap_or("");
    match verify(state.key.as_ref(), &assertion, host, now()) {
        Ok(()) => token_response(state),
        Err(why) => oauth_error("invalid_grant", &why),
    }
}

/// `application/x-www-form-urlencoded` value decoding.
fn decode_form(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (b, hex) {
            (b'%', Some(h)) => {
                out.push(h);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<String>,
    scope: Option<String>,
    iat: Option<u64>,
    exp: Option<u64>,
}

fn part<T: for<'de> Deserialize<'de>>(b64: &str, what: &str) -> Result<T, String> {
    let bytes = Base64UrlUnpadded::decode_vec(b64).map_err(|_| format!("Invalid JWT {what}."))?;
    serde_json::from_slice(&bytes).map_err(|_| format!("Invalid JWT {what}."))
}

/// Verifies a JWT assertion; `Err` is the `error_description`.
pub fn verify(key: Option<&RsaPublicKey>, jwt: &str, host: &str, now: u64) -> Result<(), String> {
    let mut it = jwt.split('.');
    let (Some(h), Some(c), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err("Invalid JWT: not a compact JWS.".into());
    };
    let header: Header = part(h, "header")?;
    if header.alg != "RS256" {
        return Err(format!("Invalid JWT: unsupported alg {}.", header.alg));
    }
    let key = key.ok_or("Invalid JWT Signature.")?;
    let sig = Base64UrlUnpadded::decode_vec(s).map_err(|_| "Invalid JWT Signature.")?;
    let sig = Signature::try_from(sig.as_slice()).map_err(|_| "Invalid JWT Signature.")?;
    let signed = jwt.len().saturating_sub(s.len() + 1);
    let message = jwt.get(..signed).unwrap_or("");
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(message.as_bytes(), &sig)
        .map_err(|_| "Invalid JWT Signature.")?;
    let claims: Claims = part(c, "claims")?;
    check_claims(&claims, host, now)
}

fn check_claims(claims: &Claims, host: &str, now: u64) -> Result<(), String> {
    if claims.iss.as_deref().is_none_or(str::is_empty) {
        return Err("Invalid JWT: iss is missing.".into());
    }
    let aud = claims.aud.as_deref().unwrap_or("");
    let allowed = [
        format!("http://{host}{TOKEN_PATH}"),
        format!("https://{host}{TOKEN_PATH}"),
        // google-auth signs for Google's endpoint whatever `token_uri` says.
        GOOGLE_TOKEN_URI.to_string(),
    ];
    if !allowed.iter().any(|a| a == aud) {
        return Err(format!("Invalid JWT: aud {aud:?} is not the token URI."));
    }
    let scopes = claims.scope.as_deref().unwrap_or("");
    if !scopes.split(' ').any(|s| s == SCOPE) {
        return Err("Invalid JWT: scope must include cloud-platform.".into());
    }
    let (Some(iat), Some(exp)) = (claims.iat, claims.exp) else {
        return Err("Invalid JWT: iat and exp are required.".into());
    };
    if iat > now + SKEW {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    if exp <= now || exp < iat || exp - iat > MAX_LIFETIME {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.".into());
    }
    Ok(())
}

/// `/_mock/tokens`: how many tokens were issued.
pub fn introspect(state: &State) -> Response {
    let issued: Value = state.issued().into();
    Response::json(200, &json!({"issued": issued}))
}

//! OAuth2 access tokens the filter obtains itself (Google Vertex AI).
//!
//! Two sources, both reached with `dispatch_http_call` through an Envoy
//! cluster the config names (the filter has no sockets of its own):
//! * `metadata`: the GCE/GKE metadata server (Workload Identity), which
//!   hands out the attached service account's token on a plain GET with
//!   `Metadata-Flavor: Google`;
//! * `service_account`: a service-account JSON key from the VM's
//!   environment. The filter signs a JWT assertion (RS256) and exchanges it
//!   at the key's `token_uri` (RFC 7523 `jwt-bearer` grant).
//!
//! Tokens are cached per provider slot in proxy-wasm shared data, so every
//! worker's VM uses the one fetched token, and refreshed before they expire.
//! A request that finds no token gets a 503, never an unauthenticated call.

use serde::Deserialize;

use super::jwt::{self, Issuer, SigningKey};
use crate::config::{compile_endpoint, err, ConfigError, Endpoint, RawEndpoint};
use crate::error::ApiError;

/// Where the `metadata` source fetches by default.
pub const METADATA_HOST: &str = "metadata.google.internal";
/// The metadata server's token path for the default service account.
pub const METADATA_TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";
/// The OAuth scope Vertex AI needs.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The `auth` object of a provider that uses OAuth, as the config says it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawSource {
    /// The metadata server, through Envoy cluster `cluster`.
    Metadata {
        cluster: String,
        /// `:authority` of the call (default `metadata.google.internal`).
        #[serde(default)]
        host: Option<String>,
        /// Where Envoy connects (`modelmux render`), as for providers;
        /// default plain HTTP to `host` on port 80.
        #[serde(default)]
        endpoint: Option<RawEndpoint>,
    },
    /// A service-account JSON key in environment variable `key_env`,
    /// exchanged at its `token_uri` through Envoy cluster `cluster`.
    ServiceAccount {
        key_env: String,
        cluster: String,
        /// `:authority` of the token call (default: `token_uri`'s host).
        #[serde(default)]
        host: Option<String>,
        /// Where Envoy connects (`modelmux render`), as for providers;
        /// default TLS to the token host.
        #[serde(default)]
        endpoint: Option<RawEndpoint>,
    },
}

/// A compiled token source, bound to its cache slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Cache key: the provider's name.
    pub slot: String,
    /// Envoy cluster the token call goes through.
    pub cluster: String,
    /// `:authority` of the token call.
    pub authority: String,
    /// How Envoy reaches `cluster` (`modelmux render`/`check` only).
    pub endpoint: Endpoint,
    pub kind: SourceKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    Metadata,
    ServiceAccount(Box<ServiceAccount>),
}

/// The fields of a service-account key the exchange needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key_id: Option<String>,
    /// The key's RSA key, parsed at config load (`Debug` hides it).
    pub key: SigningKey,
    pub token_uri: String,
    /// Path part of `token_uri`, e.g. `/token`.
    pub token_path: String,
}

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: String,
    #[serde(default)]
    private_key_id: Option<String>,
    private_key: String,
    #[serde(default = "default_token_uri")]
    token_uri: String,
}

fn default_token_uri() -> String {
    "https://oauth2.googleapis.com/token".to_string()
}

/// `https://host[:port]/path` → (`host[:port]`, `/path`).
fn split_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    match rest.find('/') {
        Some(i) => Some((rest.get(..i)?, rest.get(i..)?)),
        None => Some((rest, "/")),
    }
}

impl RawSource {
    /// Validates and binds the source to `slot`, reading a service-account
    /// key from the environment. `path` is the config path of `auth`.
    pub fn compile(
        self,
        slot: &str,
        env: &dyn Fn(&str) -> Option<String>,
        path: &str,
    ) -> Result<Source, ConfigError> {
        match self {
            RawSource::Metadata {
                cluster,
                host,
                endpoint,
            } => {
                let authority = host.unwrap_or_else(|| METADATA_HOST.to_string());
                let plain = if authority.contains(':') {
                    authority.clone()
                } else {
                    format!("{authority}:80")
                };
                Ok(Source {
                    slot: slot.to_string(),
                    cluster: nonempty(cluster, &format!("{path}.cluster"))?,
                    endpoint: compile_endpoint(endpoint, &plain, path)?,
                    authority,
                    kind: SourceKind::Metadata,
                })
            }
            RawSource::ServiceAccount {
                key_env,
                cluster,
                host,
                endpoint,
            } => {
                let at = format!("{path}.key_env");
                let raw = env(&key_env).filter(|v| !v.is_empty()).ok_or_else(|| {
                    err(&at, format!("environment variable `{key_env}` is not set for the wasm VM (vm_config.environment_variables)"))
                })?;
                let key: KeyFile = serde_json::from_str(&raw).map_err(|e| {
                    err(
                        &at,
                        format!("`{key_env}` is not a service-account JSON key: {e}"),
                    )
                })?;
                if key.kind.as_deref().is_some_and(|k| k != "service_account") {
                    return Err(err(
                        &at,
                        format!("`{key_env}` is not a key of type `service_account`"),
                    ));
                }
                let signing = SigningKey::from_pem(&key.private_key)
                    .map_err(|e| err(&at, format!("`{key_env}`: {e}")))?;
                let (uri_host, token_path) = split_uri(&key.token_uri).ok_or_else(|| {
                    err(
                        &at,
                        format!(
                            "`{key_env}`: token_uri `{}` is not an http(s) URL",
                            key.token_uri
                        ),
                    )
                })?;
                let authority = host.unwrap_or_else(|| uri_host.to_string());
                Ok(Source {
                    slot: slot.to_string(),
                    cluster: nonempty(cluster, &format!("{path}.cluster"))?,
                    endpoint: compile_endpoint(endpoint, &authority, path)?,
                    authority,
                    kind: SourceKind::ServiceAccount(Box::new(ServiceAccount {
                        token_path: token_path.to_string(),
                        client_email: key.client_email,
                        private_key_id: key.private_key_id,
                        key: signing,
                        token_uri: key.token_uri,
                    })),
                })
            }
        }
    }
}

fn nonempty(v: String, path: &str) -> Result<String, ConfigError> {
    if v.is_empty() {
        return Err(err(path, "must name an Envoy cluster"));
    }
    Ok(v)
}

/// How long a token call may take before Envoy gives up on it.
pub const CALL_TIMEOUT_MS: u64 = 10_000;
/// Granted lifetimes outside this range are refused as nonsense: below it
/// the token would expire before its first use, above it no Google token
/// lives (they last an hour; 12 h is the most any Google flow grants).
pub const MIN_LIFETIME_S: u64 = 60;
pub const MAX_LIFETIME_S: u64 = 12 * 3600;

/// One HTTP call to a token endpoint, for the shell to dispatch.
pub struct TokenCall {
    /// Envoy cluster to call through.
    pub cluster: String,
    /// `:method`, `:path` and `:authority` first, then the others.
    pub headers: Vec<(&'static str, String)>,
    /// The form body of the service-account exchange (holds the assertion).
    pub body: Option<Vec<u8>>,
    pub timeout_ms: u64,
}

impl std::fmt::Debug for TokenCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCall")
            .field("cluster", &self.cluster)
            .field("path", &self.headers.get(1).map(|(_, v)| v))
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl Source {
    /// The call that fetches a token now (`now_unix_secs` stamps the
    /// assertion of a service account).
    pub fn call(&self, now_unix_secs: u64) -> Result<TokenCall, String> {
        let (method, path, extra, body) = match &self.kind {
            // The metadata server ignores `?scopes=` on GCE and GKE (the
            // instance's or Workload Identity's scopes apply), so the plain
            // path is what every environment answers.
            SourceKind::Metadata => (
                "GET",
                METADATA_TOKEN_PATH.to_string(),
                ("metadata-flavor", "Google".to_string()),
                None,
            ),
            SourceKind::ServiceAccount(sa) => {
                let who = Issuer {
                    email: &sa.client_email,
                    key_id: sa.private_key_id.as_deref(),
                    audience: &sa.token_uri,
                    scope: CLOUD_PLATFORM_SCOPE,
                };
                let assertion = jwt::assertion(&sa.key, who, now_unix_secs)?;
                // The assertion is base64url and dots: nothing to escape.
                let body = format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}");
                (
                    "POST",
                    sa.token_path.clone(),
                    (
                        "content-type",
                        "application/x-www-form-urlencoded".to_string(),
                    ),
                    Some(body.into_bytes()),
                )
            }
        };
        let mut headers = vec![
            (":method", method.to_string()),
            (":path", path),
            (":authority", self.authority.clone()),
            extra,
        ];
        if let Some(b) = &body {
            headers.push(("content-length", b.len().to_string()));
        }
        headers.push(("accept", "application/json".to_string()));
        Ok(TokenCall {
            cluster: self.cluster.clone(),
            headers,
            body,
            timeout_ms: CALL_TIMEOUT_MS,
        })
    }
}

/// A token endpoint's answer (RFC 6749 §5.1 and §5.2); unknown fields are
/// ignored.
#[derive(Deserialize)]
struct GrantWire {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Number>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// An access token and how long it lives.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    pub token: String,
    pub expires_in_s: u64,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("token", &"***")
            .field("expires_in_s", &self.expires_in_s)
            .finish()
    }
}

/// Reads a token endpoint's response. The error is a short reason fit for
/// a log line: the status and the OAuth `error` code, never the body.
pub fn parse_grant(status: u16, body: &[u8]) -> Result<Grant, String> {
    let wire: Option<GrantWire> = serde_json::from_slice(body).ok();
    if status != 200 {
        let code = wire.and_then(|w| w.error).filter(|c| is_code(c));
        return Err(match code {
            Some(c) => format!("status {status} ({c})"),
            None => format!("status {status}"),
        });
    }
    let wire = wire.ok_or("the 200 body is not a token response")?;
    let token = wire
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or("no access_token")?;
    // The token goes into a header and into the cache's `<expiry> <token>`.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("access_token has characters a header cannot carry".into());
    }
    if let Some(t) = wire
        .token_type
        .filter(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(if is_code(&t) {
            format!("token_type `{t}` is not Bearer")
        } else {
            "token_type is not Bearer".into()
        });
    }
    let expires_in_s = wire
        .expires_in
        .and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)))
        .ok_or("no expires_in")?;
    if !(MIN_LIFETIME_S..=MAX_LIFETIME_S).contains(&expires_in_s) {
        return Err(format!(
            "expires_in {expires_in_s} s is outside {MIN_LIFETIME_S}..={MAX_LIFETIME_S}"
        ));
    }
    Ok(Grant {
        token,
        expires_in_s,
    })
}

/// A short OAuth error code such as `invalid_grant` (safe to log).
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The 503 for a request whose provider has no token yet.
pub fn no_token(slot: &str) -> ApiError {
    ApiError::new(
        503,
        "service_unavailable",
        format!("Provider `{slot}` has no access token yet (the token endpoint has not answered); retry shortly."),
    )
    .with_code("credentials_unavailable")
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;

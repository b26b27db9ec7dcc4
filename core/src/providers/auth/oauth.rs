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

use crate::config::{err, ConfigError, Secret};
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
    },
    /// A service-account JSON key in environment variable `key_env`,
    /// exchanged at its `token_uri` through Envoy cluster `cluster`.
    ServiceAccount {
        key_env: String,
        cluster: String,
        /// `:authority` of the token call (default: `token_uri`'s host).
        #[serde(default)]
        host: Option<String>,
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
    pub kind: SourceKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    Metadata,
    ServiceAccount(ServiceAccount),
}

/// The fields of a service-account key the exchange needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key_id: Option<String>,
    /// PEM, PKCS#8 (`-----BEGIN PRIVATE KEY-----`), as Google issues it.
    pub private_key: Secret,
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
            RawSource::Metadata { cluster, host } => Ok(Source {
                slot: slot.to_string(),
                cluster: nonempty(cluster, &format!("{path}.cluster"))?,
                authority: host.unwrap_or_else(|| METADATA_HOST.to_string()),
                kind: SourceKind::Metadata,
            }),
            RawSource::ServiceAccount {
                key_env,
                cluster,
                host,
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
                if !key.private_key.contains("-----BEGIN PRIVATE KEY-----") {
                    return Err(err(
                        &at,
                        format!("`{key_env}`: private_key is not a PKCS#8 PEM key"),
                    ));
                }
                let (uri_host, token_path) = split_uri(&key.token_uri).ok_or_else(|| {
                    err(
                        &at,
                        format!(
                            "`{key_env}`: token_uri `{}` is not an http(s) URL",
                            key.token_uri
                        ),
                    )
                })?;
                Ok(Source {
                    slot: slot.to_string(),
                    cluster: nonempty(cluster, &format!("{path}.cluster"))?,
                    authority: host.unwrap_or_else(|| uri_host.to_string()),
                    kind: SourceKind::ServiceAccount(ServiceAccount {
                        token_path: token_path.to_string(),
                        client_email: key.client_email,
                        private_key_id: key.private_key_id,
                        private_key: Secret::new(key.private_key),
                        token_uri: key.token_uri,
                    }),
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

/// The 503 for a request whose provider has no token yet.
pub fn no_token(slot: &str) -> ApiError {
    ApiError::new(
        503,
        "service_unavailable",
        format!("Provider `{slot}` has no access token yet (the token endpoint has not answered); retry shortly."),
    )
    .with_code("credentials_unavailable")
}

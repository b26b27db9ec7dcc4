//! Filter configuration: parse strictly, then compile into a runtime form.
//!
//! The JSON arrives as the wasm plugin's `configuration`. Parsing rejects
//! unknown fields (a typo must not silently change routing); compiling checks
//! cross references and resolves API keys from the VM environment, so every
//! mistake is reported once, at load time, with the path of the field.

use std::collections::HashMap;

use serde::Deserialize;

use crate::providers::auth::Auth;
use crate::providers::Options;

mod failover;
pub(crate) use failover::compile_endpoint;
mod headers;
pub use failover::RawEndpoint;
pub use headers::{HeaderPolicy, HeaderRules, CLIENT_ACCOUNT, CREDENTIALS};
mod checks;
mod leaf;
pub(crate) mod suggest;
mod telemetry;
use checks::{check_cluster_names, check_envoy_signing, check_label_collisions};
pub(crate) use leaf::err;
pub use leaf::{ConfigError, Secret};

pub use failover::{
    default_cluster, Endpoint, Failover, FailoverSettings, HealthCheck, METADATA_NAMESPACE,
    METADATA_PROVIDER_KEY,
};
pub use telemetry::{Consumers, Price};

pub const DEFAULT_CLUSTER_HEADER: &str = "x-modelmux-cluster";

/// The largest provider reply the filter buffers whole (a translated or
/// failover reply) before answering with an OpenAI 502 itself. Envoy's own
/// limit (the listener's `per_connection_buffer_limit_bytes`, 10 MiB as
/// `modelmux render` writes it) answers a bare text 500 that bypasses the
/// filter, so this must stay below it: 8 MiB by default.
pub const DEFAULT_RESPONSE_BUFFER_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    providers: Vec<RawProvider>,
    models: Vec<RawModel>,
    #[serde(default)]
    cluster_header: Option<String>,
    #[serde(default)]
    failover: Option<failover::RawFailover>,
    #[serde(default)]
    consumers: Option<telemetry::RawConsumers>,
    #[serde(default)]
    response_buffer_bytes: Option<u64>,
    headers: Option<headers::RawHeaders>,
}

/// The fields every provider has; the rest belongs to its `type` and is
/// parsed, strictly, by that kind's options type.
#[derive(Debug, Deserialize)]
struct RawProvider {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    cluster: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    base_path: Option<String>,
    #[serde(default)]
    api_key_env: Option<String>,
    #[serde(default)]
    endpoint: Option<failover::RawEndpoint>,
    #[serde(default)]
    health_check: Option<failover::RawHealthCheck>,
    #[serde(default)]
    headers: Option<headers::RawHeaders>,
    #[serde(flatten)]
    options: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: String,
    targets: Vec<RawTarget>,
    #[serde(default)]
    owned_by: Option<String>,
    #[serde(default)]
    cluster: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    provider: String,
    model: String,
    #[serde(default)]
    weight: Option<u32>,
    #[serde(default)]
    price: Option<telemetry::RawPrice>,
}

/// A compiled upstream provider: wire format and options, auth, location.
#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub cluster: String,
    pub host: String,
    /// Path prefix without trailing slash, e.g. `/v1`.
    pub base_path: String,
    pub auth: Auth,
    /// The kind and its options.
    pub options: Options,
    /// How Envoy reaches it; used by `modelmux render`/`check` only.
    pub endpoint: Endpoint,
    pub health_check: Option<HealthCheck>,
    /// The operator's header allowlist extensions: the global `headers`
    /// plus the provider's own.
    pub headers: HeaderPolicy,
}

impl Provider {
    /// A provider of `kind` (a kind or preset name) with every option at its
    /// default and no key, for tests and tools that build one by hand.
    pub fn new(name: &str, kind: &str, host: &str) -> Self {
        let options = Options::parse(kind, serde_json::Value::Object(Default::default()), "$")
            .unwrap_or_else(|_| Options::OpenAi(crate::providers::openai::Options::default()));
        let defaults = options.defaults();
        Provider {
            name: name.to_string(),
            cluster: name.to_string(),
            host: host.to_string(),
            base_path: defaults.base_path.to_string(),
            auth: Auth::None,
            options,
            endpoint: Endpoint {
                address: host.to_string(),
                port: 443,
                tls: true,
                sni: host.to_string(),
                ca_file: String::new(),
            },
            health_check: None,
            headers: HeaderPolicy::default(),
        }
    }

    /// With this key, sent as the kind's auth scheme requires.
    pub fn with_key(mut self, key: &str) -> Self {
        self.auth = Auth::new(self.options.defaults().auth, Some(Secret::new(key)));
        self
    }

    /// The registered kind it speaks (`openai` for every preset).
    pub fn kind(&self) -> &'static str {
        self.options.kind()
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub provider: usize,
    pub model: String,
    pub weight: u32,
    /// For the cost counters; `None` means no cost series.
    pub price: Option<Price>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub owned_by: String,
    /// Weights are shares of new requests (see [`crate::split`]); a 0
    /// weight target only takes over when no weighted one can.
    pub targets: Vec<Target>,
    /// Set for models with two or more targets: served through failover.
    pub failover: Option<Failover>,
}

/// The runtime configuration the filter works from.
#[derive(Debug, Clone)]
pub struct Config {
    pub providers: Vec<Provider>,
    pub models: Vec<Model>,
    pub cluster_header: String,
    pub failover: FailoverSettings,
    /// The optional `consumer` label.
    pub consumers: Option<Consumers>,
    /// See [`DEFAULT_RESPONSE_BUFFER_BYTES`].
    pub response_buffer_bytes: usize,
    by_name: HashMap<String, usize>,
}

impl Config {
    /// Parses and validates; `env` resolves environment variable names.
    pub fn from_json(
        json: &[u8],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let de = &mut serde_json::Deserializer::from_slice(json);
        let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            err(
                if path == "." { "$".to_string() } else { path },
                suggest::unknown_field(&e.inner().to_string(), &[]),
            )
        })?;
        compile(raw, env)
    }

    pub fn model(&self, name: &str) -> Option<(usize, &Model)> {
        let idx = *self.by_name.get(name)?;
        self.models.get(idx).map(|m| (idx, m))
    }

    pub fn provider(&self, idx: usize) -> Option<&Provider> {
        self.providers.get(idx)
    }

    /// `(model, provider)` of every target without a price (logged at load:
    /// they get no cost series).
    pub fn unpriced_targets(&self) -> Vec<(&str, &str)> {
        self.models
            .iter()
            .flat_map(|m| m.targets.iter().map(move |t| (m, t)))
            .filter(|(_, t)| t.price.is_none())
            .map(|(m, t)| {
                let provider = self.provider(t.provider).map_or("", |p| p.name.as_str());
                (m.name.as_str(), provider)
            })
            .collect()
    }

    /// The provider of a model's target.
    pub fn target_provider(&self, model: usize, target: usize) -> Option<&Provider> {
        let t = self.models.get(model)?.targets.get(target)?;
        self.provider(t.provider)
    }
}

fn compile(raw: RawConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    if raw.providers.is_empty() {
        return Err(err("providers", "at least one provider is required"));
    }
    if raw.models.is_empty() {
        return Err(err("models", "at least one model is required"));
    }
    let cluster_header = raw
        .cluster_header
        .unwrap_or_else(|| DEFAULT_CLUSTER_HEADER.to_string())
        .to_ascii_lowercase();
    if !is_token(&cluster_header) {
        return Err(err("cluster_header", "must be a valid HTTP header name"));
    }
    let consumers = raw
        .consumers
        .map(telemetry::compile_consumers)
        .transpose()?;
    let reserved = headers::Reserved {
        cluster_header: &cluster_header,
        consumer_header: consumers.as_ref().map(|c| c.header.as_str()),
    };
    let global = headers::compile(raw.headers, "headers", &reserved)?;
    let (providers, provider_idx) = compile_providers(raw.providers, &global, &reserved, env)?;
    let mut models = Vec::with_capacity(raw.models.len());
    let mut by_name = HashMap::new();
    for (i, m) in raw.models.into_iter().enumerate() {
        let path = format!("models[{i}]");
        if by_name.insert(m.name.clone(), i).is_some() {
            return Err(err(
                format!("{path}.name"),
                format!("duplicate model name `{}`", m.name),
            ));
        }
        models.push(compile_model(m, &path, &provider_idx)?);
    }
    check_cluster_names(&providers, &models)?;
    check_envoy_signing(&providers, &models)?;
    let model_names = models.iter().enumerate();
    check_label_collisions(
        model_names.map(|(i, m)| (format!("models[{i}].name"), m.name.as_str())),
    )?;
    let provider_names = providers.iter().enumerate();
    check_label_collisions(
        provider_names.map(|(i, p)| (format!("providers[{i}].name"), p.name.as_str())),
    )?;
    Ok(Config {
        providers,
        models,
        cluster_header,
        failover: failover::compile_settings(raw.failover)?,
        consumers,
        response_buffer_bytes: response_buffer_bytes(raw.response_buffer_bytes)?,
        by_name,
    })
}

fn response_buffer_bytes(raw: Option<u64>) -> Result<usize, ConfigError> {
    match raw.unwrap_or(DEFAULT_RESPONSE_BUFFER_BYTES) {
        0 => Err(err("response_buffer_bytes", "must be positive")),
        n => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
    }
}

/// The providers, with the global header rules merged into each one's.
fn compile_providers(
    raw: Vec<RawProvider>,
    global: &HeaderPolicy,
    reserved: &headers::Reserved<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<Provider>, HashMap<String, usize>), ConfigError> {
    let mut providers = Vec::with_capacity(raw.len());
    let mut provider_idx = HashMap::new();
    for (i, mut p) in raw.into_iter().enumerate() {
        let path = format!("providers[{i}]");
        if provider_idx.insert(p.name.clone(), i).is_some() {
            return Err(err(
                format!("{path}.name"),
                format!("duplicate provider name `{}`", p.name),
            ));
        }
        let own = headers::compile(p.headers.take(), &format!("{path}.headers"), reserved)?;
        let mut provider = compile_provider(p, &path, env)?;
        provider.headers = global.merged(&own);
        providers.push(provider);
    }
    Ok((providers, provider_idx))
}

fn compile_provider(
    p: RawProvider,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Provider, ConfigError> {
    if p.name.is_empty() {
        return Err(err(format!("{path}.name"), "must not be empty"));
    }
    let options = Options::parse(&p.kind, serde_json::Value::Object(p.options), path)?;
    let defaults = options.defaults();
    if p.cluster.is_empty() {
        return Err(err(format!("{path}.cluster"), "must name an Envoy cluster"));
    }
    let host = match (p.host, options.default_host()) {
        (Some(h), _) => h,
        (None, Some(h)) => h,
        (None, None) => {
            return Err(err(
                format!("{path}.host"),
                format!("required for type `{}`", p.kind),
            ))
        }
    };
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        return Err(err(
            format!("{path}.host"),
            "must be a host[:port] without scheme or path",
        ));
    }
    let base_path = p
        .base_path
        .unwrap_or_else(|| defaults.base_path.to_string());
    if !(base_path.is_empty() || base_path.starts_with('/')) {
        return Err(err(format!("{path}.base_path"), "must start with `/`"));
    }
    let api_key = match p.api_key_env {
        Some(var) => Some(env(&var).filter(|v| !v.is_empty()).map(Secret::new).ok_or_else(|| {
            err(
                format!("{path}.api_key_env"),
                format!("environment variable `{var}` is not set for the wasm VM (vm_config.environment_variables)"),
            )
        })?),
        None if defaults.key_required => {
            return Err(err(
                format!("{path}.api_key_env"),
                format!("required for type `{}`", p.kind),
            ))
        }
        None => None,
    };
    let auth = options.auth(crate::providers::AuthInput {
        provider: &p.name,
        key: api_key,
        env,
        path,
    })?;
    let endpoint = failover::compile_endpoint(p.endpoint, &host, path)?;
    let health_check = failover::compile_health_check(p.health_check, path)?;
    Ok(Provider {
        endpoint,
        health_check,
        name: p.name,
        cluster: p.cluster,
        host,
        base_path: base_path.trim_end_matches('/').to_string(),
        auth,
        options,
        headers: HeaderPolicy::default(),
    })
}

fn compile_model(
    m: RawModel,
    path: &str,
    providers: &HashMap<String, usize>,
) -> Result<Model, ConfigError> {
    if m.name.is_empty() {
        return Err(err(format!("{path}.name"), "must not be empty"));
    }
    if m.targets.is_empty() {
        return Err(err(
            format!("{path}.targets"),
            "at least one target is required",
        ));
    }
    let mut targets = Vec::with_capacity(m.targets.len());
    let mut total_weight = 0u64;
    // Without any weight the list is an order of preference: the first
    // target takes all traffic and the others are fallbacks.
    let ordered = m.targets.iter().all(|t| t.weight.is_none());
    for (j, t) in m.targets.into_iter().enumerate() {
        let tpath = format!("{path}.targets[{j}]");
        let provider = *providers.get(&t.provider).ok_or_else(|| {
            err(
                format!("{tpath}.provider"),
                format!("provider `{}` is not defined in `providers`", t.provider),
            )
        })?;
        if t.model.is_empty() {
            return Err(err(format!("{tpath}.model"), "must not be empty"));
        }
        let weight = match t.weight {
            Some(w) => w,
            None if ordered && j > 0 => 0,
            None => 1,
        };
        if targets.iter().any(|o: &Target| o.provider == provider) {
            return Err(err(
                format!("{tpath}.provider"),
                format!(
                    "provider `{}` is listed twice; failover tells endpoints apart by provider, so define a second provider entry",
                    t.provider
                ),
            ));
        }
        total_weight += u64::from(weight);
        let price = t
            .price
            .map(|p| telemetry::compile_price(p, &format!("{tpath}.price")))
            .transpose()?;
        targets.push(Target {
            provider,
            model: t.model,
            weight,
            price,
        });
    }
    if total_weight == 0 {
        return Err(err(
            format!("{path}.targets"),
            "at least one target needs a weight above 0",
        ));
    }
    let failover = failover::compile_model(targets.len(), m.cluster, &m.name, path)?;
    Ok(Model {
        name: m.name,
        owned_by: m.owned_by.unwrap_or_else(|| "modelmux".to_string()),
        targets,
        failover,
    })
}

pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

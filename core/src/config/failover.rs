//! What the filter and `modelmux render`/`check` need to agree on for
//! failover: how Envoy reaches each provider, and the failover clusters.
//!
//! A model with two or more targets is served through *rotation clusters*:
//! for target `k` the cluster `<cluster>_<k>` lists every target of the
//! model as its own endpoint, target `k` at priority 0 and the others after
//! it in list order (wrapping). The route's retry policy moves each retry to
//! the next priority (`previous_priorities`), outlier detection ejects
//! endpoints that keep failing, and Envoy's priority spill-over sends traffic
//! past an ejected one. The filter only chooses which rotation a request
//! starts with: by weight, skipping a head whose circuit is open (a
//! `Retry-After` Envoy cannot express). Every endpoint carries the metadata
//! `filter_metadata.modelmux.provider`, which the upstream filter reads to
//! know which provider an attempt landed on.

use serde::Deserialize;

use super::{err, ConfigError};

/// Endpoint metadata namespace and key naming the provider of an endpoint.
pub const METADATA_NAMESPACE: &str = "modelmux";
pub const METADATA_PROVIDER_KEY: &str = "provider";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    tls: Option<bool>,
    #[serde(default)]
    sni: Option<String>,
    #[serde(default)]
    ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHealthCheck {
    path: String,
    #[serde(default)]
    interval_ms: Option<u64>,
    #[serde(default)]
    expected_statuses: Option<Vec<u16>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFailover {
    #[serde(default)]
    attempt_timeout_ms: Option<u64>,
    #[serde(default)]
    max_retry_after_s: Option<u64>,
    #[serde(default)]
    consecutive_failures: Option<u32>,
    #[serde(default)]
    ejection_ms: Option<u64>,
    #[serde(default)]
    outlier_interval_ms: Option<u64>,
    #[serde(default)]
    retry_buffer_bytes: Option<u64>,
    #[serde(default)]
    json_timeout_ms: Option<u64>,
    #[serde(default)]
    json_attempt_timeout_ms: Option<u64>,
}

/// How Envoy connects to a provider (used by `modelmux render`/`check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub address: String,
    pub port: u16,
    pub tls: bool,
    /// SNI and certificate name; the `host` without its port by default.
    pub sni: String,
    pub ca_file: String,
}

/// Optional active health check rendered for a provider's endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub path: String,
    pub interval_ms: u64,
    /// Statuses that count as healthy; empty means Envoy's default (200
    /// only). A SaaS API answers an unauthenticated check 401, so a check
    /// against one must list what it expects (see `modelmux render`).
    pub expected_statuses: Vec<u16>,
}

/// Failover tuning shared by the filter and the rendered Envoy pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverSettings {
    /// Streamed requests' per-attempt idle timeout: an attempt that sends
    /// nothing for this long (e.g. no first event) is abandoned and retried
    /// elsewhere. Non-streamed requests use `json_*` below.
    pub attempt_timeout_ms: u64,
    /// Upper bound on how long a `Retry-After` keeps a target out.
    pub max_retry_after_s: u64,
    /// Consecutive failures (as 5xx) before outlier detection ejects.
    pub consecutive_failures: u32,
    pub ejection_ms: u64,
    pub outlier_interval_ms: u64,
    /// The route's retry buffer (`per_request_buffer_limit_bytes`); a body
    /// larger than this cannot be replayed, so the filter rejects it rather
    /// than lose failover silently.
    pub retry_buffer_bytes: u64,
    /// Non-streamed requests (chat without `stream`, embeddings): the whole
    /// request's timeout. Their reply says nothing until it is complete, so
    /// an attempt timeout would abandon work the provider still bills; by
    /// default they are not retried on a timeout at all.
    pub json_timeout_ms: u64,
    /// Opt-in per-attempt timeout for non-streamed requests (Envoy's
    /// `per_try_timeout`): a slow provider is abandoned and the next tried,
    /// at the price of paying both.
    pub json_attempt_timeout_ms: Option<u64>,
}

pub const DEFAULT_RETRY_BUFFER_BYTES: u64 = 10 * 1024 * 1024;

impl Default for FailoverSettings {
    fn default() -> Self {
        FailoverSettings {
            attempt_timeout_ms: 30_000,
            max_retry_after_s: 300,
            consecutive_failures: 3,
            ejection_ms: 30_000,
            outlier_interval_ms: 1_000,
            retry_buffer_bytes: DEFAULT_RETRY_BUFFER_BYTES,
            json_timeout_ms: 300_000,
            json_attempt_timeout_ms: None,
        }
    }
}

/// The failover clusters of a model with several targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    /// `rotations[k]` is the cluster whose priority 0 is target `k`.
    pub rotations: Vec<String>,
}

impl Failover {
    pub fn new(base: &str, targets: usize) -> Self {
        Failover {
            rotations: (0..targets).map(|k| format!("{base}_{k}")).collect(),
        }
    }
}

/// The default failover cluster base name of a model.
pub fn default_cluster(model: &str) -> String {
    format!("modelmux_{}", crate::stats::sanitize(model))
}

/// The rotation clusters of a model with `n` targets, if it has several.
pub(super) fn compile_model(
    n: usize,
    cluster: Option<String>,
    name: &str,
    path: &str,
) -> Result<Option<Failover>, ConfigError> {
    match (n, cluster) {
        (1, Some(_)) => Err(err(
            format!("{path}.cluster"),
            "only models with two or more targets use a failover cluster",
        )),
        (1, None) => Ok(None),
        (n, cluster) => {
            let base = cluster.unwrap_or_else(|| default_cluster(name));
            if base.is_empty() {
                return Err(err(format!("{path}.cluster"), "must not be empty"));
            }
            Ok(Some(Failover::new(&base, n)))
        }
    }
}

pub(super) fn compile_settings(raw: Option<RawFailover>) -> Result<FailoverSettings, ConfigError> {
    let raw = raw.unwrap_or_default();
    let d = FailoverSettings::default();
    let positive = |v: Option<u64>, field: &str, default: u64| match v {
        Some(0) => Err(err(format!("failover.{field}"), "must be above 0")),
        Some(v) => Ok(v),
        None => Ok(default),
    };
    let consecutive = match raw.consecutive_failures {
        Some(0) => return Err(err("failover.consecutive_failures", "must be above 0")),
        Some(v) => v,
        None => d.consecutive_failures,
    };
    let json_timeout_ms = positive(raw.json_timeout_ms, "json_timeout_ms", d.json_timeout_ms)?;
    let json_attempt_timeout_ms = match raw.json_attempt_timeout_ms {
        Some(0) => return Err(err("failover.json_attempt_timeout_ms", "must be above 0")),
        Some(v) if v > json_timeout_ms => {
            return Err(err(
                "failover.json_attempt_timeout_ms",
                format!("must not exceed failover.json_timeout_ms ({json_timeout_ms})"),
            ))
        }
        v => v,
    };
    Ok(FailoverSettings {
        attempt_timeout_ms: positive(
            raw.attempt_timeout_ms,
            "attempt_timeout_ms",
            d.attempt_timeout_ms,
        )?,
        max_retry_after_s: positive(
            raw.max_retry_after_s,
            "max_retry_after_s",
            d.max_retry_after_s,
        )?,
        consecutive_failures: consecutive,
        ejection_ms: positive(raw.ejection_ms, "ejection_ms", d.ejection_ms)?,
        outlier_interval_ms: positive(
            raw.outlier_interval_ms,
            "outlier_interval_ms",
            d.outlier_interval_ms,
        )?,
        retry_buffer_bytes: positive(
            raw.retry_buffer_bytes,
            "retry_buffer_bytes",
            d.retry_buffer_bytes,
        )?,
        json_timeout_ms,
        json_attempt_timeout_ms,
    })
}

/// Splits `host[:port]`.
fn split_host(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (host, None),
    }
}

pub(crate) fn compile_endpoint(
    raw: Option<RawEndpoint>,
    host: &str,
    path: &str,
) -> Result<Endpoint, ConfigError> {
    let raw = raw.unwrap_or(RawEndpoint {
        address: None,
        tls: None,
        sni: None,
        ca_file: None,
    });
    let (host_name, host_port) = split_host(host);
    let tls = raw
        .tls
        .unwrap_or(host_port.is_none() || host_port == Some("443"));
    let addr = raw.address.unwrap_or_else(|| host.to_string());
    let (address, port) = split_host(&addr);
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            err(
                format!("{path}.endpoint.address"),
                "port must be a number from 1 to 65535",
            )
        })?,
        None if tls => 443,
        None => 80,
    };
    if address.is_empty() {
        return Err(err(format!("{path}.endpoint.address"), "must not be empty"));
    }
    Ok(Endpoint {
        address: address.to_string(),
        port,
        tls,
        sni: raw.sni.unwrap_or_else(|| host_name.to_string()),
        ca_file: raw
            .ca_file
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".to_string()),
    })
}

pub(super) fn compile_health_check(
    raw: Option<RawHealthCheck>,
    path: &str,
) -> Result<Option<HealthCheck>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    if !raw.path.starts_with('/') {
        return Err(err(
            format!("{path}.health_check.path"),
            "must start with `/`",
        ));
    }
    let field = format!("{path}.health_check.expected_statuses");
    let expected_statuses = match raw.expected_statuses {
        None => Vec::new(),
        Some(list) if list.is_empty() => {
            return Err(err(field, "must list at least one status (or be left out)"));
        }
        Some(list) => {
            if let Some(bad) = list.iter().find(|c| !(100..=599).contains(*c)) {
                return Err(err(field, format!("{bad} is not an HTTP status (100-599)")));
            }
            list
        }
    };
    Ok(Some(HealthCheck {
        path: raw.path,
        interval_ms: raw.interval_ms.filter(|v| *v > 0).unwrap_or(5_000),
        expected_statuses,
    }))
}

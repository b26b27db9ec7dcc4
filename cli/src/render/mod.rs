//! `modelmux render`: the Envoy bootstrap that goes with a filter config.

mod clusters;
mod hardening;
mod health;
pub mod istio;
mod routes;

pub use clusters::{AWS_SIGNING, HTTP_OPTIONS, SOCKET_MATCH_NAMESPACE, UPSTREAM_CODEC};
pub use hardening::{
    Limits, CONNECTIONS_MONITOR, H2_CONNECTION_WINDOW, H2_MAX_CONCURRENT_STREAMS, H2_STREAM_WINDOW,
    HEAP_MONITOR, RESET_STREAMS,
};
pub use health::is_saas;
pub use routes::CREDENTIAL_HEADERS;

use crate::input::{HostPort, Loaded};
use crate::yaml::{self, commented, map, s, seq, typed, Node};

pub const WASM_TYPE: &str = "envoy.extensions.filters.http.wasm.v3.Wasm";
pub use modelmux_core::session::DOWNSTREAM_ROOT_ID;
pub use modelmux_core::session::UPSTREAM_ROOT_ID;
pub const VM_ID: &str = "modelmux";
pub const DEFAULT_WASM: &str = "target/wasm32-wasip1/release/modelmux.wasm";
/// The default listener and cluster connection buffers (`--max-body-bytes`):
/// whole bodies are buffered.
pub const BUFFER_LIMIT: u64 = 10 * 1024 * 1024;
const VM_ANCHOR: &str = "modelmux_vm";
const CONFIG_ANCHOR: &str = "modelmux_config";

/// Everything `render` takes besides the config.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: HostPort,
    pub admin: HostPort,
    pub wasm: String,
    /// `--key NAME=VALUE`: fixed values instead of `host_env_keys`.
    pub keys: Vec<(String, String)>,
    /// Envoy's protections for an exposed listener.
    pub limits: Limits,
    /// The command line, for the header comment.
    pub command: String,
    /// `--wasm-url`: the module is fetched over HTTPS (Istio), not read
    /// from `wasm`.
    pub remote: Option<istio::Remote>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: HostPort {
                host: "127.0.0.1".to_string(),
                port: 10000,
            },
            admin: HostPort {
                host: "127.0.0.1".to_string(),
                port: 9901,
            },
            wasm: DEFAULT_WASM.to_string(),
            keys: Vec::new(),
            limits: Limits::default(),
            command: String::new(),
            remote: None,
        }
    }
}

/// Renders the complete bootstrap.
pub fn render(loaded: &Loaded, opts: &Options) -> Result<String, String> {
    for (name, _) in &opts.keys {
        if !loaded.key_envs.contains(name) {
            return Err(format!(
                "--key {name}: no provider has api_key_env `{name}`"
            ));
        }
    }
    let config = &loaded.config;
    let buffer = opts.limits.max_body_bytes;
    // Replies the filter buffers must hit its own limit (a JSON error in
    // the client's format) before Envoy's (a bare text 500).
    let filter_limit = u64::try_from(config.response_buffer_bytes).unwrap_or(u64::MAX);
    if filter_limit >= buffer {
        return Err(format!(
            "--max-body-bytes {buffer}: the filter's response_buffer_bytes ({filter_limit}) must be below it; lower response_buffer_bytes in the filter JSON"
        ));
    }
    let mut all_clusters = clusters::provider_clusters(config, buffer)?;
    all_clusters.extend(clusters::token_clusters(config));
    for m in &config.models {
        all_clusters.extend(clusters::rotation_clusters(config, m, buffer));
    }
    let doc = map([
        ("admin", admin(&opts.admin)),
        ("stats_config", stats_config()),
        (
            "overload_manager",
            hardening::overload_manager(&opts.limits),
        ),
        (
            "static_resources",
            map([
                ("listeners", seq([listener(loaded, opts)])),
                ("clusters", Node::Seq(all_clusters)),
            ]),
        ),
    ]);
    Ok(format!(
        "{}\n{}",
        header(loaded, opts),
        yaml::to_string(&doc)
    ))
}

fn header(loaded: &Loaded, opts: &Options) -> String {
    let mut out = String::from(
        "# Rendered by `modelmux render` (cli/) from a modelmux filter config: edit the\n\
         # .json and re-render instead of editing this file (`make configs`):\n",
    );
    out.push_str(&format!("#   {}\n", opts.command));
    out.push_str(&format!(
        "# Gateway: http://{}/v1 (OpenAI-compatible)   Admin: http://{}\n",
        url_host(&opts.listen),
        url_host(&opts.admin)
    ));
    if !opts.wasm.starts_with('/') {
        out.push_str(
            "# The wasm path is relative to the repository root; start Envoy from there:\n\
             #   .venv/bin/envoy --use-dynamic-base-id -c <this file>\n",
        );
    }
    let from_env: Vec<&str> = loaded
        .key_envs
        .iter()
        .filter(|k| !opts.keys.iter().any(|(name, _)| name == *k))
        .map(String::as_str)
        .collect();
    if !from_env.is_empty() {
        out.push_str(&format!(
            "# Provider keys come from Envoy's environment: {}.\n\
             # Clients' own Authorization headers are never forwarded upstream.\n",
            from_env.join(", ")
        ));
    }
    if !opts.keys.is_empty() {
        out.push_str(
            "# WARNING: rendered with --key: provider keys are written below (key_values)\n\
             # and show on the admin /config_dump. For local testing only.\n",
        );
    }
    if !is_loopback(&opts.admin.host) {
        out.push_str(
            "# WARNING: the admin interface is not on loopback: anyone who reaches it can\n\
             # read /config_dump, stop Envoy (/quitquitquit) and change its runtime.\n",
        );
    }
    if !is_loopback(&opts.listen.host) {
        out.push_str(
            "# The listener is not loopback-only: protect it (network policy, an authn\n\
             # filter placed before modelmux, ...) before exposing it.\n",
        );
    }
    out
}

/// The admin interface: loopback by default (it serves `/config_dump`,
/// `/quitquitquit` and runtime changes), exempt from the connection limit
/// so an operator can still reach it under a flood.
fn admin(hp: &HostPort) -> Node {
    let mut entries = vec![("address", socket_address(hp))];
    entries.push((
        "ignore_global_conn_limit",
        commented(
            &["Reachable under a connection flood (keep it on loopback)."],
            Node::Bool(true),
        ),
    ));
    map(entries)
}

/// Whether an address only accepts local connections.
pub fn is_loopback(host: &str) -> bool {
    host.starts_with("127.") || host == "::1" || host == "localhost"
}

fn url_host(hp: &HostPort) -> String {
    if hp.host.contains(':') {
        format!("[{}]:{}", hp.host, hp.port)
    } else {
        format!("{}:{}", hp.host, hp.port)
    }
}

/// `5000` -> `5s`, `1500` -> `1.5s`, `10` -> `0.01s` (protobuf Duration).
pub fn duration_ms(ms: u64) -> String {
    let (secs, rem) = (ms / 1000, ms % 1000);
    if rem == 0 {
        format!("{secs}s")
    } else {
        let frac = format!("{rem:03}");
        format!("{secs}.{}s", frac.trim_end_matches('0'))
    }
}

fn socket_address(hp: &HostPort) -> Node {
    map([(
        "socket_address",
        map([
            ("address", s(&hp.host)),
            ("port_value", Node::Int(u64::from(hp.port))),
        ]),
    )])
}

/// The stats tags extracted from the filter's counter names (tag, regex).
pub const STATS_TAGS: [(&str, &str); 5] = [
    ("model", r"^wasmcustom\.modelmux\.(m\.([^.]+)\.)"),
    (
        "provider",
        r"^wasmcustom\.modelmux\.(?:m\.[^.]+\.)?(p\.([^.]+)\.)",
    ),
    (
        "consumer",
        r"^wasmcustom\.modelmux\.m\.[^.]+\.p\.[^.]+\.(c\.([^.]+)\.)",
    ),
    (
        "reason",
        r"^wasmcustom\.modelmux\.(?:m\.[^.]+\.)?(r\.([^.]+)\.)",
    ),
    ("cluster", r"^wasmcustom\.modelmux\.(cl\.([^.]+)\.)"),
];

pub(super) fn stats_config() -> Node {
    let tag = |name: &str, regex: &str| map([("tag_name", s(name)), ("regex", s(regex))]);
    commented(
        &[
            "The filter names its counters modelmux.m.<model>.p.<provider>.<counter>",
            "(provider-only series: modelmux.p.<provider>.<counter>; refused requests:",
            "modelmux.[m.<model>.]r.<reason>.rejections; its clusters: modelmux.cl.<cluster>.clusters);",
            "Envoy prefixes wasm stats with \"wasmcustom.\". These extractors expose",
            "model, provider, consumer, reason and cluster as tags, e.g. in /stats/prometheus:",
            "  modelmux_requests{model=\"gpt-4o-mini\",provider=\"openai-mock\"} 3",
        ],
        map([(
            "stats_tags",
            Node::Seq(STATS_TAGS.iter().map(|(n, r)| tag(n, r)).collect()),
        )]),
    )
}

fn listener(loaded: &Loaded, opts: &Options) -> Node {
    let mut fields = vec![
        ("stat_prefix", s("gateway")),
        ("codec_type", s("AUTO")),
        (
            "stream_idle_timeout",
            commented(&["Long generations stream slowly."], s("300s")),
        ),
    ];
    fields.extend(hardening::hcm_timeouts(&opts.limits));
    fields.push(hardening::hcm_http2());
    fields.extend([
        ("access_log", seq([routes::access_log()])),
        ("route_config", routes::route_config(&loaded.config)),
        (
            "http_filters",
            seq([downstream_filter(loaded, opts), router_filter()]),
        ),
    ]);
    let hcm = typed(
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        fields,
    );
    let network = map([
        ("name", s("envoy.filters.network.http_connection_manager")),
        ("typed_config", hcm),
    ]);
    map([
        ("name", s("gateway")),
        ("address", socket_address(&opts.listen)),
        (
            "per_connection_buffer_limit_bytes",
            commented(
                &[
                    "The filter buffers whole bodies: the largest one it takes (--max-body-bytes).",
                    "It also bounds what Envoy buffers for a client that reads slowly.",
                ],
                Node::Int(opts.limits.max_body_bytes),
            ),
        ),
        ("filter_chains", seq([map([("filters", seq([network]))])])),
    ])
}

pub(super) fn downstream_filter(loaded: &Loaded, opts: &Options) -> Node {
    let mut vm = vec![
        ("runtime", s("envoy.wasm.runtime.v8")),
        ("vm_id", s(VM_ID)),
        ("code", code(opts)),
    ];
    if let Some(env) = environment(loaded, opts) {
        vm.push(("environment_variables", env));
    }
    let configuration = typed(
        "google.protobuf.StringValue",
        vec![("value", Node::Block(embedded_json(&loaded.text)))],
    );
    let config = map([
        ("name", s("modelmux")),
        ("root_id", s(DOWNSTREAM_ROOT_ID)),
        (
            "allow_on_headers_stop_iteration",
            commented(
                &["Required: the filter pauses in request headers to read the body."],
                Node::Bool(true),
            ),
        ),
        (
            "vm_config",
            Node::Anchor(VM_ANCHOR.to_string(), Box::new(map(vm))),
        ),
        (
            "configuration",
            Node::Anchor(CONFIG_ANCHOR.to_string(), Box::new(configuration)),
        ),
    ]);
    map([
        ("name", s("modelmux")),
        ("typed_config", typed(WASM_TYPE, vec![("config", config)])),
    ])
}

/// Where the VM loads the module from: the local file, or over HTTPS
/// (checked against its sha256) when rendering for Istio.
fn code(opts: &Options) -> Node {
    match &opts.remote {
        Some(r) => istio::remote_code(r),
        None => map([("local", map([("filename", s(&opts.wasm))]))]),
    }
}

/// `host_env_keys` for every key variable, except those given `--key`
/// values (`key_values`).
fn environment(loaded: &Loaded, opts: &Options) -> Option<Node> {
    let fixed: Vec<Node> = opts.keys.iter().map(|(_, v)| s(v)).collect();
    let host: Vec<Node> = loaded
        .key_envs
        .iter()
        .filter(|k| !opts.keys.iter().any(|(name, _)| name == *k))
        .map(s)
        .collect();
    let mut env = Vec::new();
    if !host.is_empty() {
        env.push((
            "host_env_keys",
            commented(
                &["Copied from Envoy's environment into the VM."],
                Node::Seq(host),
            ),
        ));
    }
    if !fixed.is_empty() {
        let pairs = opts
            .keys
            .iter()
            .zip(fixed)
            .map(|((k, _), v)| (k.clone(), v));
        env.push(("key_values", Node::Map(pairs.collect())));
    }
    (!env.is_empty()).then(|| map(env))
}

/// The JSON as written when it fits a literal block, else pretty-printed.
fn embedded_json(text: &str) -> String {
    let trimmed = text.trim();
    let ok = !trimmed.contains('\r')
        && trimmed
            .chars()
            .all(|c| c == '\n' || c == '\t' || !c.is_control());
    if ok && !trimmed.is_empty() {
        return format!("{trimmed}\n");
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .map(|t| format!("{t}\n"))
        .unwrap_or_default()
}

pub(super) fn router_filter() -> Node {
    map([
        ("name", s("envoy.filters.http.router")),
        (
            "typed_config",
            typed(
                "envoy.extensions.filters.http.router.v3.Router",
                vec![(
                    "suppress_envoy_headers",
                    commented(
                        &["Don't send x-envoy-* headers to the providers."],
                        Node::Bool(true),
                    ),
                )],
            ),
        ),
    ])
}

#[cfg(test)]
mod tests;

#[cfg(test)]
#[path = "cloud_tests.rs"]
mod cloud_tests;

#[cfg(test)]
#[path = "routes_tests.rs"]
mod routes_tests;

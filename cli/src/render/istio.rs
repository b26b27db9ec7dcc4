//! `modelmux render --istio`: the same gateway as the plain bootstrap, as
//! Istio resources for an ingress gateway.
//!
//! Why EnvoyFilter and not WasmPlugin: the filter pauses in request headers
//! until it has read the body, which Envoy only honours with
//! `allow_on_headers_stop_iteration: true`. WasmPlugin has no field for it
//! (the request would hang), and its ECDS-delivered config cannot be
//! patched, so the filter is inserted with an EnvoyFilter HTTP_FILTER patch
//! holding the very filter config the plain render writes.
//!
//! The module (about 2 MB, over the 1 MiB ConfigMap limit) is fetched by
//! Envoy over HTTPS from `--wasm-url` through a cluster of its own and
//! checked against its sha256 (`--wasm-sha256`, or computed from `--wasm`).
//!
//! Everything else comes from the plain render's own builders, so the two
//! cannot drift: every cluster (providers, token sources, the failover
//! rotation clusters with their outlier detection and upstream filter) is a
//! CLUSTER ADD; the failover routes are inserted before the
//! VirtualService's route, which is merged into the `cluster_header` route;
//! the local routes (/healthz, the unknown-path 404) follow it. YAML
//! anchors cannot cross documents, so the upstream filter's aliases are
//! expanded.

use sha2::{Digest, Sha256};

use super::{clusters, routes, Options, STATS_TAGS};
use crate::input::Loaded;
use crate::yaml::{self, commented, map, s, seq, Node};

pub const NAMESPACE: &str = "llm-gateway";
/// The label selecting the gateway pods (`istio: llm-gateway`).
pub const SELECTOR: (&str, &str) = ("istio", "llm-gateway");
/// The VirtualService route the EnvoyFilter patches find by name.
pub const ROUTE_NAME: &str = "modelmux";
/// The cluster Envoy fetches the module through.
pub const WASM_CLUSTER: &str = "modelmux_wasm_fetch";
const DEFAULT_CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Where Envoy fetches the module from.
#[derive(Debug, Clone)]
pub struct Remote {
    pub url: String,
    pub host: String,
    pub port: u16,
    pub sha256: String,
}

impl Remote {
    /// `https://host[:port]/path` and the module's sha256 (64 hex digits).
    pub fn new(url: &str, sha256: &str) -> Result<Remote, String> {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| format!("--wasm-url {url}: must be an https:// URL"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p > 0)),
            None => (authority, Some(443)),
        };
        let port = port.ok_or_else(|| format!("--wasm-url {url}: bad port"))?;
        if host.is_empty() || path.is_empty() {
            return Err(format!("--wasm-url {url}: needs a host and a path"));
        }
        let sha = sha256.to_ascii_lowercase();
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("--wasm-sha256 {sha256}: not 64 hex digits"));
        }
        Ok(Remote {
            url: url.to_string(),
            host: host.to_string(),
            port,
            sha256: sha,
        })
    }
}

/// The sha256 of a file, hex.
pub fn file_sha256(path: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!("--wasm {path}: {e} (build it with `make wasm`, or give --wasm-sha256)")
    })?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// `vm_config.code` for a remote module.
pub fn remote_code(r: &Remote) -> Node {
    let uri = map([
        ("uri", s(&r.url)),
        ("cluster", s(WASM_CLUSTER)),
        ("timeout", s("30s")),
    ]);
    map([(
        "remote",
        map([
            ("http_uri", uri),
            (
                "sha256",
                commented(
                    &["Envoy refuses a module with any other digest."],
                    s(&r.sha256),
                ),
            ),
            ("retry_policy", map([("num_retries", Node::Int(5))])),
        ]),
    )])
}

/// All resources, as one multi-document YAML stream.
pub fn render(loaded: &Loaded, opts: &Options) -> Result<String, String> {
    let remote = opts.remote.as_ref().ok_or("--istio needs --wasm-url")?;
    let config = &loaded.config;
    if config.providers.iter().any(|p| p.cluster == WASM_CLUSTER) {
        return Err(format!(
            "cluster `{WASM_CLUSTER}` is the module fetch cluster of --istio; rename the provider's cluster"
        ));
    }
    let buffer = opts.limits.max_body_bytes;
    let mut all = clusters::provider_clusters(config, buffer)?;
    all.extend(clusters::token_clusters(config));
    let (filter, anchors) = strip_anchors(super::downstream_filter(loaded, opts));
    for m in &config.models {
        for c in clusters::rotation_clusters(config, m, buffer) {
            all.push(expand_aliases(c, &anchors));
        }
    }
    all.push(wasm_cluster(remote));
    let docs = [
        (CONFIG_MAP_DOC, bootstrap_config_map()),
        ("", gateway()),
        ("", virtual_service(loaded)),
        (CLUSTERS_DOC, clusters_filter(all)),
        (FILTER_DOC, gateway_filter(loaded, filter, buffer)),
    ];
    let body: Vec<String> = docs
        .iter()
        .map(|(doc, node)| format!("{doc}{}", yaml::to_string(node)))
        .collect();
    Ok(format!("{}---\n{}", header(opts), body.join("---\n")))
}

fn header(opts: &Options) -> String {
    let mut out = String::from(
        "# Rendered by `modelmux render --istio` (cli/) from a modelmux filter config:\n\
         # edit the .json and re-render instead of editing this file (`make configs`):\n",
    );
    out.push_str(&format!("#   {}\n", opts.command));
    out.push_str(
        "# Istio resources for an ingress gateway whose pods carry the label\n\
         # `istio: llm-gateway`, in namespace llm-gateway. Apply this file alone:\n\
         # it holds the only modelmux filter (never add the WasmPlugin variant too).\n\
         # Before applying: host the module at the URL below and re-render with its\n\
         # sha256 (README, Istio), and patch the gateway Deployment with\n\
         # envoy/istio/patch/gateway-deployment.yaml (keys, stats, bootstrap).\n",
    );
    out
}

fn metadata(name: &str) -> Node {
    map([("name", s(name)), ("namespace", s(NAMESPACE))])
}

fn resource(api: &str, kind: &str, name: &str, spec: (&str, Node)) -> Node {
    map([
        ("apiVersion", s(api)),
        ("kind", s(kind)),
        ("metadata", metadata(name)),
        spec,
    ])
}

const CONFIG_MAP_DOC: &str = "\
# Labels (model, provider, consumer) for the filter's stats, merged into
# Istio's bootstrap by the gateway Deployment's bootstrapOverride annotation.
";
const CLUSTERS_DOC: &str = "\
# The plain render's clusters: providers, token sources, each failover model's
# rotation clusters (targets as priorities, outlier detection, the upstream
# modelmux filter), and the cluster the module is fetched through.
";
const FILTER_DOC: &str = "\
# The modelmux filter right before the router (after Istio's authn/authz
# filters), and the routes: failover routes before the VirtualService route,
# which becomes the cluster_header route, then /healthz and the 404.
";

/// Envoy merges this into Istio's bootstrap (annotation
/// `sidecar.istio.io/bootstrapOverride`): the stats tags of the plain render.
fn bootstrap_config_map() -> Node {
    let tags: Vec<serde_json::Value> = STATS_TAGS
        .iter()
        .map(|(n, r)| serde_json::json!({"tag_name": n, "regex": r}))
        .collect();
    let json = serde_json::json!({"stats_config": {"stats_tags": tags}});
    let text = serde_json::to_string_pretty(&json).unwrap_or_default();
    resource(
        "v1",
        "ConfigMap",
        "modelmux-bootstrap",
        (
            "data",
            map([("custom_bootstrap.json", Node::Block(format!("{text}\n")))]),
        ),
    )
}

fn selector() -> Node {
    map([(SELECTOR.0, s(SELECTOR.1))])
}

fn gateway() -> Node {
    let server = map([
        (
            "port",
            map([
                ("number", Node::Int(80)),
                ("name", s("http")),
                ("protocol", s("HTTP")),
            ]),
        ),
        (
            "hosts",
            commented(
                &[
                    "Every host: the filter rewrites :authority to the provider's host",
                    "before Envoy re-resolves the route, which must still match.",
                ],
                seq([s("*")]),
            ),
        ),
    ]);
    resource(
        "networking.istio.io/v1",
        "Gateway",
        "llm-gateway",
        (
            "spec",
            map([("selector", selector()), ("servers", seq([server]))]),
        ),
    )
}

fn virtual_service(loaded: &Loaded) -> Node {
    let remove = routes::headers_to_remove(&loaded.config);
    let destination = map([(
        "destination",
        map([
            ("host", s("modelmux-unrouted.invalid")),
            ("port", map([("number", Node::Int(80))])),
        ]),
    )]);
    let route = map([
        ("name", s(ROUTE_NAME)),
        ("match", seq([map([("uri", map([("prefix", s("/"))]))])])),
        (
            "route",
            commented(
                &["Placeholder: the EnvoyFilter merges cluster_header into this route."],
                seq([destination]),
            ),
        ),
        ("timeout", s(routes::ROUTE_TIMEOUT)),
        (
            "retries",
            commented(
                &["No retries here (Istio's default is 2); failover routes have their own."],
                map([("attempts", Node::Int(0))]),
            ),
        ),
        ("headers", map([("request", map([("remove", remove)]))])),
    ]);
    let spec = map([
        ("hosts", seq([s("*")])),
        ("gateways", seq([s("llm-gateway")])),
        ("http", seq([route])),
    ]);
    resource(
        "networking.istio.io/v1",
        "VirtualService",
        "modelmux",
        ("spec", spec),
    )
}

fn envoy_filter(name: &str, patches: Vec<Node>) -> Node {
    let spec = map([
        ("workloadSelector", map([("labels", selector())])),
        ("configPatches", Node::Seq(patches)),
    ]);
    resource(
        "networking.istio.io/v1alpha3",
        "EnvoyFilter",
        name,
        ("spec", spec),
    )
}

fn patch(apply_to: &str, matcher: Vec<(&str, Node)>, op: &str, value: Node) -> Node {
    let mut m = vec![("context", s("GATEWAY"))];
    m.extend(matcher);
    map([
        ("applyTo", s(apply_to)),
        ("match", map(m)),
        ("patch", map([("operation", s(op)), ("value", value)])),
    ])
}

fn clusters_filter(all: Vec<Node>) -> Node {
    let patches = all
        .into_iter()
        .map(|c| patch("CLUSTER", vec![], "ADD", c))
        .collect();
    envoy_filter("modelmux-clusters", patches)
}

fn route_match() -> Vec<(&'static str, Node)> {
    let route = map([("name", s(ROUTE_NAME))]);
    vec![(
        "routeConfiguration",
        map([("vhost", map([("route", route)]))]),
    )]
}

fn gateway_filter(loaded: &Loaded, filter: Node, buffer: u64) -> Node {
    let config = &loaded.config;
    // Every listener of the selected gateway, whatever port its pods bind
    // for the Gateway's port 80 (8080 with istioctl's ingress gateway, 80
    // with the istio/gateway chart).
    let mut patches = vec![patch(
        "LISTENER",
        vec![],
        "MERGE",
        map([(
            "per_connection_buffer_limit_bytes",
            commented(
                &["The filter buffers whole bodies: the largest one it takes."],
                Node::Int(buffer),
            ),
        )]),
    )];
    let hcm = map([
        ("name", s("envoy.filters.network.http_connection_manager")),
        ("subFilter", map([("name", s("envoy.filters.http.router"))])),
    ]);
    let at_router = map([("filterChain", map([("filter", hcm)]))]);
    patches.push(patch(
        "HTTP_FILTER",
        vec![("listener", at_router)],
        "INSERT_BEFORE",
        filter,
    ));
    for r in routes::failover_routes(config) {
        patches.push(patch("HTTP_ROUTE", route_match(), "INSERT_BEFORE", r));
    }
    let header = map([
        ("name", s(&config.cluster_header)),
        ("present_match", Node::Bool(true)),
    ]);
    let merged = map([
        ("match", map([("headers", seq([header]))])),
        (
            "route",
            map([
                ("cluster_header", s(&config.cluster_header)),
                ("timeout", s(routes::ROUTE_TIMEOUT)),
            ]),
        ),
    ]);
    patches.push(patch("HTTP_ROUTE", route_match(), "MERGE", merged));
    // INSERT_AFTER puts each right after the route: the last one first.
    for r in routes::local_routes().into_iter().rev() {
        patches.push(patch("HTTP_ROUTE", route_match(), "INSERT_AFTER", r));
    }
    envoy_filter("modelmux", patches)
}

fn wasm_cluster(r: &Remote) -> Node {
    let ep = modelmux_core::config::Endpoint {
        address: r.host.clone(),
        port: r.port,
        tls: true,
        sni: r.host.clone(),
        ca_file: DEFAULT_CA.to_string(),
    };
    let socket = map([
        ("address", s(&r.host)),
        ("port_value", Node::Int(u64::from(r.port))),
    ]);
    let endpoint = map([(
        "endpoint",
        map([("address", map([("socket_address", socket)]))]),
    )]);
    commented(
        &["Envoy fetches the module through this cluster (HTTPS, system CAs)."],
        map([
            ("name", s(WASM_CLUSTER)),
            ("type", s("STRICT_DNS")),
            ("dns_lookup_family", s("V4_PREFERRED")),
            ("connect_timeout", s("5s")),
            (
                "load_assignment",
                map([
                    ("cluster_name", s(WASM_CLUSTER)),
                    ("endpoints", seq([map([("lb_endpoints", seq([endpoint]))])])),
                ]),
            ),
            ("transport_socket", clusters::tls_socket(&ep)),
        ]),
    )
}

/// The node without its anchors, and what they named.
fn strip_anchors(node: Node) -> (Node, Vec<(String, Node)>) {
    let mut anchors = Vec::new();
    let node = strip(node, &mut anchors);
    (node, anchors)
}

fn strip(node: Node, anchors: &mut Vec<(String, Node)>) -> Node {
    match node {
        Node::Anchor(name, inner) => {
            let inner = strip(*inner, anchors);
            anchors.push((name, inner.clone()));
            inner
        }
        Node::Map(e) => Node::Map(e.into_iter().map(|(k, v)| (k, strip(v, anchors))).collect()),
        Node::Seq(i) => Node::Seq(i.into_iter().map(|v| strip(v, anchors)).collect()),
        Node::Commented(c, inner) => Node::Commented(c, Box::new(strip(*inner, anchors))),
        other => other,
    }
}

/// Aliases replaced by the nodes their anchors named.
fn expand_aliases(node: Node, anchors: &[(String, Node)]) -> Node {
    match node {
        Node::Alias(name) => anchors
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Node::Alias(name), |(_, v)| v.clone()),
        Node::Map(e) => Node::Map(
            e.into_iter()
                .map(|(k, v)| (k, expand_aliases(v, anchors)))
                .collect(),
        ),
        Node::Seq(i) => Node::Seq(i.into_iter().map(|v| expand_aliases(v, anchors)).collect()),
        Node::Commented(c, inner) => Node::Commented(c, Box::new(expand_aliases(*inner, anchors))),
        Node::Anchor(n, inner) => Node::Anchor(n, Box::new(expand_aliases(*inner, anchors))),
        other => other,
    }
}

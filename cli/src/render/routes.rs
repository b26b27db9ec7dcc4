//! The route table and the access log. Routes, in order: the failover
//! routes (matched on the filter's failover header), the default route
//! (requests the filter gave a cluster header), then Envoy's own answers
//! for requests the filter did not route: `/healthz` and a JSON 404.

use modelmux_core::config::Config;

use super::duration_ms;
use crate::input::{FAILOVER_HEADER, FAILOVER_JSON, FAILOVER_STREAM};
use crate::yaml::{commented, map, s, seq, typed, Node};

/// Request headers that may carry a credential (the ones the filter strips
/// from clients): never log them.
pub const CREDENTIAL_HEADERS: &[&str] = &modelmux_core::config::CREDENTIALS;

/// The access log's JSON keys and their Envoy format strings. Request
/// headers other than the request id are deliberately absent: the upstream
/// filter writes provider keys into the same header map the log reads.
/// For the same reason `path` is not `%REQ(:PATH)%`: the filter rewrites
/// `:path` for the provider (`/v1/messages`, Gemini's
/// `…:generateContent`), so it keeps the client's path in filter state and
/// the upstream one apart (Envoy sets `x-envoy-original-path` only for its
/// own route rewrites, not for a filter's).
pub fn access_log_format() -> Vec<(&'static str, &'static str)> {
    vec![
        ("start_time", "%START_TIME%"),
        ("request_id", "%REQ(X-REQUEST-ID)%"),
        ("method", "%REQ(:METHOD)%"),
        ("path", "%FILTER_STATE(wasm.modelmux_path:PLAIN)%"),
        (
            "upstream_path",
            "%FILTER_STATE(wasm.modelmux_upstream_path:PLAIN)%",
        ),
        ("status", "%RESPONSE_CODE%"),
        ("flags", "%RESPONSE_FLAGS%"),
        ("duration_ms", "%DURATION%"),
        ("upstream_cluster", "%UPSTREAM_CLUSTER%"),
        ("upstream_host", "%UPSTREAM_HOST%"),
        ("attempts", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%"),
        ("model", "%FILTER_STATE(wasm.modelmux_model:PLAIN)%"),
        ("provider", "%FILTER_STATE(wasm.modelmux_provider:PLAIN)%"),
        (
            "upstream_model",
            "%FILTER_STATE(wasm.modelmux_upstream_model:PLAIN)%",
        ),
        (
            "input_tokens",
            "%FILTER_STATE(wasm.modelmux_input_tokens:PLAIN)%",
        ),
        (
            "output_tokens",
            "%FILTER_STATE(wasm.modelmux_output_tokens:PLAIN)%",
        ),
        (
            "cached_tokens",
            "%FILTER_STATE(wasm.modelmux_cached_tokens:PLAIN)%",
        ),
        (
            "cache_write_tokens",
            "%FILTER_STATE(wasm.modelmux_cache_write_tokens:PLAIN)%",
        ),
        (
            "reasoning_tokens",
            "%FILTER_STATE(wasm.modelmux_reasoning_tokens:PLAIN)%",
        ),
        ("cost_usd", "%FILTER_STATE(wasm.modelmux_cost_usd:PLAIN)%"),
        ("ttft_ms", "%FILTER_STATE(wasm.modelmux_ttft_ms:PLAIN)%"),
        // Claude Code's session, for joining a session's requests; never a
        // metric label (unbounded).
        (
            "claude_code_session_id",
            "%FILTER_STATE(wasm.modelmux_session_id:PLAIN)%",
        ),
    ]
}

pub fn access_log() -> Node {
    let format = map(access_log_format().into_iter().map(|(k, v)| (k, s(v))));
    map([
        ("name", s("envoy.access_loggers.stdout")),
        (
            "typed_config",
            typed(
                "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                vec![(
                    "log_format",
                    commented(
                        &[
                            "No request headers: they can hold provider keys. `path` is the",
                            "client's (`-` if Envoy refused the request before the filter ran);",
                            "`upstream_path` is what the provider got (the serving attempt's).",
                        ],
                        map([("json_format", format)]),
                    ),
                )],
            ),
        ),
    ])
}

/// The path Kubernetes probes (and load balancers) can ask: answered by
/// Envoy itself, so it says the listener is up, not that providers are.
pub const HEALTH_PATH: &str = "/healthz";

/// The body of the 404 for any other path the filter does not route (it
/// passes non-`/v1` paths through, since in a mesh they belong to other
/// routes). Without it the client would get Envoy's bare 503 with an empty
/// body, and the usual cause is a `base_url` without `/v1`.
pub const UNKNOWN_PATH_BODY: &str = r#"{"error":{"message":"Unknown path (is /v1 missing from the client's base_url?). The gateway serves /v1/chat/completions, /v1/embeddings and /v1/models.","type":"invalid_request_error","code":"unknown_url"}}"#;

pub fn route_config(config: &Config) -> Node {
    let mut routes = failover_routes(config);
    let header = map([
        ("name", s(&config.cluster_header)),
        ("present_match", Node::Bool(true)),
    ]);
    routes.push(commented(
        &[
            "The filter reads the model from the body and writes the cluster to use",
            &format!(
                "to {}; Envoy then re-resolves the route.",
                config.cluster_header
            ),
        ],
        map([
            (
                "match",
                map([("prefix", s("/")), ("headers", seq([header]))]),
            ),
            ("route", route_action(config)),
            ("request_headers_to_remove", headers_to_remove(config)),
        ]),
    ));
    routes.extend(local_routes());
    map([
        ("name", s("modelmux")),
        (
            "virtual_hosts",
            seq([map([
                ("name", s("modelmux")),
                ("domains", seq([s("*")])),
                ("routes", Node::Seq(routes)),
            ])]),
        ),
    ])
}

/// Requests the filter did not route (no cluster header): the health path,
/// then an OpenAI-shaped 404 for everything else.
pub(super) fn local_routes() -> [Node; 2] {
    let health = commented(
        &["Liveness/readiness probes: Envoy answers, no provider is asked."],
        map([
            ("match", map([("path", s(HEALTH_PATH))])),
            ("direct_response", direct(200, r#"{"status":"ok"}"#)),
            ("response_headers_to_add", json_content_type()),
        ]),
    );
    let unknown = commented(
        &[
            "Any other path the filter passed through (not /v1): an OpenAI error,",
            "not Envoy's empty 503 (a base_url without /v1 is the usual cause).",
        ],
        map([
            ("match", map([("prefix", s("/"))])),
            ("direct_response", direct(404, UNKNOWN_PATH_BODY)),
            ("response_headers_to_add", json_content_type()),
        ]),
    );
    [health, unknown]
}

fn direct(status: u64, body: &str) -> Node {
    map([
        ("status", Node::Int(status)),
        ("body", map([("inline_string", s(body))])),
    ])
}

fn json_content_type() -> Node {
    seq([map([
        (
            "header",
            map([("key", s("content-type")), ("value", s("application/json"))]),
        ),
        ("append_action", s("OVERWRITE_IF_EXISTS_OR_ADD")),
    ])])
}

/// Internal routing headers: not for the provider's eyes.
pub(super) fn headers_to_remove(config: &Config) -> Node {
    seq([s(&config.cluster_header), s(FAILOVER_HEADER)])
}

/// The route timeout of streams and single-target models.
pub const ROUTE_TIMEOUT: &str = "300s";

fn route_action(config: &Config) -> Node {
    map([
        ("cluster_header", s(&config.cluster_header)),
        ("timeout", s(ROUTE_TIMEOUT)),
    ])
}

/// Retries for failover models: at most one attempt per target.
pub fn num_retries(config: &Config) -> Option<u64> {
    config
        .models
        .iter()
        .filter(|m| m.failover.is_some())
        .map(|m| m.targets.len().saturating_sub(1) as u64)
        .max()
}

/// What ends an attempt early on a failover route: streams stall before
/// their first byte (idle timeout); a non-streamed reply is silent until
/// done, so by default nothing does, unless the operator asked for a hard
/// per-attempt timeout.
fn attempt_timeout(config: &Config, kind: &str) -> Option<(&'static str, Node)> {
    let f = &config.failover;
    if kind == FAILOVER_STREAM {
        Some(("per_try_idle_timeout", s(duration_ms(f.attempt_timeout_ms))))
    } else {
        let ms = f.json_attempt_timeout_ms?;
        Some(("per_try_timeout", s(duration_ms(ms))))
    }
}

fn retry_policy(config: &Config, retries: u64, kind: &str) -> Node {
    let mut policy = vec![
        (
            "retry_on",
            s("5xx,reset,connect-failure,refused-stream,retriable-status-codes"),
        ),
        ("retriable_status_codes", seq([Node::Int(429)])),
        ("num_retries", Node::Int(retries)),
    ];
    policy.extend(attempt_timeout(config, kind));
    policy.extend(retry_target());
    map(policy)
}

/// Each retry to the next target, at once.
fn retry_target() -> Vec<(&'static str, Node)> {
    vec![
        (
            "retry_priority",
            commented(
                &["Each retry goes to the next priority, i.e. the next target."],
                map([
                    ("name", s("envoy.retry_priorities.previous_priorities")),
                    (
                        "typed_config",
                        typed(
                            "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
                            vec![("update_frequency", Node::Int(1))],
                        ),
                    ),
                ]),
            ),
        ),
        (
            "retry_host_predicate",
            seq([map([
                ("name", s("envoy.retry_host_predicates.previous_hosts")),
                (
                    "typed_config",
                    typed(
                        "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
                        vec![],
                    ),
                ),
            ])]),
        ),
        ("host_selection_retry_max_attempts", Node::Int(3)),
        (
            "retry_back_off",
            commented(
                &[
                    "A retry goes to another provider, so there is nothing to back off",
                    "from; Envoy's default (25 ms, jittered) would only add latency.",
                ],
                map([("base_interval", s("0.001s")), ("max_interval", s("0.005s"))]),
            ),
        ),
    ]
}

pub(super) fn failover_routes(config: &Config) -> Vec<Node> {
    let Some(retries) = num_retries(config) else {
        return Vec::new();
    };
    let stream = failover_route(config, retries, FAILOVER_STREAM, ROUTE_TIMEOUT, &[
        &format!("Failover models, streamed chats: the filter sets {FAILOVER_HEADER}: {FAILOVER_STREAM}"),
        "and names a rotation cluster (targets as priorities); a 429, 5xx, reset,",
        "connect failure or an attempt silent for failover.attempt_timeout_ms is",
        "retried on the next priority. Single-target models take the last route",
        "and pay no retry buffering.",
    ]);
    let json_timeout = duration_ms(config.failover.json_timeout_ms);
    let json = failover_route(config, retries, FAILOVER_JSON, &json_timeout, &[
        &format!("Failover models, non-streamed requests ({FAILOVER_HEADER}: {FAILOVER_JSON}): silent"),
        "until done, so a slow reply is waited for (failover.json_timeout_ms) rather",
        "than abandoned and paid for twice; failover.json_attempt_timeout_ms opts in",
        "to a per-attempt timeout.",
    ]);
    vec![stream, json]
}

fn failover_route(config: &Config, retries: u64, kind: &str, timeout: &str, doc: &[&str]) -> Node {
    let header = map([
        ("name", s(FAILOVER_HEADER)),
        ("string_match", map([("exact", s(kind))])),
    ]);
    let header_match = map([("prefix", s("/")), ("headers", seq([header]))]);
    let mut action = vec![
        ("cluster_header", s(&config.cluster_header)),
        ("timeout", s(timeout)),
        ("retry_policy", retry_policy(config, retries, kind)),
    ];
    if kind == FAILOVER_JSON {
        action.push((
            "idle_timeout",
            commented(
                &["Nothing moves until the reply is done: the stream idle timeout waits too."],
                s(timeout),
            ),
        ));
    }
    commented(
        doc,
        map([
            ("match", header_match),
            ("route", map(action)),
            ("request_headers_to_remove", headers_to_remove(config)),
            (
                "request_body_buffer_limit",
                commented(
                    &[
                        "The router replays the body from a copy kept up to this size; a",
                        "smaller limit silently cancels failover (retry_or_shadow_abandoned).",
                    ],
                    Node::Int(config.failover.retry_buffer_bytes),
                ),
            ),
        ]),
    )
}

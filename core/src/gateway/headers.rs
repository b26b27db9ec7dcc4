//! The upstream request header set, computed in one go.
//!
//! Every proxy-wasm host call crosses the VM boundary, and in Envoy that
//! crossing, not the work inside the filter, dominates the filter's cost. So
//! the shell reads the request headers once and writes the final set once,
//! and this module decides what that set is: the client's headers minus its
//! credentials, `accept-encoding` (bodies must come back readable), Envoy's
//! `x-envoy-*` control headers and any routing header the client tried to
//! set, plus the routing, authority, path and provider headers.

/// Client credentials that must never reach a provider.
pub const CLIENT_CREDENTIALS: [&str; 4] =
    ["authorization", "x-api-key", "api-key", "x-goog-api-key"];

/// Headers the filter always drops from what the client sent.
fn dropped(name: &str, cluster_header: &str) -> bool {
    CLIENT_CREDENTIALS.contains(&name)
        || name == "accept-encoding"
        // Envoy acts on x-envoy-* request headers (retry policy, timeouts):
        // the route's policy is the operator's, not the client's.
        || name.starts_with("x-envoy-")
        || name == cluster_header
        // The filter's own headers (failover marker, record id) are the
        // filter's alone.
        || name.starts_with(crate::session::OWN_PREFIX)
        // A rewritten body is never the client's encoding; compressed
        // bodies are refused before this (415).
        || name == "content-encoding"
}

/// The client's headers without what must never go upstream: its
/// credentials, `accept-encoding` and the filter's routing headers.
pub fn sanitized(client: Vec<(String, String)>, cluster_header: &str) -> Vec<(String, String)> {
    client
        .into_iter()
        .filter(|(n, _)| !dropped(n, cluster_header))
        .collect()
}

/// What replaces the client's headers on the way upstream. An empty
/// `cluster` adds no routing header (an upstream attempt is already routed).
#[derive(Debug, Clone, Copy)]
pub struct Rewrite<'a> {
    pub cluster_header: &'a str,
    pub cluster: &'a str,
    pub authority: &'a str,
    pub path: &'a str,
    /// Provider headers (auth, version, content type); they override.
    pub extra: &'a [(&'static str, String)],
    /// `Some(len)` when the body was replaced.
    pub body_len: Option<usize>,
}

/// The complete upstream header list, pseudo-headers first.
pub fn upstream_headers(client: Vec<(String, String)>, rw: &Rewrite<'_>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(client.len() + rw.extra.len() + 2);
    for (name, value) in client {
        let replaced = match name.as_str() {
            ":authority" | ":path" => true,
            "content-length" | "transfer-encoding" => rw.body_len.is_some(),
            n => dropped(n, rw.cluster_header) || rw.extra.iter().any(|(e, _)| *e == n),
        };
        if !replaced {
            out.push((name, value));
        }
    }
    let pseudo = out.iter().take_while(|(n, _)| n.starts_with(':')).count();
    out.splice(
        pseudo..pseudo,
        [
            (":authority".to_string(), rw.authority.to_string()),
            (":path".to_string(), rw.path.to_string()),
        ],
    );
    if !rw.cluster.is_empty() {
        out.push((rw.cluster_header.to_string(), rw.cluster.to_string()));
    }
    out.extend(rw.extra.iter().map(|(n, v)| ((*n).to_string(), v.clone())));
    if let Some(len) = rw.body_len {
        out.push(("content-length".to_string(), len.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn replaces_routing_and_drops_credentials() {
        let client = h(&[
            (":method", "POST"),
            (":path", "/v1/chat/completions"),
            (":authority", "gw"),
            (":scheme", "http"),
            ("authorization", "Bearer client"),
            ("x-api-key", "client"),
            ("accept-encoding", "gzip"),
            ("x-modelmux-cluster", "evil"),
            ("x-envoy-max-retries", "9"),
            ("x-modelmux-failover", "1"),
            ("content-type", "text/plain"),
            ("content-length", "10"),
            ("x-trace", "1"),
        ]);
        let extra = [
            ("content-type", "application/json".to_string()),
            ("x-api-key", "sk".to_string()),
        ];
        let rw = Rewrite {
            cluster_header: "x-modelmux-cluster",
            cluster: "anthropic",
            authority: "api.anthropic.com",
            path: "/v1/messages",
            extra: &extra,
            body_len: Some(42),
        };
        let out = upstream_headers(client, &rw);
        assert_eq!(
            out,
            h(&[
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", "api.anthropic.com"),
                (":path", "/v1/messages"),
                ("x-trace", "1"),
                ("x-modelmux-cluster", "anthropic"),
                ("content-type", "application/json"),
                ("x-api-key", "sk"),
                ("content-length", "42"),
            ])
        );
    }

    #[test]
    fn keeps_content_length_when_body_unchanged() {
        let client = h(&[(":path", "/v1/chat/completions"), ("content-length", "10")]);
        let rw = Rewrite {
            cluster_header: "x-c",
            cluster: "c",
            authority: "a",
            path: "/p",
            extra: &[],
            body_len: None,
        };
        let out = upstream_headers(client, &rw);
        assert!(out.contains(&("content-length".to_string(), "10".to_string())));
    }
}

//! The upstream request header set, computed in one go, from an allowlist.
//!
//! Every proxy-wasm host call crosses the VM boundary, and in Envoy that
//! crossing, not the work inside the filter, dominates the filter's cost. So
//! the shell reads the request headers once and writes the final set once,
//! and this module decides what that set is, on the vector already read.
//!
//! **A provider receives only what it needs.** A client's headers are its
//! own business: cookies, proxy credentials, internal tokens, its OpenAI
//! organization, the consumer header the gateway bills by. So the set is
//! built from an allowlist, not a denylist:
//!
//! * pseudo-headers (`:authority` and `:path` are the provider's), and the
//!   body's framing (`content-length`, `transfer-encoding`) while the body
//!   goes up unchanged;
//! * `content-type` and `accept`: what the body is and what comes back;
//! * `x-request-id`: ties the provider's logs to the gateway's;
//! * `x-forwarded-proto`: its router finds no route for a request without
//!   it; Envoy keeps a client's value, so anything but `http` or `https`
//!   goes up as `http`;
//! * the provider kind's own protocol headers a client may set
//!   ([`crate::providers::Kind::client_headers`]: `anthropic-beta` toward
//!   Anthropic, `x-ms-client-request-id` toward Azure, `x-client-name`
//!   toward Cohere), kept short on purpose: options that are body fields
//!   in a provider's API (Bedrock, Gemini, Vertex) need no header;
//! * whatever the operator adds in `headers.request` (globally or per
//!   provider; validated in `config::headers`).
//!
//! Whatever the rules say, some headers never go up: the client's
//! credentials (`authorization`, `x-api-key`, `api-key`, `x-goog-api-key`,
//! `proxy-authorization`, `cookie`), its OpenAI account
//! (`openai-organization`, `openai-project`: usage would be billed to an
//! account the gateway's key does not own), the consumer header,
//! `accept-encoding` (bodies must come back readable), `content-encoding`
//! (compressed bodies are refused with a 415), Envoy's `x-envoy-*`
//! control headers (the route's retry policy is the operator's) and the
//! filter's `x-modelmux-*` routing headers. The provider's own headers (auth,
//! version, content type from the translator) are added last and replace a
//! client's header of the same name.

use crate::config::{HeaderRules, Provider, CLIENT_ACCOUNT, CREDENTIALS};

/// Headers every provider may receive from the client.
const BASE: [&str; 4] = [
    "content-type",
    "accept",
    "x-request-id",
    "x-forwarded-proto",
];

/// What one provider may receive besides [`BASE`].
#[derive(Debug, Clone, Copy)]
pub struct Egress<'a> {
    /// The kind's client-settable protocol headers.
    pub protocol: &'static [&'static str],
    /// The operator's `headers.request` rules (global and the provider's).
    pub operator: &'a HeaderRules,
}

impl<'a> Egress<'a> {
    pub fn of(p: &'a Provider) -> Self {
        Egress {
            protocol: p.options.client_headers(),
            operator: &p.headers.request,
        }
    }

    fn allows(&self, name: &str) -> bool {
        BASE.contains(&name) || self.protocol.contains(&name) || self.operator.matches(name)
    }
}

/// Names that never go up, whatever the allowlist says.
#[derive(Debug, Clone, Copy)]
pub struct Never<'a> {
    pub cluster_header: &'a str,
    /// `consumers.header`, when configured.
    pub consumer: Option<&'a str>,
}

impl Never<'_> {
    pub fn of(cfg: &crate::config::Config) -> Never<'_> {
        Never {
            cluster_header: &cfg.cluster_header,
            consumer: cfg.consumers.as_ref().map(|c| c.header.as_str()),
        }
    }

    fn drops(&self, name: &str) -> bool {
        CREDENTIALS.contains(&name)
            || CLIENT_ACCOUNT.contains(&name)
            || name == "accept-encoding"
            // A body that goes up is never in the client's encoding: a
            // compressed one is refused (415) before routing.
            || name == "content-encoding"
            || name.starts_with("x-envoy-")
            || name.starts_with("x-modelmux-")
            || name == self.cluster_header
            || self.consumer == Some(name)
    }
}

/// The client's headers without what never goes upstream; what a failover
/// request's record keeps for its attempts.
pub fn sanitized(client: Vec<(String, String)>, never: Never<'_>) -> Vec<(String, String)> {
    client
        .into_iter()
        .filter(|(n, _)| !never.drops(n))
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
    pub egress: Egress<'a>,
    pub never: Never<'a>,
}

impl Rewrite<'_> {
    /// Whether the client's `name` goes up as sent.
    fn keeps(&self, name: &str) -> bool {
        match name {
            ":authority" | ":path" => false,
            "content-length" | "transfer-encoding" => self.body_len.is_none(),
            n if self.never.drops(n) || self.extra.iter().any(|(e, _)| *e == n) => false,
            n => n.starts_with(':') || self.egress.allows(n),
        }
    }
}

/// `x-forwarded-proto` is a scheme, not a channel for client text.
fn forwarded_proto((name, value): (String, String)) -> (String, String) {
    if name == "x-forwarded-proto" && value != "http" && value != "https" {
        return (name, "http".to_string());
    }
    (name, value)
}

/// The complete upstream header list, pseudo-headers first.
pub fn upstream_headers(client: Vec<(String, String)>, rw: &Rewrite<'_>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(client.len() + rw.extra.len() + 2);
    out.extend(
        client
            .into_iter()
            .filter(|(n, _)| rw.keeps(n))
            .map(forwarded_proto),
    );
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

    const NEVER: Never<'static> = Never {
        cluster_header: "x-modelmux-cluster",
        consumer: Some("x-team"),
    };

    fn rewrite<'a>(
        extra: &'a [(&'static str, String)],
        egress: Egress<'a>,
        body_len: Option<usize>,
    ) -> Rewrite<'a> {
        Rewrite {
            cluster_header: "x-modelmux-cluster",
            cluster: "anthropic",
            authority: "api.anthropic.com",
            path: "/v1/messages",
            extra,
            body_len,
            egress,
            never: NEVER,
        }
    }

    fn anthropic(operator: &HeaderRules) -> Egress<'_> {
        Egress {
            protocol: &["anthropic-beta", "anthropic-version"],
            operator,
        }
    }

    /// A client request with everything a client might send.
    fn noisy() -> Vec<(String, String)> {
        h(&[
            (":method", "POST"),
            (":path", "/v1/chat/completions"),
            (":authority", "gw"),
            (":scheme", "http"),
            ("authorization", "Bearer client"),
            ("x-api-key", "client"),
            ("cookie", "session=1"),
            ("proxy-authorization", "Basic x"),
            ("openai-organization", "org-client"),
            ("openai-project", "proj-client"),
            ("x-team", "search"),
            ("x-internal-token", "secret"),
            ("accept-encoding", "gzip"),
            ("x-modelmux-cluster", "evil"),
            ("x-envoy-max-retries", "9"),
            ("x-modelmux-failover", "1"),
            ("user-agent", "sdk/1"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-proto", "https"),
            ("content-type", "text/plain"),
            ("accept", "application/json"),
            ("content-length", "10"),
            ("x-request-id", "r1"),
            ("anthropic-beta", "tools-2024"),
            ("anthropic-version", "1999-01-01"),
            ("x-trace-id", "t1"),
            ("x-random", "1"),
        ])
    }

    #[test]
    fn only_the_allowlist_goes_up_and_provider_headers_win() {
        let extra = [
            ("content-type", "application/json".to_string()),
            ("x-api-key", "sk".to_string()),
            ("anthropic-version", "2023-06-01".to_string()),
        ];
        let none = HeaderRules::default();
        let out = upstream_headers(noisy(), &rewrite(&extra, anthropic(&none), Some(42)));
        assert_eq!(
            out,
            h(&[
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", "api.anthropic.com"),
                (":path", "/v1/messages"),
                ("x-forwarded-proto", "https"),
                ("accept", "application/json"),
                ("x-request-id", "r1"),
                ("anthropic-beta", "tools-2024"),
                ("x-modelmux-cluster", "anthropic"),
                ("content-type", "application/json"),
                ("x-api-key", "sk"),
                ("anthropic-version", "2023-06-01"),
                ("content-length", "42"),
            ])
        );
    }

    #[test]
    fn forwarded_proto_is_only_a_scheme() {
        let none = HeaderRules::default();
        let mut client = noisy();
        for (n, v) in client.iter_mut() {
            if n == "x-forwarded-proto" {
                *v = "client text".to_string();
            }
        }
        let out = upstream_headers(client, &rewrite(&[], anthropic(&none), None));
        let proto = out.iter().find(|(n, _)| n == "x-forwarded-proto");
        assert_eq!(proto.map(|(_, v)| v.as_str()), Some("http"));
    }

    #[test]
    fn protocol_headers_belong_to_their_kind() {
        let none = HeaderRules::default();
        let openai = Egress {
            protocol: &[],
            operator: &none,
        };
        let out = upstream_headers(noisy(), &rewrite(&[], openai, None));
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert!(!names.contains(&"anthropic-beta"), "{names:?}");
        assert!(!names.contains(&"openai-organization"), "{names:?}");
        assert!(
            names.contains(&"content-length"),
            "an unchanged body keeps its length"
        );
    }

    #[test]
    fn operator_rules_extend_the_allowlist() {
        let cfg = serde_json::json!({
            "providers": [{"name": "an", "type": "anthropic", "cluster": "c", "host": "a.test",
                "headers": {"request": ["x-random"]}}],
            "models": [{"name": "m", "targets": [{"provider": "an", "model": "x"}]}],
            "headers": {"request": ["x-trace-*"]}
        });
        let cfg = crate::config::Config::from_json(cfg.to_string().as_bytes(), &|_| None).unwrap();
        let p = &cfg.providers[0];
        let out = upstream_headers(noisy(), &rewrite(&[], Egress::of(p), None));
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"x-trace-id") && names.contains(&"x-random"));
        assert!(names.contains(&"anthropic-beta"), "{names:?}");
        for gone in [
            "cookie",
            "x-team",
            "x-internal-token",
            "user-agent",
            "openai-project",
        ] {
            assert!(!names.contains(&gone), "{gone}: {names:?}");
        }
    }

    #[test]
    fn sanitized_keeps_only_what_an_attempt_may_use() {
        let kept = sanitized(noisy(), NEVER);
        let names: Vec<&str> = kept.iter().map(|(n, _)| n.as_str()).collect();
        for gone in [
            "authorization",
            "cookie",
            "proxy-authorization",
            "openai-organization",
            "openai-project",
            "x-team",
            "x-envoy-max-retries",
            "x-modelmux-failover",
            "accept-encoding",
        ] {
            assert!(!names.contains(&gone), "{gone}");
        }
        assert!(
            names.contains(&"x-random"),
            "the provider's allowlist decides later"
        );
    }
}

//! The response header set a client gets back, from an allowlist.
//!
//! A provider's response headers are the provider's, not the gateway's: a
//! `set-cookie` would land on the gateway's origin, a `location` would send
//! the client elsewhere, `x-envoy-*` headers steer Envoys downstream, and a
//! provider could forge the filter's own `x-modelmux-provider` and
//! `x-modelmux-status`. So both roles (the direct single-target path and
//! every failover attempt) pass on only what OpenAI clients and SDKs read:
//!
//! * `:status`, `content-type`, and `content-length` while the body is
//!   unchanged (a translated body gets its own length; see
//!   `session::response`);
//! * `date`, and `cache-control` (`no-cache` keeps intermediaries from
//!   buffering a stream);
//! * `retry-after` and `retry-after-ms`, which the SDKs' retry loops honour;
//! * rate-limit headers: `x-ratelimit-*` (OpenAI, Azure and most
//!   compatible services) and `anthropic-ratelimit-*`;
//! * the provider kind's request-id header
//!   ([`crate::providers::Kind::reply_headers`]: `x-request-id` for OpenAI,
//!   `request-id` for Anthropic, `apim-request-id` for Azure,
//!   `x-amzn-requestid` for Bedrock), what a support ticket asks for;
//! * whatever the operator adds in `headers.response`.
//!
//! `x-modelmux-*`, `x-envoy-*` and `set-cookie` never pass, whatever the
//! rules say; the filter writes its own `x-modelmux-*` after filtering.
//! The filter works on the header vector it already read (one `get_map`)
//! and writes the result once (one `set_map`), so filtering costs no host
//! call.

use crate::config::{HeaderRules, Provider};

const BASE: [&str; 6] = [
    "content-type",
    "content-length",
    "date",
    "cache-control",
    "retry-after",
    "retry-after-ms",
];
const PREFIXES: [&str; 2] = ["x-ratelimit-", "anthropic-ratelimit-"];

/// What a client may see of one provider's response head.
#[derive(Debug, Clone, Copy)]
pub struct Ingress<'a> {
    /// The kind's response headers (its request id).
    pub reply: &'static [&'static str],
    /// The operator's `headers.response` rules.
    pub operator: &'a HeaderRules,
}

impl<'a> Ingress<'a> {
    pub fn of(p: &'a Provider) -> Self {
        Ingress {
            reply: p.options.reply_headers(),
            operator: &p.headers.response,
        }
    }

    /// Whether `name` (lowercase) reaches the client.
    pub fn keeps(&self, name: &str) -> bool {
        if name.starts_with("x-modelmux-") || name.starts_with("x-envoy-") || name == "set-cookie" {
            return false;
        }
        name.starts_with(':')
            || BASE.contains(&name)
            || PREFIXES.iter().any(|p| name.starts_with(p))
            || self.reply.contains(&name)
            || self.operator.matches(name)
    }

    /// The head without what the client must not see.
    pub fn filter(&self, head: Vec<(String, String)>) -> Vec<(String, String)> {
        head.into_iter().filter(|(n, _)| self.keeps(n)).collect()
    }
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

    fn hostile() -> Vec<(String, String)> {
        h(&[
            (":status", "429"),
            ("content-type", "application/json"),
            ("content-length", "12"),
            ("date", "Mon, 07 Dec 2026 00:00:00 GMT"),
            ("retry-after", "2"),
            ("retry-after-ms", "2000"),
            ("x-ratelimit-remaining-requests", "0"),
            ("anthropic-ratelimit-tokens-remaining", "5"),
            ("request-id", "req_1"),
            ("x-request-id", "up-1"),
            ("set-cookie", "sid=provider"),
            ("location", "https://evil.example/"),
            ("x-envoy-upstream-service-time", "3"),
            ("x-envoy-overloaded", "true"),
            ("x-modelmux-provider", "forged"),
            ("x-modelmux-status", "200"),
            ("x-cache-hit", "1"),
            ("via", "provider-proxy"),
        ])
    }

    fn names(v: &[(String, String)]) -> Vec<&str> {
        v.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn keeps_what_clients_read_and_nothing_else() {
        let none = HeaderRules::default();
        let anthropic = Ingress {
            reply: &["request-id"],
            operator: &none,
        };
        let out = anthropic.filter(hostile());
        assert_eq!(
            names(&out),
            [
                ":status",
                "content-type",
                "content-length",
                "date",
                "retry-after",
                "retry-after-ms",
                "x-ratelimit-remaining-requests",
                "anthropic-ratelimit-tokens-remaining",
                "request-id",
            ]
        );
        let openai = Ingress {
            reply: &["x-request-id"],
            operator: &none,
        };
        let out = openai.filter(hostile());
        assert!(names(&out).contains(&"x-request-id"));
        assert!(!names(&out).contains(&"request-id"));
    }

    #[test]
    fn operator_rules_extend_but_never_reach_the_filters_own() {
        let cfg = serde_json::json!({
            "providers": [{"name": "oa", "type": "openai", "cluster": "c", "host": "o.test",
                "headers": {"response": ["via"]}}],
            "models": [{"name": "m", "targets": [{"provider": "oa", "model": "x"}]}],
            "headers": {"response": ["x-cache-*"]}
        });
        let cfg = crate::config::Config::from_json(cfg.to_string().as_bytes(), &|_| None).unwrap();
        let ingress = Ingress::of(&cfg.providers[0]);
        let out = ingress.filter(hostile());
        let kept = names(&out);
        assert!(kept.contains(&"x-cache-hit") && kept.contains(&"via"));
        for gone in [
            "set-cookie",
            "location",
            "x-envoy-overloaded",
            "x-modelmux-status",
        ] {
            assert!(!kept.contains(&gone), "{gone}");
        }
    }
}

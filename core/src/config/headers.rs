//! The operator's extensions of the header allowlists (`headers`).
//!
//! What crosses the gateway is decided by allowlists in
//! `gateway::headers`; an operator who needs more (a tracing header, a
//! header a private deployment expects) names it here, globally or per
//! provider, as an exact name or a prefix ending in `*`. Extensions can only
//! add harmless headers: a rule that would let a credential, the client's
//! account headers, the consumer header or a routing header through is a
//! load-time error naming the rule, because such a header going up (or a
//! provider forging one coming back) is exactly what the allowlists exist to
//! prevent. A broad prefix such as `x-*` is refused for the same reason: it
//! covers `x-api-key`.

use serde::Deserialize;

use super::{err, is_token, ConfigError};

/// `headers` as written (top level or in a provider).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHeaders {
    #[serde(default)]
    request: Vec<String>,
    #[serde(default)]
    response: Vec<String>,
}

/// Header names matched exactly or by prefix (lowercase).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderRules {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl HeaderRules {
    /// Whether `name` (lowercase, as Envoy hands headers over) is listed.
    pub fn matches(&self, name: &str) -> bool {
        self.exact.iter().any(|e| e == name) || self.prefixes.iter().any(|p| name.starts_with(p))
    }

    fn extend(&mut self, other: &HeaderRules) {
        self.exact.extend(other.exact.iter().cloned());
        self.prefixes.extend(other.prefixes.iter().cloned());
    }
}

/// The operator's additions, for requests going up and responses coming
/// back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderPolicy {
    pub request: HeaderRules,
    pub response: HeaderRules,
}

impl HeaderPolicy {
    /// This policy plus `other`'s rules (a provider's on top of the global).
    pub fn merged(&self, other: &HeaderPolicy) -> HeaderPolicy {
        let mut out = self.clone();
        out.request.extend(&other.request);
        out.response.extend(&other.response);
        out
    }
}

/// Credentials: never forwarded in either direction, never allowed.
pub const CREDENTIALS: [&str; 6] = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "proxy-authorization",
    "cookie",
];

/// The client's OpenAI account (organization and project): usage would be
/// billed to an account the gateway's key does not own.
pub const CLIENT_ACCOUNT: [&str; 2] = ["openai-organization", "openai-project"];

/// Header families that belong to Envoy or to the filter.
const FAMILIES: [&str; 2] = ["x-envoy-", "x-modelmux-"];

/// Names the filter computes itself (framing, authority, encoding).
const MANAGED_REQUEST: [&str; 4] = [
    "host",
    "content-length",
    "transfer-encoding",
    "accept-encoding",
];
const MANAGED_RESPONSE: [&str; 3] = ["content-length", "transfer-encoding", "set-cookie"];

/// What no rule may match, beyond the fixed lists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reserved<'a> {
    pub cluster_header: &'a str,
    pub consumer_header: Option<&'a str>,
}

impl Reserved<'_> {
    /// The first reserved name or family a rule would let through.
    fn conflict(&self, rule: &Rule, response: bool) -> Option<String> {
        let managed: &[&str] = if response {
            &MANAGED_RESPONSE
        } else {
            &MANAGED_REQUEST
        };
        let names = CREDENTIALS
            .iter()
            .chain(CLIENT_ACCOUNT.iter())
            .chain(managed.iter())
            .copied()
            .chain([self.cluster_header])
            .chain(self.consumer_header);
        for name in names {
            if rule.covers(name) {
                return Some(format!("`{name}`"));
            }
        }
        FAMILIES
            .iter()
            .find(|f| rule.overlaps_family(f))
            .map(|f| format!("`{f}*`"))
    }
}

enum Rule {
    Exact(String),
    Prefix(String),
}

impl Rule {
    fn covers(&self, name: &str) -> bool {
        match self {
            Rule::Exact(e) => e == name,
            Rule::Prefix(p) => name.starts_with(p.as_str()),
        }
    }

    fn overlaps_family(&self, family: &str) -> bool {
        match self {
            Rule::Exact(e) => e.starts_with(family),
            Rule::Prefix(p) => p.starts_with(family) || family.starts_with(p.as_str()),
        }
    }
}

fn parse_rule(raw: &str, path: &str) -> Result<Rule, ConfigError> {
    let name = raw.trim().to_ascii_lowercase();
    let (body, prefix) = match name.strip_suffix('*') {
        Some(p) => (p, true),
        None => (name.as_str(), false),
    };
    if !is_token(body) || body.contains('*') {
        return Err(err(
            path,
            format!("`{raw}` is not a header name (or a prefix ending in `*`)"),
        ));
    }
    Ok(if prefix {
        Rule::Prefix(body.to_string())
    } else {
        Rule::Exact(body.to_string())
    })
}

fn compile_rules(
    raw: &[String],
    path: &str,
    reserved: &Reserved<'_>,
    response: bool,
) -> Result<HeaderRules, ConfigError> {
    let mut rules = HeaderRules::default();
    for (i, entry) in raw.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let rule = parse_rule(entry, &at)?;
        if let Some(what) = reserved.conflict(&rule, response) {
            return Err(err(
                at,
                format!("`{entry}` would let {what} through: credentials, the client's account, the consumer header and routing headers never cross the gateway"),
            ));
        }
        match rule {
            Rule::Exact(e) => rules.exact.push(e),
            Rule::Prefix(p) => rules.prefixes.push(p),
        }
    }
    Ok(rules)
}

/// Validates `headers` at `path` (e.g. `headers`, `providers[0].headers`).
pub(crate) fn compile(
    raw: Option<RawHeaders>,
    path: &str,
    reserved: &Reserved<'_>,
) -> Result<HeaderPolicy, ConfigError> {
    let raw = raw.unwrap_or_default();
    Ok(HeaderPolicy {
        request: compile_rules(&raw.request, &format!("{path}.request"), reserved, false)?,
        response: compile_rules(&raw.response, &format!("{path}.response"), reserved, true)?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::{Config, ConfigError};

    fn load(headers: serde_json::Value, own: serde_json::Value) -> Result<Config, ConfigError> {
        let mut provider =
            json!({"name": "an", "type": "anthropic", "cluster": "c", "host": "a.test"});
        if !own.is_null() {
            provider["headers"] = own;
        }
        let mut v = json!({
            "providers": [provider],
            "models": [{"name": "m", "targets": [{"provider": "an", "model": "x"}]}],
            "consumers": {"header": "x-team", "allowed": ["a"]}
        });
        if !headers.is_null() {
            v["headers"] = headers;
        }
        Config::from_json(v.to_string().as_bytes(), &|_| None)
    }

    #[test]
    fn global_and_provider_rules_merge_lowercased() {
        let c = load(
            json!({"request": ["X-Trace-*", "x-tenant"], "response": ["x-cache"]}),
            json!({"request": ["x-deployment"]}),
        )
        .unwrap();
        let h = &c.providers[0].headers;
        for name in ["x-trace-id", "x-trace-", "x-tenant", "x-deployment"] {
            assert!(h.request.matches(name), "{name}");
        }
        for name in ["x-trace", "x-tenant-2", "x-cache", "x-random"] {
            assert!(!h.request.matches(name), "{name}");
        }
        assert!(h.response.matches("x-cache"));
        assert!(!h.response.matches("x-trace-id"));
    }

    #[test]
    fn no_headers_means_no_extension() {
        let c = load(serde_json::Value::Null, serde_json::Value::Null).unwrap();
        assert_eq!(c.providers[0].headers, Default::default());
    }

    #[test]
    fn errors_name_the_rule() {
        let cases = [
            (
                json!({"request": ["cookie"]}),
                "headers.request[0]",
                "`cookie`",
            ),
            (
                json!({"request": ["x-ok", "Proxy-Authorization"]}),
                "headers.request[1]",
                "`proxy-authorization`",
            ),
            (
                json!({"request": ["x-*"]}),
                "headers.request[0]",
                "`x-api-key`",
            ),
            (
                json!({"request": ["*"]}),
                "headers.request[0]",
                "not a header name",
            ),
            (
                json!({"request": ["openai-organization"]}),
                "headers.request[0]",
                "`openai-organization`",
            ),
            (
                json!({"request": ["x-team"]}),
                "headers.request[0]",
                "`x-team`",
            ),
            (
                json!({"request": ["x-modelmux-cluster"]}),
                "headers.request[0]",
                "`x-modelmux-cluster`",
            ),
            (
                json!({"request": ["x-envoy-max-retries"]}),
                "headers.request[0]",
                "`x-envoy-*`",
            ),
            (
                json!({"request": ["x-env*"]}),
                "headers.request[0]",
                "`x-envoy-*`",
            ),
            (
                json!({"request": ["accept-encoding"]}),
                "headers.request[0]",
                "`accept-encoding`",
            ),
            (
                json!({"response": ["set-cookie"]}),
                "headers.response[0]",
                "`set-cookie`",
            ),
            (
                json!({"response": ["x-modelmux-status"]}),
                "headers.response[0]",
                "`x-modelmux-*`",
            ),
            (
                json!({"request": ["bad name"]}),
                "headers.request[0]",
                "not a header name",
            ),
            (
                json!({"request": ["a*b"]}),
                "headers.request[0]",
                "not a header name",
            ),
            (
                json!({"request": [""]}),
                "headers.request[0]",
                "not a header name",
            ),
        ];
        for (headers, path, says) in cases {
            let e = load(headers.clone(), serde_json::Value::Null).unwrap_err();
            assert_eq!(e.path, path, "{headers}");
            assert!(e.message.contains(says), "{headers}: {}", e.message);
        }
        let e = load(serde_json::Value::Null, json!({"request": ["x-api-key"]})).unwrap_err();
        assert_eq!(e.path, "providers[0].headers.request[0]");
        let e = load(json!({"requests": []}), serde_json::Value::Null).unwrap_err();
        assert!(e.path.starts_with("headers"), "{e:?}");
        assert!(e.message.contains("unknown field"), "{e:?}");
        let e = load(serde_json::Value::Null, json!({"request": "x-a"})).unwrap_err();
        assert!(e.path.starts_with("providers[0]"), "{e:?}");
    }
}

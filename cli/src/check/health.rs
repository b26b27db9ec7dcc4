//! Active health checks against SaaS APIs. An Envoy health check carries
//! no key, and a SaaS API (a provider at its kind's own public host) wants
//! one on every path: with Envoy's default expectation (200 only) every
//! check fails with a 401 and the provider is marked unhealthy while it
//! serves real requests fine. `modelmux render` renders none for them;
//! this flags one written (or kept) by hand that can only fail.

use modelmux_core::config::Config;
use serde_json::Value;

use super::clusters::{address_of, endpoint_addr};
use super::{items, str_at, Problems};
use crate::render::{is_saas, CREDENTIAL_HEADERS};

pub fn check_saas_health_checks(doc: &Value, config: &Config, p: &mut Problems) {
    for c in items(doc, &["static_resources", "clusters"]) {
        let Some(name) = str_at(c, &["name"]) else {
            continue;
        };
        let Some(saas) = saas_member(c, config) else {
            continue;
        };
        for (i, hc) in items(c, &["health_checks"]).iter().enumerate() {
            let Some(http) = hc.get("http_health_check") else {
                continue;
            };
            if http.get("expected_statuses").is_some() || sends_credentials(http) {
                continue;
            }
            p.add(
                &format!("clusters[{name}].health_checks[{i}]"),
                format!("[health-check-saas] provider `{saas}` is a SaaS API: an unauthenticated health check gets a 401 and, expecting only 200, marks it unhealthy; remove the check (outlier detection covers it) or list expected_statuses"),
            );
        }
    }
}

/// The name of a SaaS provider among the cluster's endpoints, if any.
fn saas_member<'c>(c: &Value, config: &'c Config) -> Option<&'c str> {
    let addrs: Vec<String> = items(c, &["load_assignment", "endpoints"])
        .iter()
        .flat_map(|l| items(l, &["lb_endpoints"]))
        .filter_map(address_of)
        .collect();
    config
        .providers
        .iter()
        .find(|p| is_saas(p) && addrs.contains(&endpoint_addr(&p.endpoint)))
        .map(|p| p.name.as_str())
}

/// A check that adds a credential header (the operator's own doing).
fn sends_credentials(http: &Value) -> bool {
    items(http, &["request_headers_to_add"]).iter().any(|h| {
        str_at(h, &["header", "key"])
            .is_some_and(|k| CREDENTIAL_HEADERS.iter().any(|c| c.eq_ignore_ascii_case(k)))
    })
}

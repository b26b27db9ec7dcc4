//! Names of the series that are not per model × provider counters: the
//! rejections (see [`crate::rejection`]) and the clusters info series.

use crate::config::Config;
use crate::rejection::Rejection;
use crate::stats::sanitize;

/// `modelmux.[m.<model>.]r.<reason>.rejections`, for a resolved model or
/// none (never the name a client sent).
pub fn rejection_series(model: Option<&str>, reason: Rejection) -> String {
    let m = model.map_or(String::new(), |m| format!("m.{}.", sanitize(m)));
    format!("modelmux.{m}r.{}.rejections", reason.as_str())
}

/// `modelmux.cl.<cluster>.clusters`, one per Envoy cluster the filter
/// routes to (provider, rotation and OAuth token clusters), never incremented: an info
/// series (`modelmux_clusters{cluster}`, always 0) that dashboards and
/// alerts join Envoy's `envoy_cluster_*` series with, to keep the clusters
/// of modelmux and drop every other one the Envoy holds.
pub fn cluster_series(cfg: &Config) -> Vec<String> {
    let providers = cfg.providers.iter().map(|p| p.cluster.as_str());
    let rotations = cfg
        .models
        .iter()
        .flat_map(|m| m.failover.iter().flat_map(|f| f.rotations.iter()))
        .map(String::as_str);
    let tokens = cfg.providers.iter().filter_map(|p| match &p.auth {
        crate::providers::auth::Auth::OAuth(source) => Some(source.cluster.as_str()),
        _ => None,
    });
    let mut out: Vec<String> = Vec::new();
    for c in providers.chain(rotations).chain(tokens) {
        let name = format!("modelmux.cl.{}.clusters", sanitize(c));
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

//! Test helpers of [`Stats`] and its unit tests.

use super::*;

impl Stats {
    /// The pending amount of one stat, by name (tests).
    pub fn pending(&self, name: &str) -> u64 {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.pending.get(i))
            .map_or(0, Cell::get)
    }

    /// Queued samples of one histogram, by name (tests).
    pub fn pending_samples(&self, name: &str) -> Vec<u64> {
        let Some(slot) = self.histograms.iter().position(|n| n == name) else {
            return Vec::new();
        };
        self.samples
            .borrow()
            .iter()
            .filter(|(s, _)| *s as usize == slot)
            .map(|(_, v)| *v)
            .collect()
    }
}

#[test]
fn names_are_splittable() {
    assert_eq!(
        metric_name("gpt-4.1/mini", "open.ai", Counter::InputTokens),
        "modelmux.m.gpt-4_1_mini.p.open_ai.input_tokens"
    );
}

#[test]
fn every_rejection_and_cluster_is_defined_at_load() {
    let v = serde_json::json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c.oa", "host": "oa.test"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.test"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o"},
                                          {"provider": "an", "model": "claude-x"}]}
        ]
    });
    let cfg = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    let stats = Stats::new(&cfg);
    let names = stats.names();
    for r in Rejection::ALL {
        for m in ["", "m.gpt.", "m.smart."] {
            let name = format!("modelmux.{m}r.{}.rejections", r.as_str());
            assert!(names.contains(&name), "{name}");
        }
    }
    let clusters: Vec<&String> = names.iter().filter(|n| n.ends_with(".clusters")).collect();
    assert_eq!(
        clusters,
        [
            "modelmux.cl.c_oa.clusters",
            "modelmux.cl.c_an.clusters",
            "modelmux.cl.modelmux_smart_0.clusters",
            "modelmux.cl.modelmux_smart_1.clusters"
        ]
    );
    // Each counts apart; the reason of a resolved model keeps its model.
    stats.rejected(Some(1), Rejection::UnsupportedParameter);
    stats.rejected(None, Rejection::InvalidJson);
    assert_eq!(
        stats.pending("modelmux.m.smart.r.unsupported_parameter.rejections"),
        1
    );
    assert_eq!(
        stats.pending("modelmux.m.gpt.r.unsupported_parameter.rejections"),
        0
    );
    assert_eq!(stats.pending("modelmux.r.invalid_json.rejections"), 1);
    let mut drained = Vec::new();
    stats.drain(|slot, v| drained.push((names[slot].clone(), v)));
    assert_eq!(drained.len(), 2, "{drained:?}");
}

#[test]
fn an_oauth_token_cluster_is_one_of_modelmuxs_clusters() {
    use crate::providers::auth::{oauth::RawSource, Auth};
    let v = serde_json::json!({
        "providers": [{"name": "vx", "type": "openai", "cluster": "c_vx", "host": "vx.test"}],
        "models": [{"name": "solo", "targets": [{"provider": "vx", "model": "g"}]}]
    });
    let env = |_: &str| None;
    let mut cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    let raw: RawSource = serde_json::from_value(
        serde_json::json!({"source": "metadata", "cluster": "gcp_metadata"}),
    )
    .unwrap();
    let source = raw.compile("vx", &env, "$.providers[0].auth").unwrap();
    cfg.providers[0].auth = Auth::OAuth(Box::new(source));
    assert_eq!(
        crate::series::cluster_series(&cfg),
        [
            "modelmux.cl.c_vx.clusters",
            "modelmux.cl.gcp_metadata.clusters"
        ]
    );
}

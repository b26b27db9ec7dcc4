//! Splits keep their share over the whole run and over every window of 100
//! requests, with other models' traffic in between and two workers whose
//! picks reach the providers merged.

use serde_json::json;

use super::Picks;
use crate::config::{Config, Model};

/// Two split models, `x` with `weights` and `y` 30/70, over providers
/// `p0`…`p2`.
fn config(weights: &[u32]) -> Config {
    let targets = |ws: &[u32]| -> Vec<serde_json::Value> {
        ws.iter()
            .enumerate()
            .map(|(i, w)| json!({"provider": format!("p{i}"), "model": "m", "weight": w}))
            .collect()
    };
    let providers: Vec<_> = (0..3)
        .map(|i| json!({"name": format!("p{i}"), "type": "openai", "cluster": format!("c{i}"), "host": "h"}))
        .collect();
    let v = json!({
        "providers": providers,
        "models": [
            {"name": "x", "targets": targets(weights)},
            {"name": "y", "targets": targets(&[30, 70])}
        ]
    });
    Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap()
}

/// Shares of each target in percent.
fn shares(model: &Model) -> Vec<f64> {
    let total: u32 = model.targets.iter().map(|t| t.weight).sum();
    model
        .targets
        .iter()
        .map(|t| 100.0 * f64::from(t.weight) / f64::from(total))
        .collect()
}

/// The largest distance, in points, of any target's share of any `window`
/// consecutive picks from its configured share.
pub(crate) fn worst_window(seq: &[usize], want: &[f64], window: usize) -> f64 {
    let mut worst: f64 = 0.0;
    for w in seq.windows(window) {
        for (t, share) in want.iter().enumerate() {
            let n = w.iter().filter(|&&s| s == t).count();
            worst = worst.max((100.0 * n as f64 / window as f64 - share).abs());
        }
    }
    worst
}

/// `n` requests of model `x` as the providers see them: `x` and `y`
/// requests in a fixed pattern, handed to two workers in a fixed order, in
/// the order they were routed.
fn run(cfg: &Config, n: usize) -> Vec<usize> {
    const MODELS: [usize; 7] = [0, 1, 0, 1, 1, 0, 1];
    const WORKERS: [usize; 11] = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0];
    let workers = [Picks::default(), Picks::default()];
    let mut seen = Vec::new();
    for i in 0.. {
        let m = MODELS[i % MODELS.len()];
        let w = &workers[WORKERS[i % WORKERS.len()]];
        let target = w.plan(m, &cfg.models[m]).unwrap();
        if m == 0 {
            seen.push(target);
            if seen.len() == n {
                break;
            }
        }
    }
    seen
}

#[test]
fn every_split_keeps_its_share_overall_and_in_every_window_of_100() {
    // All sets are measured (and printed) before the verdict.
    let mut bad = Vec::new();
    for weights in [&[10, 90][..], &[50, 50], &[1, 2, 7], &[1, 1, 1], &[3, 1]] {
        let cfg = config(weights);
        let want = shares(&cfg.models[0]);
        let seq = run(&cfg, 1000);
        let overall = worst_window(&seq, &want, seq.len());
        let window = worst_window(&seq, &want, 100);
        eprintln!(
            "{weights:?}: overall off by {overall:.1} points, worst window of 100 by {window:.1}"
        );
        if overall > 3.0 || window > 5.0 {
            bad.push(weights);
        }
    }
    assert!(bad.is_empty(), "off their share: {bad:?}");
}

#[test]
fn one_worker_interleaves_a_split_smoothly() {
    let cfg = config(&[10, 90]);
    let p = Picks::default();
    let seq: Vec<usize> = (0..20)
        .map(|_| p.plan(0, &cfg.models[0]).unwrap())
        .collect();
    // One request in ten, never two in a row, 9 in between.
    let ones: Vec<usize> = (0..20).filter(|&i| seq[i] == 0).collect();
    assert_eq!(ones.len(), 2, "{seq:?}");
    assert_eq!(ones[1] - ones[0], 10, "{seq:?}");
    let cfg = config(&[50, 50]);
    let seq: Vec<usize> = (0..6).map(|_| p.plan(1, &cfg.models[0]).unwrap()).collect();
    assert_eq!(seq, vec![0, 1, 0, 1, 0, 1]);
}

#[test]
fn models_do_not_share_a_sequence() {
    // 50/50 interleaved 1:1 with another model: each side gets half.
    let cfg = config(&[50, 50]);
    let p = Picks::default();
    let mut x = Vec::new();
    for _ in 0..20 {
        x.push(p.plan(0, &cfg.models[0]).unwrap());
        p.plan(1, &cfg.models[1]).unwrap();
    }
    assert_eq!(x.iter().filter(|&&t| t == 0).count(), 10, "{x:?}");
}

#[test]
fn among_shares_by_weight_over_the_usable_targets_only() {
    let cfg = config(&[1, 2, 7]);
    let m = &cfg.models[0];
    let p = Picks::default();
    let seq: Vec<usize> = (0..300)
        .map(|_| p.among(0, m, &|k| k != 2).unwrap())
        .collect();
    let want = [100.0 / 3.0, 200.0 / 3.0, 0.0];
    assert!(worst_window(&seq, &want, 30) < 2.0, "{seq:?}");
    assert_eq!(p.among(0, m, &|_| false), None);
    // The plan is not moved by the fallback sequence.
    assert_eq!(p.plan(0, m), Some(2));
}

#[test]
fn a_zero_weight_target_is_never_planned() {
    let v = json!({
        "providers": [
            {"name": "a", "type": "openai", "cluster": "a", "host": "h"},
            {"name": "b", "type": "openai", "cluster": "b", "host": "h"}
        ],
        "models": [{"name": "x", "targets": [
            {"provider": "a", "model": "m", "weight": 0},
            {"provider": "b", "model": "m", "weight": 1}
        ]}]
    });
    let cfg = Config::from_json(v.to_string().as_bytes(), &|_| None).unwrap();
    let p = Picks::default();
    assert!((0..10).all(|_| p.plan(0, &cfg.models[0]) == Some(1)));
    assert_eq!(p.among(0, &cfg.models[0], &|k| k == 0), None);
}

//! Checks across providers and models, once both are compiled: what Envoy
//! would otherwise get wrong silently (two things sharing one cluster, a
//! signing filter that would sign another provider's requests).

use std::collections::HashMap;

use super::{err, ConfigError, Model, Provider};

/// Failover clusters must not collide with each other or a provider's.
pub(super) fn check_cluster_names(
    providers: &[Provider],
    models: &[Model],
) -> Result<(), ConfigError> {
    let mut seen: HashMap<&str, String> = providers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.cluster.as_str(), format!("providers[{i}].cluster")))
        .collect();
    for (i, m) in models.iter().enumerate() {
        for c in m.failover.iter().flat_map(|f| f.rotations.iter()) {
            if let Some(other) = seen.insert(c.as_str(), format!("models[{i}].cluster")) {
                return Err(err(
                    format!("models[{i}].cluster"),
                    format!("failover cluster `{c}` is also used by `{other}`"),
                ));
            }
        }
    }
    Ok(())
}

/// A provider signed by Envoy's `aws_request_signing` filter needs a
/// cluster of its own: that filter signs every request the cluster carries,
/// so a shared cluster (another provider's, or a failover model's rotation
/// clusters) would sign other providers' requests with AWS credentials.
pub(super) fn check_envoy_signing(
    providers: &[Provider],
    models: &[Model],
) -> Result<(), ConfigError> {
    for (i, p) in providers.iter().enumerate() {
        if p.options.envoy_signing().is_none() {
            continue;
        }
        if let Some(other) = providers
            .iter()
            .find(|o| o.cluster == p.cluster && o.name != p.name)
        {
            return Err(err(
                format!("providers[{i}].cluster"),
                format!("provider `{}` is signed by Envoy (auth type `envoy`) and needs a cluster of its own, but shares `{}` with `{}`", p.name, p.cluster, other.name),
            ));
        }
    }
    for (i, m) in models.iter().enumerate() {
        if m.failover.is_none() {
            continue;
        }
        for (j, t) in m.targets.iter().enumerate() {
            let Some(p) = providers.get(t.provider) else {
                continue;
            };
            if p.options.envoy_signing().is_some() {
                return Err(err(
                    format!("models[{i}].targets[{j}].provider"),
                    format!("provider `{}` is signed by Envoy (auth type `envoy`), which cannot sign on a failover model's shared rotation clusters; give it auth type `sigv4` (signed in the filter) to fail over", p.name),
                ));
            }
        }
    }
    Ok(())
}

/// Names that differ but become the same metric label (stat names keep
/// letters, digits, `-` and `_`; anything else becomes `_`) would add up
/// in one series: refused, naming both.
pub(super) fn check_label_collisions<'a>(
    names: impl Iterator<Item = (String, &'a str)>,
) -> Result<(), ConfigError> {
    let mut seen: HashMap<String, (String, &str)> = HashMap::new();
    for (path, name) in names {
        let label = crate::stats::sanitize(name);
        match seen.get(&label) {
            Some((other_path, other)) if *other != name => {
                return Err(err(
                    path,
                    format!("`{name}` and `{other}` ({other_path}) are the same metric label `{label}` (characters other than letters, digits, `-` and `_` become `_`); rename one"),
                ));
            }
            _ => {
                seen.insert(label, (path, name));
            }
        }
    }
    Ok(())
}

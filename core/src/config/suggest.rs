//! "Did you mean" for unknown fields.
//!
//! serde's message for an unknown field lists the fields the struct
//! expected, and nothing more. For a provider that is misleading: common
//! fields (`api_key_env`, `base_path`, …) are parsed first, and whatever is
//! left, typos of common fields included, reaches the kind's options, whose
//! message then offers only the kind's own fields (`api_kye_env` used to
//! suggest `stream_usage`). So the closest name among the expected fields
//! and the caller's extra candidates is suggested, when it is close enough
//! to be a typo.

/// The common fields every provider entry has (see `RawProvider`).
pub const PROVIDER_FIELDS: &[&str] = &[
    "name",
    "type",
    "cluster",
    "host",
    "base_path",
    "api_key_env",
    "endpoint",
    "health_check",
    "headers",
];

/// serde's unknown-field message with a suggestion added, if one is close.
pub fn unknown_field(message: &str, extra: &[&str]) -> String {
    let Some(field) = quoted_after(message, "unknown field `") else {
        return message.to_string();
    };
    let expected = message
        .split_once("expected ")
        .map_or("", |(_, rest)| rest)
        .split('`')
        .skip(1)
        .step_by(2);
    let best = expected
        .chain(extra.iter().copied())
        .filter(|c| *c != field)
        .map(|c| (distance(field, c), c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d <= (field.chars().count() / 3).max(1) => {
            format!("unknown field `{field}`; did you mean `{c}`?")
        }
        _ => message.to_string(),
    }
}

fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// Optimal string alignment distance: edits, with adjacent swaps as one.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for (i, cell) in d.iter_mut().enumerate() {
        let (row, col) = (i / width, i % width);
        if row == 0 || col == 0 {
            *cell = row + col;
        }
    }
    for (i, ca) in a.iter().enumerate() {
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let get = |i: usize, j: usize| d.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
            let mut best = (get(i, j + 1) + 1)
                .min(get(i + 1, j) + 1)
                .min(get(i, j) + cost);
            let swapped = i > 0 && j > 0 && a.get(i - 1) == Some(cb) && b.get(j - 1) == Some(ca);
            if swapped {
                best = best.min(get(i - 1, j - 1) + 1);
            }
            if let Some(cell) = d.get_mut(at(i + 1, j + 1)) {
                *cell = best;
            }
        }
    }
    d.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_field_including_common_ones() {
        let serde = "unknown field `api_kye_env`, expected `stream_usage`";
        assert_eq!(
            unknown_field(serde, PROVIDER_FIELDS),
            "unknown field `api_kye_env`; did you mean `api_key_env`?"
        );
        let serde =
            "unknown field `modles`, expected one of `providers`, `models`, `cluster_header`";
        assert_eq!(
            unknown_field(serde, &[]),
            "unknown field `modles`; did you mean `models`?"
        );
    }

    #[test]
    fn far_names_and_other_messages_are_left_alone() {
        let serde = "unknown field `colour`, expected `stream_usage`";
        assert_eq!(unknown_field(serde, PROVIDER_FIELDS), serde);
        let other = "invalid type: string \"x\", expected u32";
        assert_eq!(unknown_field(other, PROVIDER_FIELDS), other);
    }

    #[test]
    fn distance_counts_swaps_as_one_edit() {
        assert_eq!(distance("kye", "key"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("api_kye_env", "api_key_env"), 1);
        assert_eq!(distance("models", "models"), 0);
        assert_eq!(distance("modles", "models"), 1);
    }
}

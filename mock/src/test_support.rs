//! Request builders shared by the per-provider unit tests.

use serde_json::Value;

use crate::http::Request;

/// A JSON POST to `target` with the provider's `auth` header(s); `extra`
/// replaces headers of the same name, and an empty value removes one.
pub fn post(target: &str, auth: &[(&str, &str)], body: &Value, extra: &[(&str, &str)]) -> Request {
    let mut headers: Vec<(String, String)> = auth
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    headers.push(("content-type".into(), "application/json".into()));
    for (n, v) in extra {
        headers.retain(|(h, _)| h != n);
        if !v.is_empty() {
            headers.push((n.to_string(), v.to_string()));
        }
    }
    Request {
        method: "POST".into(),
        target: target.into(),
        headers,
        body: serde_json::to_vec(body).unwrap_or_default(),
        keep_alive: true,
    }
}

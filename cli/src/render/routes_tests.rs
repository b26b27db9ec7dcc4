//! The routes after the default one: Envoy's own answers for requests the
//! filter did not route.

use serde_json::{json, Value};

use super::tests::{render_value, routes, DEMO};
use super::*;

/// What the filter did not route gets Envoy's own answer: 200 on the health
/// path, an OpenAI 404 elsewhere, both after the routes that carry traffic.
#[test]
fn unrouted_requests_get_the_health_path_or_a_json_404() {
    let doc = render_value(DEMO, &Options::default());
    let routes = routes(&doc);
    let json_type = json!([{"header": {"key": "content-type", "value": "application/json"},
                            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]);
    let health = &routes[3];
    assert_eq!(health["match"], json!({"path": "/healthz"}));
    assert_eq!(health["direct_response"]["status"], 200);
    assert_eq!(health["response_headers_to_add"], json_type);
    let unknown = &routes[4];
    assert_eq!(unknown["match"], json!({"prefix": "/"}));
    assert_eq!(unknown["direct_response"]["status"], 404);
    assert_eq!(unknown["response_headers_to_add"], json_type);
    let body: Value = serde_json::from_str(
        unknown["direct_response"]["body"]["inline_string"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["error"]["code"], "unknown_url");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/v1/chat/completions"));
}

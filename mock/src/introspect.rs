//! `/_mock/*` endpoints: health, the request log and the stored fault.
//!
//! Tests assert what each provider actually received (path, headers, body,
//! SNI) and make one provider of a failover pair fail without touching the
//! requests the gateway sends.

use serde_json::{json, Map, Value};

use crate::faults::Response;
use crate::http::Request;
use crate::persist::Spec;
use crate::server::{FaultSource, Listener, Recorded};

pub fn introspect(state: &Listener, req: &Request) -> Response {
    match (req.method.as_str(), req.path()) {
        ("GET", "/_mock/health") => Response::json(200, &json!({"ok": true})),
        ("GET", "/_mock/requests") => {
            let log = state.log();
            let items: Vec<Value> = log.iter().map(render).collect();
            Response::json(200, &Value::Array(items))
        }
        ("DELETE", "/_mock/requests") => {
            state.log().clear();
            Response::json(200, &json!({"ok": true}))
        }
        ("GET", "/_mock/faults") => {
            let stored = state.stored();
            Response::json(200, &stored.spec().map_or(Value::Null, Spec::to_json))
        }
        ("PUT", "/_mock/faults") => match Spec::parse(&req.body) {
            Ok(spec) => {
                let shown = spec.to_json();
                state.stored().set(Some(spec));
                Response::json(200, &shown)
            }
            Err(msg) => state.provider.error(400, &msg),
        },
        ("DELETE", "/_mock/faults") => {
            state.stored().set(None);
            Response::json(200, &json!({"ok": true}))
        }
        (_, "/_mock/health" | "/_mock/requests" | "/_mock/faults") => {
            state.provider.error(405, "Method not allowed")
        }
        _ => state.provider.error(404, "Not found"),
    }
}

fn render(entry: &Recorded) -> Value {
    let req = &entry.req;
    let mut headers = Map::new();
    for (name, value) in &req.headers {
        match headers.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
        }
    }
    let body = serde_json::from_slice(&req.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&req.body).into_owned()));
    let fault = entry.fault.map(|f| match f {
        FaultSource::Header => "header",
        FaultSource::Stored => "stored",
    });
    json!({
        "method": req.method,
        "path": req.target,
        "headers": headers,
        "body": body,
        // As sent: duplicate keys, which `body` would fold, stay visible.
        "raw_body": String::from_utf8_lossy(&req.body),
        "sni": entry.sni,
        "fault": fault,
    })
}

//! Anthropic's error envelope.

use serde::Serialize;

use crate::error::ApiError;

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

/// Anthropic's error type for an HTTP status. 503 and 502 are the
/// gateway's own (no provider answered); Anthropic has no type for them
/// but `api_error`, and uses `overloaded_error` only for its 529.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 | 405 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        408 | 504 => "timeout_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// `{"type":"error","error":{"type":…,"message":…}}`. The parameter, when
/// the error names one, is already in the message (Anthropic has no
/// `param` field), so nothing the OpenAI envelope said is lost.
pub fn error_body(e: &ApiError) -> Vec<u8> {
    let env = Envelope {
        kind: "error",
        error: Body {
            kind: error_type(e.status),
            message: &e.message,
        },
    };
    serde_json::to_vec(&env).unwrap_or_else(|_| {
        br#"{"type":"error","error":{"type":"api_error","message":"internal error"}}"#.to_vec()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn statuses_get_anthropic_error_types() {
        let cases = [
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (403, "permission_error"),
            (404, "not_found_error"),
            (413, "request_too_large"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (503, "api_error"),
            (529, "overloaded_error"),
        ];
        for (status, kind) in cases {
            let e = ApiError::new(status, "whatever", "boom");
            let v: Value = serde_json::from_slice(&error_body(&e)).unwrap();
            let want = json!({"type": "error", "error": {"type": kind, "message": "boom"}});
            assert_eq!(v, want, "status {status}");
        }
    }
}

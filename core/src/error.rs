//! OpenAI-style error bodies.
//!
//! Every error the gateway produces itself, and every upstream error it
//! translates, reaches the client as `{"error":{"message","type","param","code"}}`
//! with a matching HTTP status, because that is what the OpenAI SDKs parse.

use serde::Serialize;

/// An error destined for the client, already in OpenAI vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub param: Option<String>,
    /// Why the filter refused the request, when the code alone cannot tell
    /// (counted in `modelmux_rejections`; never sent to the client).
    pub reason: Option<crate::rejection::Rejection>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            code: None,
            param: None,
            reason: None,
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request_error", message)
    }

    /// 400 naming the offending request parameter.
    pub fn invalid_param(param: &str, message: impl Into<String>) -> Self {
        let mut e = Self::invalid_request(message);
        e.param = Some(param.to_string());
        e
    }

    /// 400 for a request without `model`.
    pub fn missing_model() -> Self {
        Self::invalid_param("model", "You must provide a model parameter.")
    }

    /// 400 for a request without `messages`.
    pub fn missing_messages() -> Self {
        Self::invalid_param("messages", "Missing required parameter: 'messages'.")
    }

    /// 400 for `messages: []`.
    pub fn empty_messages() -> Self {
        Self::invalid_param(
            "messages",
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
        )
    }

    /// 404 for an unknown public model name.
    pub fn model_not_found(model: &str) -> Self {
        let mut e = Self::new(
            404,
            "invalid_request_error",
            format!("The model `{model}` does not exist or you do not have access to it."),
        );
        e.code = Some("model_not_found");
        e.param = Some("model".to_string());
        e
    }

    /// 404 for a path the gateway does not serve.
    pub fn unknown_path(method: &str, path: &str) -> Self {
        let mut e = Self::new(
            404,
            "invalid_request_error",
            format!("Unknown request URL: {method} {path}. modelmux serves POST /v1/chat/completions, POST /v1/responses, POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/embeddings and GET /v1/models."),
        );
        e.code = Some("unknown_url");
        e
    }

    /// 500 for gateway-side failures (never caused by the client).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "server_error", message)
    }

    pub fn with_reason(mut self, reason: crate::rejection::Rejection) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Serialises the OpenAI error envelope.
    pub fn to_json(&self) -> Vec<u8> {
        let env = Envelope {
            error: Body {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code,
            },
        };
        serde_json::to_vec(&env).unwrap_or_else(|_| {
            br#"{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}"#
                .to_vec()
        })
    }
}

#[derive(serde::Deserialize)]
struct ErrorProbe<'a> {
    #[serde(borrow)]
    error: &'a serde_json::value::RawValue,
}

/// Makes an error body OpenAI-shaped: `None` when it already is one,
/// otherwise a replacement quoting the start of what was sent (an HTML page,
/// Envoy's `no healthy upstream` or `Payload Too Large` text...). `source`
/// names who answered, e.g. `upstream` or `gateway`.
pub fn normalize_error_body(status: u16, body: &[u8], source: &str) -> Option<Vec<u8>> {
    foreign_unless_envelope(status, body, source).map(|e| e.to_json())
}

/// `None` when `body` is an error envelope (`{"error":{…}}`: OpenAI's, and
/// Anthropic's, which adds `"type":"error"`), else the error to send in
/// its place (see [`foreign_error`]), for the client's dialect to write.
pub fn foreign_unless_envelope(status: u16, body: &[u8], source: &str) -> Option<ApiError> {
    if let Ok(probe) = serde_json::from_slice::<ErrorProbe<'_>>(body) {
        if probe.error.get().starts_with('{') {
            return None;
        }
    }
    Some(foreign_error(status, body, source))
}

/// An error for a body that is not in any API's error format, quoting the
/// start of it (Envoy's `no healthy upstream`, an HTML page...).
pub fn foreign_error(status: u16, body: &[u8], source: &str) -> ApiError {
    let snippet: String = String::from_utf8_lossy(body).chars().take(200).collect();
    let snippet = snippet.trim();
    let message = if snippet.is_empty() {
        format!("{source} returned HTTP {status}")
    } else {
        format!("{source} returned HTTP {status}: {snippet}")
    };
    ApiError::new(status, kind_for_status(status), message)
}

/// OpenAI error `type` for an HTTP status, used when translating upstream errors.
pub fn kind_for_status(status: u16) -> &'static str {
    match status {
        400 | 404 | 409 | 413 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        _ => "server_error",
    }
}

/// A 2xx JSON body that is an error object (`{"error": ...}` or
/// Anthropic's `{"type": "error", ...}`).
pub fn looks_like_error(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(default, borrow)]
        error: Option<&'a serde_json::value::RawValue>,
        #[serde(default, rename = "type")]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    match serde_json::from_slice::<Probe<'_>>(body) {
        Ok(p) => p.error.is_some_and(|e| e.get() != "null") || p.kind.as_deref() == Some("error"),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalizes_foreign_error_bodies() {
        assert_eq!(
            normalize_error_body(429, br#"{"error":{"message":"x"}}"#, "upstream"),
            None
        );
        let out = normalize_error_body(413, b"Payload Too Large", "gateway").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["error"]["message"],
            json!("gateway returned HTTP 413: Payload Too Large")
        );
        assert_eq!(v["error"]["type"], json!("invalid_request_error"));
        let out = normalize_error_body(503, b"", "upstream").unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["error"]["message"], json!("upstream returned HTTP 503"));
    }

    #[test]
    fn envelope_shape() {
        let e = ApiError::model_not_found("nope");
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(v["error"]["code"], json!("model_not_found"));
        assert_eq!(v["error"]["type"], json!("invalid_request_error"));
        assert_eq!(v["error"]["param"], json!("model"));
        assert!(v["error"]["message"].as_str().unwrap().contains("nope"));
        assert_eq!(e.status, 404);
    }
}

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
            format!("Unknown request URL: {method} {path}. modelmux serves POST /v1/chat/completions and GET /v1/models."),
        );
        e.code = Some("unknown_url");
        e
    }

    /// 500 for gateway-side failures (never caused by the client).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "server_error", message)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

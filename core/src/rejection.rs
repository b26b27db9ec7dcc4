//! Why the filter refused a request before any upstream call: the `reason`
//! label of `modelmux_rejections`.
//!
//! A refused request is the client's mistake, not a provider's: it is
//! counted here and never as a request or error of a model × provider, so
//! provider alerts do not page for invalid client input. The set is fixed
//! (one series per reason is defined at load) and derived from the
//! filter's own error codes; an error without a code falls back on its
//! status, then on `invalid_request`. Errors whose code alone cannot tell
//! (a parameter a provider lacks, embeddings of a chat-only model) carry
//! the reason in [`ApiError::reason`], which never reaches the client.

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The body is not JSON at all.
    InvalidJson,
    /// JSON, but not a valid request (missing or wrong-typed fields, an
    /// empty body, a value out of range).
    InvalidRequest,
    /// A model name the gateway does not serve.
    UnknownModel,
    /// A parameter the model's provider cannot honour.
    UnsupportedParameter,
    /// An operation the model's provider lacks (embeddings of a chat model).
    UnsupportedOperation,
    /// 413: over the listener's buffer or a failover model's retry buffer.
    BodyTooLarge,
    /// 415: a compressed request body.
    UnsupportedContentEncoding,
    /// 405 on a modelmux path.
    MethodNotAllowed,
    /// 404: a `/v1/` path modelmux does not serve.
    UnknownUrl,
}

impl Rejection {
    pub const ALL: [Rejection; 9] = [
        Rejection::InvalidJson,
        Rejection::InvalidRequest,
        Rejection::UnknownModel,
        Rejection::UnsupportedParameter,
        Rejection::UnsupportedOperation,
        Rejection::BodyTooLarge,
        Rejection::UnsupportedContentEncoding,
        Rejection::MethodNotAllowed,
        Rejection::UnknownUrl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::InvalidJson => "invalid_json",
            Rejection::InvalidRequest => "invalid_request",
            Rejection::UnknownModel => "unknown_model",
            Rejection::UnsupportedParameter => "unsupported_parameter",
            Rejection::UnsupportedOperation => "unsupported_operation",
            Rejection::BodyTooLarge => "body_too_large",
            Rejection::UnsupportedContentEncoding => "unsupported_content_encoding",
            Rejection::MethodNotAllowed => "method_not_allowed",
            Rejection::UnknownUrl => "unknown_url",
        }
    }

    /// The reason of an error the filter answered with itself; `None` for
    /// a gateway-side failure (5xx: no credential, a target missing), which
    /// is not the client's mistake.
    pub fn of(e: &ApiError) -> Option<Rejection> {
        if e.status >= 500 {
            return None;
        }
        if let Some(r) = e.reason {
            return Some(r);
        }
        Some(match (e.code, e.status) {
            (Some("model_not_found"), _) => Rejection::UnknownModel,
            (Some("unknown_url"), _) => Rejection::UnknownUrl,
            (_, 413) => Rejection::BodyTooLarge,
            (_, 415) => Rejection::UnsupportedContentEncoding,
            (_, 405) => Rejection::MethodNotAllowed,
            _ => Rejection::InvalidRequest,
        })
    }

    /// The reason of a reply Envoy sent before the body was routed (e.g.
    /// 413 over the listener's buffer limit).
    pub fn of_status(status: u16) -> Rejection {
        match status {
            413 => Rejection::BodyTooLarge,
            _ => Rejection::InvalidRequest,
        }
    }

    /// The position in [`Rejection::ALL`] (a stat slot offset).
    pub fn index(self) -> usize {
        Rejection::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_give_the_reason() {
        let of = |e: ApiError| Rejection::of(&e);
        assert_eq!(
            of(ApiError::model_not_found("x")),
            Some(Rejection::UnknownModel)
        );
        assert_eq!(
            of(ApiError::unknown_path("GET", "/v1/x")),
            Some(Rejection::UnknownUrl)
        );
        assert_eq!(
            of(ApiError::new(415, "invalid_request_error", "gz")),
            Some(Rejection::UnsupportedContentEncoding)
        );
        assert_eq!(
            of(ApiError::new(413, "invalid_request_error", "big")),
            Some(Rejection::BodyTooLarge)
        );
        assert_eq!(
            of(ApiError::invalid_param("n", "bad")),
            Some(Rejection::InvalidRequest)
        );
        let tagged = ApiError::invalid_param("n", "x").with_reason(Rejection::UnsupportedParameter);
        assert_eq!(of(tagged), Some(Rejection::UnsupportedParameter));
        // The gateway's own failures are not the client's mistake.
        assert_eq!(of(ApiError::internal("target missing")), None);
        assert_eq!(
            Rejection::of_status(413),
            Rejection::BodyTooLarge,
            "Envoy's 413"
        );
    }

    #[test]
    fn names_are_distinct_label_values() {
        let mut names: Vec<&str> = Rejection::ALL.iter().map(|r| r.as_str()).collect();
        assert!(names
            .iter()
            .all(|n| crate::stats::sanitize(n) == *n && !n.is_empty()));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Rejection::ALL.len());
    }
}

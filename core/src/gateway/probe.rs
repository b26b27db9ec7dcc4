//! A single cheap pass over the client's chat body.
//!
//! Every request needs `model` (to route) and `stream`, and the passthrough
//! path needs the byte positions of `model` and `stream_options` so it can
//! splice them without re-serialising the body. Other fields are skipped by
//! serde without being materialised.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::ApiError;

#[derive(Deserialize)]
struct ProbeWire<'a> {
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(borrow, default)]
    messages: Option<Vec<MessageProbe<'a>>>,
    #[serde(borrow, default)]
    stream: Option<&'a RawValue>,
    #[serde(borrow, default)]
    stream_options: Option<&'a RawValue>,
}

/// Only the role is read; the rest of each message is skipped unparsed.
#[derive(Deserialize)]
#[serde(expecting = "a message object with a `role`")]
struct MessageProbe<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
}

const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// What the gateway learns from the body before choosing a target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe<'a> {
    pub model: String,
    /// Byte range of the `model` value (quotes included).
    pub model_span: Range<usize>,
    pub stream: bool,
    /// The raw `stream_options` value and its byte range, if present.
    pub stream_options: Option<(&'a str, Range<usize>)>,
    /// Byte offset of the opening `{` of the body.
    pub object_start: usize,
}

/// Validates the envelope of a chat request and locates the routing fields.
pub fn probe(body: &[u8]) -> Result<Probe<'_>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_request("The request body is not valid UTF-8."))?;
    let object_start = text
        .find(|c: char| !c.is_ascii_whitespace())
        .filter(|&i| text.as_bytes().get(i) == Some(&b'{'))
        .ok_or_else(|| ApiError::invalid_request("The request body must be a JSON object."))?;
    let wire: ProbeWire<'_> = serde_json::from_str(text).map_err(|_| diagnose(text))?;
    let model_raw = wire.model.ok_or_else(ApiError::missing_model)?;
    let model: String = serde_json::from_str(model_raw.get())
        .map_err(|_| ApiError::invalid_param("model", "`model` must be a string."))?;
    check_messages(wire.messages)?;
    let stream = match wire.stream.map(|r| r.get()) {
        None | Some("null") | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "stream",
                "`stream` must be a boolean.",
            ))
        }
    };
    Ok(Probe {
        model,
        model_span: span_of(text, model_raw),
        stream,
        stream_options: wire.stream_options.map(|r| (r.get(), span_of(text, r))),
        object_start,
    })
}

fn check_messages(messages: Option<Vec<MessageProbe<'_>>>) -> Result<(), ApiError> {
    let messages = messages.ok_or_else(ApiError::missing_messages)?;
    if messages.is_empty() {
        return Err(ApiError::empty_messages());
    }
    for (i, m) in messages.iter().enumerate() {
        if !ROLES.contains(&m.role.as_ref()) {
            return Err(ApiError::invalid_param(
                &format!("messages[{i}].role"),
                format!(
                    "Invalid value for 'messages[{i}].role': '{}'. Supported values are: {}.",
                    m.role,
                    ROLES.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Error path only: parse again, tracking the path, to name the field.
fn diagnose(text: &str) -> ApiError {
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, ProbeWire<'_>>(de) {
        Err(e) if e.inner().is_data() => {
            let path = e.path().to_string();
            let param = path.split(['.', '[']).next().unwrap_or("").to_string();
            let mut err =
                ApiError::invalid_request(format!("Invalid value for '{path}': {}", e.inner()));
            if param == "messages" || param == "stream" {
                err.param = Some(param);
            }
            err
        }
        Err(e) => ApiError::invalid_request(format!(
            "We could not parse the JSON body of your request: {}",
            e.inner()
        )),
        Ok(_) => ApiError::invalid_request("We could not parse the JSON body of your request."),
    }
}

/// Position of a borrowed raw value inside the text it was parsed from.
pub(crate) fn span_of(text: &str, raw: &RawValue) -> Range<usize> {
    let start = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    start..start + raw.get().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_fields() {
        let body = br#" {"messages":[{"role":"user","content":"hi"}], "model" : "g\u00e9", "stream":true,"stream_options":{"a":1}}"#;
        let p = probe(body).unwrap();
        assert_eq!(p.model, "g\u{e9}");
        assert_eq!(&body[p.model_span.clone()], br#""g\u00e9""#);
        assert!(p.stream);
        let (raw, span) = p.stream_options.unwrap();
        assert_eq!(raw, r#"{"a":1}"#);
        assert_eq!(&body[span], br#"{"a":1}"#);
        assert_eq!(p.object_start, 1);
    }

    #[test]
    fn rejects_bad_envelopes() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"not json", None),
            (b"[1,2]", None),
            (b"{\"model\":\"m\"", None),
            (
                br#"{"messages":[{"role":"user","content":"x"}]}"#,
                Some("model"),
            ),
            (
                br#"{"model":5,"messages":[{"role":"user","content":"x"}]}"#,
                Some("model"),
            ),
            (br#"{"model":"m"}"#, Some("messages")),
            (br#"{"model":"m","messages":"hi"}"#, Some("messages")),
            (br#"{"model":"m","messages":[ ]}"#, Some("messages")),
            (
                br#"{"model":"m","messages":[{"role":"user"}],"stream":"yes"}"#,
                Some("stream"),
            ),
            (br#"{"model":"m","messages":["hi"]}"#, Some("messages")),
            (
                br#"{"model":"m","messages":[{"content":"x"}]}"#,
                Some("messages"),
            ),
            (
                br#"{"model":"m","messages":[{"role":"robot"}]}"#,
                Some("messages[0].role"),
            ),
            (
                b"{\"model\":\"\xff\",\"messages\":[{\"role\":\"user\"}]}",
                None,
            ),
        ];
        for (body, param) in cases {
            let e = probe(body).unwrap_err();
            assert_eq!(e.status, 400, "{}", String::from_utf8_lossy(body));
            assert_eq!(
                e.param.as_deref(),
                *param,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

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

use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::openai::duplicate_key;

#[derive(Deserialize)]
struct ProbeWire<'a> {
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(borrow, default)]
    messages: Option<Vec<MessageProbe<'a>>>,
    #[serde(borrow, default)]
    stream: Option<&'a RawValue>,
    /// `null` included: the passthrough replaces whatever is there.
    #[serde(borrow, default, deserialize_with = "present")]
    stream_options: Option<&'a RawValue>,
}

/// `Some` for any value, `null` included (`Option`'s own impl maps `null`
/// to `None`, which would leave a client's `null` next to the filter's
/// own `stream_options`: the provider keeps the last and sends no usage).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The `stream_options` keys the gateway reads; the derive rejects a key
/// given twice.
#[derive(Deserialize)]
struct StreamOptionsProbe {
    #[serde(default)]
    #[allow(dead_code)]
    include_usage: Option<serde::de::IgnoredAny>,
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
    probe_as(body, Dialect::OpenAiChat)
}

/// [`probe`] for a request in `dialect`. Only OpenAI chat has `messages`
/// roles checked here (its passthrough forwards the body unparsed); the
/// other dialects' decoders validate the whole body, and their passthrough
/// leaves it to the provider, as chat's does.
pub fn probe_as(body: &[u8], dialect: Dialect) -> Result<Probe<'_>, ApiError> {
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
    if dialect == Dialect::OpenAiChat {
        check_messages(wire.messages)?;
    }
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
    if let Some(raw) = wire.stream_options.filter(|r| r.get().starts_with('{')) {
        serde_json::from_str::<StreamOptionsProbe>(raw.get())
            .map_err(|e| duplicate_key("stream_options", &e).unwrap_or_else(|| diagnose(text)))?;
    }
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
    let res = serde_path_to_error::deserialize::<_, ProbeWire<'_>>(de);
    if let Some(dup) = res
        .as_ref()
        .err()
        .and_then(|e| duplicate_key(&e.path().to_string(), e.inner()))
    {
        return dup;
    }
    match res {
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
    fn null_stream_options_is_located() {
        let body =
            br#"{"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":null}"#;
        let (raw, span) = probe(body).unwrap().stream_options.unwrap();
        assert_eq!((raw, &body[span]), ("null", &b"null"[..]));
    }

    #[test]
    fn duplicate_keys_name_the_parameter() {
        let cases: &[(&[u8], &str)] = &[
            (br#"{"model":"m","model":"n","messages":[{"role":"user"}]}"#, "model"),
            (br#"{"model":"m","messages":[{"role":"user"}],"stream":true,"stream":false}"#, "stream"),
            (br#"{"model":"m","messages":[{"role":"user"}],"stream_options":null,"stream_options":{}}"#, "stream_options"),
            (br#"{"model":"m","messages":[{"role":"user"}],"messages":[]}"#, "messages"),
            (br#"{"model":"m","messages":[{"role":"user","role":"tool"}]}"#, "messages[0].role"),
            (br#"{"model":"m","messages":[{"role":"user"}],"stream":true,"stream_options":{"include_usage":false,"include_usage":true}}"#, "stream_options.include_usage"),
        ];
        for (body, param) in cases {
            let e = probe(body).unwrap_err();
            assert_eq!(
                (e.status, e.param.as_deref()),
                (400, Some(*param)),
                "{}",
                e.message
            );
            assert!(e.message.contains("Duplicate key"), "{}", e.message);
        }
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

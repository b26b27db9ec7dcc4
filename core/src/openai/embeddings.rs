//! `POST /v1/embeddings`: the request as clients send it, and the list the
//! encoder writes from neutral [`Embeddings`].
//!
//! `encoding_format: "base64"` is honoured for every provider: a provider
//! that returns floats has them packed here as little-endian `f32`, which
//! is what OpenAI sends and what its SDKs decode.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::usage::Usage;

/// `input`: one string, many strings, or token ids.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum EmbedInput<'a> {
    #[serde(borrow)]
    Text(Cow<'a, str>),
    #[serde(borrow)]
    Texts(Vec<Cow<'a, str>>),
    Tokens(Vec<u32>),
    TokenLists(Vec<Vec<u32>>),
}

impl EmbedInput<'_> {
    /// The texts, or `None` for token input.
    pub fn texts(&self) -> Option<Vec<&str>> {
        match self {
            EmbedInput::Text(t) => Some(vec![t.as_ref()]),
            EmbedInput::Texts(v) => Some(v.iter().map(|t| t.as_ref()).collect()),
            EmbedInput::Tokens(_) | EmbedInput::TokenLists(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    #[default]
    Float,
    Base64,
}

/// The embeddings request body, borrowed; unknown fields are a 400, as
/// OpenAI answers them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsRequest<'a> {
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    #[serde(borrow)]
    pub input: EmbedInput<'a>,
    #[serde(default)]
    pub dimensions: Option<u32>,
    #[serde(default)]
    pub encoding_format: Option<EncodingFormat>,
    #[serde(borrow, default)]
    pub user: Option<Cow<'a, str>>,
}

/// Parses an embeddings body; every problem is a 400 naming the field.
pub fn parse_embeddings_request(body: &[u8]) -> Result<EmbeddingsRequest<'_>, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let req: EmbeddingsRequest<'_> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        if path == "." {
            ApiError::invalid_request(format!("Invalid embeddings request: {msg}"))
        } else {
            ApiError::invalid_param(&path, format!("Invalid value for `{path}`: {msg}"))
        }
    })?;
    let empty = match &req.input {
        EmbedInput::Text(t) => t.is_empty(),
        EmbedInput::Texts(v) => v.is_empty() || v.iter().any(|t| t.is_empty()),
        EmbedInput::Tokens(v) => v.is_empty(),
        EmbedInput::TokenLists(v) => v.is_empty() || v.iter().any(Vec::is_empty),
    };
    if empty {
        return Err(ApiError::invalid_param(
            "input",
            "`input` must be a non-empty string or a non-empty array of non-empty items.",
        ));
    }
    if req.dimensions == Some(0) {
        return Err(ApiError::invalid_param(
            "dimensions",
            "`dimensions` must be at least 1.",
        ));
    }
    Ok(req)
}

/// Neutral embeddings: one vector per input, in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub usage: Usage,
}

#[derive(Serialize)]
struct List<'a> {
    object: &'static str,
    data: Vec<Item>,
    model: &'a str,
    usage: ListUsage,
}

#[derive(Serialize)]
struct Item {
    object: &'static str,
    index: usize,
    embedding: Vector,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Vector {
    Floats(Vec<f32>),
    Base64(String),
}

#[derive(Serialize)]
struct ListUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

/// The OpenAI `list` body for `e`, as the client asked it encoded.
pub fn embeddings_json(e: Embeddings, model: &str, format: EncodingFormat) -> Vec<u8> {
    let data = e
        .vectors
        .into_iter()
        .enumerate()
        .map(|(index, v)| Item {
            object: "embedding",
            index,
            embedding: match format {
                EncodingFormat::Float => Vector::Floats(v),
                EncodingFormat::Base64 => Vector::Base64(base64_f32(&v)),
            },
        })
        .collect();
    let list = List {
        object: "list",
        data,
        model,
        usage: ListUsage {
            prompt_tokens: e.usage.input,
            total_tokens: e.usage.input,
        },
    };
    serde_json::to_vec(&list).unwrap_or_default()
}

/// Little-endian `f32`s, standard base64 with padding.
pub fn base64_f32(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
    base64(&bytes)
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |n: u32| char::from(ALPHABET.get((n & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // 1.0f32 is 00 00 80 3f little-endian.
        assert_eq!(base64_f32(&[1.0]), "AACAPw==");
    }

    #[test]
    fn input_forms_parse_and_empty_ones_are_refused() {
        let r = parse_embeddings_request(br#"{"model":"m","input":"hi"}"#).unwrap();
        assert_eq!(r.input.texts(), Some(vec!["hi"]));
        let r = parse_embeddings_request(br#"{"model":"m","input":["a","b"]}"#).unwrap();
        assert_eq!(r.input.texts(), Some(vec!["a", "b"]));
        let r = parse_embeddings_request(br#"{"model":"m","input":[1,2]}"#).unwrap();
        assert_eq!(r.input, EmbedInput::Tokens(vec![1, 2]));
        let e = parse_embeddings_request(br#"{"model":"m","input":[]}"#).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("input"));
        let e = parse_embeddings_request(br#"{"model":"m","input":"x","bogus":1}"#).unwrap_err();
        assert_eq!(e.status, 400);
    }
}

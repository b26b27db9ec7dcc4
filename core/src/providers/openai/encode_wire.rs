//! The chat completions request as sent upstream by `encode.rs`: our own
//! serialisable wire types, borrowing from the neutral request. Absent
//! options are left out rather than sent as `null` (some compatible servers
//! reject `null` where OpenAI accepts it).

use serde::Serialize;
use serde_json::value::RawValue;

use crate::openai::request::TextOr;

#[derive(Serialize)]
pub(super) struct Body<'r> {
    pub model: &'r str,
    pub messages: Vec<Message<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolOut<'r>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ChoiceOut<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptionsOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(flatten)]
    pub sampling: Sampling<'r>,
}

/// The parameters copied as they are.
#[derive(Serialize)]
pub(super) struct Sampling<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<TextOr<'r, &'r str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<FormatOut<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_cache_key: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<&'r str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_search_options: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub functions: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<&'r RawValue>,
}

impl<T: Serialize> Serialize for TextOr<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TextOr::Text(t) => s.serialize_str(t),
            TextOr::Items(items) => items.serialize(s),
        }
    }
}

#[derive(Serialize)]
pub(super) struct StreamOptionsOut {
    pub include_usage: bool,
}

#[derive(Serialize)]
pub(super) struct Message<'r> {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<TextOr<'r, PartOut<'r>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<CallOut<'r>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<&'r RawValue>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum PartOut<'r> {
    Text { text: &'r str },
    ImageUrl { image_url: ImageOut<'r> },
    File { file: FileOut<'r> },
    Refusal { refusal: &'r str },
}

#[derive(Serialize)]
pub(super) struct ImageOut<'r> {
    pub url: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'r str>,
}

#[derive(Serialize)]
pub(super) struct FileOut<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_data: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<&'r str>,
}

#[derive(Serialize)]
pub(super) struct CallOut<'r> {
    pub id: &'r str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionOut<'r>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_content: Option<ExtraOut<'r>>,
}

/// `{"google":{"thought_signature":...}}` (Gemini's OpenAI surface).
#[derive(Serialize)]
pub(super) struct ExtraOut<'r> {
    pub google: GoogleOut<'r>,
}

#[derive(Serialize)]
pub(super) struct GoogleOut<'r> {
    pub thought_signature: &'r str,
}

#[derive(Serialize)]
pub(super) struct FunctionOut<'r> {
    pub name: &'r str,
    pub arguments: &'r str,
}

#[derive(Serialize)]
pub(super) struct ToolOut<'r> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDefOut<'r>,
}

#[derive(Serialize)]
pub(super) struct FunctionDefOut<'r> {
    pub name: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<&'r RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum ChoiceOut<'r> {
    Mode(&'static str),
    Named {
        #[serde(rename = "type")]
        kind: &'static str,
        function: NameOut<'r>,
    },
}

#[derive(Serialize)]
pub(super) struct NameOut<'r> {
    pub name: &'r str,
}

#[derive(Serialize)]
pub(super) struct FormatOut<'r> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<&'r RawValue>,
}

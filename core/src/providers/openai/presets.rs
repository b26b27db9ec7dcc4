//! OpenAI-compatible services as data: where they live and how they differ.
//!
//! A preset is selected by the provider's `type` (e.g. `"groq"`). It fills in
//! the defaults (host, TLS, base path, auth) and the quirks the OpenAI
//! passthrough must respect. Each entry names the documentation its facts
//! come from; the README's preset table is generated from the same facts.

use crate::providers::auth::AuthScheme;

/// Which output-limit parameter a server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxTokens {
    /// Both `max_tokens` and `max_completion_tokens` are accepted.
    Either,
    /// Only `max_tokens`: `max_completion_tokens` is renamed to it.
    Legacy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The config `type` that selects it.
    pub name: &'static str,
    /// Default `host[:port]` (the `:authority` sent upstream).
    pub host: &'static str,
    /// Default endpoint port and TLS (local servers are plain HTTP).
    pub port: u16,
    pub tls: bool,
    /// Path prefix before `/chat/completions`, without trailing slash.
    pub base_path: &'static str,
    pub auth: AuthScheme,
    /// Whether an API key is required (`api_key_env` must be set).
    pub key_required: bool,
    /// Accepts `stream_options.include_usage`.
    pub stream_usage: bool,
    pub max_tokens: MaxTokens,
    /// Request fields the server rejects or mishandles that are removed
    /// before forwarding (documented as having no effect there).
    pub drop: &'static [&'static str],
    /// Request fields that change the answer and that the server does not
    /// support: answered with a 400 naming the parameter.
    pub reject: &'static [&'static str],
    /// Serves `POST {base_path}/embeddings`.
    pub embeddings: bool,
    /// Sends reasoning text as `reasoning_content` (DeepSeek style).
    pub reasoning_content: bool,
    /// The documentation the facts above come from.
    pub docs: &'static str,
}

/// A hosted service: HTTPS on 443, Bearer key required, OpenAI defaults
/// for everything else. Entries override what their docs say differs.
const HOSTED: Preset = Preset {
    name: "",
    host: "",
    port: 443,
    tls: true,
    base_path: "/v1",
    auth: AuthScheme::Bearer,
    key_required: true,
    stream_usage: true,
    max_tokens: MaxTokens::Either,
    drop: &[],
    reject: &[],
    embeddings: false,
    reasoning_content: false,
    docs: "",
};

/// A server on this machine: plain HTTP, no key needed.
const LOCAL: Preset = Preset {
    tls: false,
    key_required: false,
    ..HOSTED
};

/// Every preset. Names are unique and distinct from the provider kinds.
///
/// Facts are from each vendor's documentation (the `docs` field) as read
/// for the README preset table; where the docs say nothing the OpenAI default is
/// kept. Model-specific restrictions (a field only one model rejects) are
/// not encoded here, since a preset applies to every model of the service.
pub const PRESETS: &[Preset] = &[
    // Unknown body fields are a 422 `extra_forbidden`, and the schema has
    // neither `max_completion_tokens` nor `stream_options` (usage arrives in
    // the last chunk anyway). `seed` is spelled `random_seed` there.
    Preset {
        name: "mistral",
        host: "api.mistral.ai",
        max_tokens: MaxTokens::Legacy,
        stream_usage: false,
        drop: &["user", "store", "metadata", "service_tier"],
        reject: &["logprobs", "top_logprobs", "logit_bias"],
        embeddings: true,
        docs: "https://docs.mistral.ai/api/",
        ..HOSTED
    },
    // Documented: these fields are a 400; `n` must be 1 and
    // `messages[].name` is refused too (neither expressible here).
    // Reasoning comes as `reasoning` (`reasoning_format: "parsed"`).
    Preset {
        name: "groq",
        host: "api.groq.com",
        base_path: "/openai/v1",
        reject: &["logprobs", "logit_bias", "top_logprobs"],
        docs: "https://console.groq.com/docs/openai",
        ..HOSTED
    },
    // Only `max_tokens` is documented. deepseek-reasoner answers with
    // `reasoning_content` and rejects `logprobs`/`top_logprobs` (the chat
    // model accepts them, so they are not refused for the whole service).
    Preset {
        name: "deepseek",
        host: "api.deepseek.com",
        base_path: "",
        max_tokens: MaxTokens::Legacy,
        reasoning_content: true,
        docs: "https://api-docs.deepseek.com/guides/reasoning_model",
        ..HOSTED
    },
    // Reasoning models answer with a `reasoning` field.
    Preset {
        name: "together",
        host: "api.together.ai",
        embeddings: true,
        docs: "https://docs.together.ai/docs/inference/openai-compatibility",
        ..HOSTED
    },
    // Only grok-3-mini returns `reasoning_content` in Chat Completions;
    // reasoning models reject penalties and `stop` (per model, not encoded).
    Preset {
        name: "xai",
        host: "api.x.ai",
        reasoning_content: true,
        docs: "https://docs.x.ai/docs/guides/reasoning",
        ..HOSTED
    },
    // Usage is always in the last SSE message; reasoning comes as `reasoning`.
    Preset {
        name: "openrouter",
        host: "openrouter.ai",
        base_path: "/api/v1",
        docs: "https://openrouter.ai/docs/api-reference/overview",
        ..HOSTED
    },
    Preset {
        name: "fireworks",
        host: "api.fireworks.ai",
        base_path: "/inference/v1",
        embeddings: true,
        reasoning_content: true,
        docs: "https://docs.fireworks.ai/tools-sdks/openai-compatibility",
        ..HOSTED
    },
    // Documented as a 400 when supplied. Penalties and `logit_bias` change
    // the answer; `parallel_tool_calls` and `service_tier` are hints.
    Preset {
        name: "cerebras",
        host: "api.cerebras.ai",
        drop: &["parallel_tool_calls", "service_tier"],
        reject: &["frequency_penalty", "presence_penalty", "logit_bias"],
        docs: "https://inference-docs.cerebras.ai/resources/openai",
        ..HOSTED
    },
    Preset {
        name: "deepinfra",
        host: "api.deepinfra.com",
        base_path: "/v1/openai",
        embeddings: true,
        docs: "https://deepinfra.com/docs/advanced/openai_api",
        ..HOSTED
    },
    // The supported-field list has `max_tokens` only and leaves out
    // `logit_bias`, `tool_choice`, `user` and `n`; only `logit_bias` is
    // refused, since common values of the others (`"auto"`, 1) are harmless.
    Preset {
        name: "ollama",
        host: "localhost:11434",
        port: 11434,
        auth: AuthScheme::None,
        max_tokens: MaxTokens::Legacy,
        reject: &["logit_bias"],
        embeddings: true,
        docs: "https://docs.ollama.com/api/openai-compatibility",
        ..LOCAL
    },
    // `--api-key` makes the server check a Bearer token; without a key none
    // is sent. Recent versions name the reasoning field `reasoning`.
    Preset {
        name: "vllm",
        host: "localhost:8000",
        port: 8000,
        embeddings: true,
        docs: "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
        ..LOCAL
    },
    // Authentication is off by default; with "Require Authentication" it
    // takes an LM Studio API token as a Bearer key.
    Preset {
        name: "lmstudio",
        host: "localhost:1234",
        port: 1234,
        embeddings: true,
        docs: "https://lmstudio.ai/docs/api/openai-api",
        ..LOCAL
    },
    Preset {
        name: "gemini-openai",
        host: "generativelanguage.googleapis.com",
        base_path: "/v1beta/openai",
        embeddings: true,
        docs: "https://ai.google.dev/gemini-api/docs/openai",
        ..HOSTED
    },
    // International (Singapore) endpoint; Beijing is dashscope.aliyuncs.com.
    // Thinking models answer with `reasoning_content`.
    Preset {
        name: "dashscope",
        host: "dashscope-intl.aliyuncs.com",
        base_path: "/compatible-mode/v1",
        embeddings: true,
        reasoning_content: true,
        docs: "https://www.alibabacloud.com/help/en/model-studio/compatibility-of-openai-with-dashscope",
        ..HOSTED
    },
    // Global endpoint; mainland China is api.moonshot.cn.
    Preset {
        name: "moonshot",
        host: "api.moonshot.ai",
        reasoning_content: true,
        docs: "https://platform.kimi.ai/docs/api/overview",
        ..HOSTED
    },
];

/// Presets that were removed because their service no longer speaks Chat
/// Completions, with the reason a config naming one is refused.
pub const RETIRED: &[(&str, &str)] = &[(
    "perplexity",
    "Perplexity retired its Sonar Chat Completions API on 2026-09-27; its replacement, the Agent API (`POST /v1/agent`), is Responses-shaped, not Chat Completions",
)];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_names_are_unique_lowercase_and_not_provider_kinds() {
        for (i, p) in PRESETS.iter().enumerate() {
            assert!(!p.name.is_empty());
            assert!(
                p.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not lowercase",
                p.name
            );
            assert!(
                !["openai", "anthropic", "gemini", "azure"].contains(&p.name),
                "{} shadows a provider kind",
                p.name
            );
            assert!(
                PRESETS.iter().skip(i + 1).all(|q| q.name != p.name),
                "{} is listed twice",
                p.name
            );
        }
    }

    #[test]
    fn preset_hosts_are_bare_authorities() {
        for p in PRESETS {
            assert!(!p.host.is_empty(), "{}", p.name);
            assert!(!p.host.contains("://"), "{}: scheme in host", p.name);
            assert!(!p.host.contains('/'), "{}: path in host", p.name);
            match p.host.split_once(':') {
                Some((_, port)) => assert_eq!(port, p.port.to_string(), "{}", p.name),
                None => assert_eq!(p.port, 443, "{}: no port in host", p.name),
            }
            assert_eq!(p.tls, p.port == 443, "{}: tls and port disagree", p.name);
        }
    }

    #[test]
    fn preset_base_paths_are_rooted_without_trailing_slash() {
        for p in PRESETS {
            // Empty means the root (DeepSeek).
            assert!(
                p.base_path.is_empty() || p.base_path.starts_with('/'),
                "{}",
                p.name
            );
            assert!(!p.base_path.ends_with('/'), "{}", p.name);
        }
    }

    #[test]
    fn preset_field_lists_are_disjoint_and_top_level() {
        for p in PRESETS {
            for f in p.drop.iter().chain(p.reject) {
                assert!(
                    !f.is_empty() && !f.contains(['.', '[', ' ']),
                    "{}: {f}",
                    p.name
                );
            }
            for f in p.drop {
                assert!(
                    !p.reject.contains(f),
                    "{}: {f} both dropped and rejected",
                    p.name
                );
            }
        }
    }

    #[test]
    fn preset_keys_and_docs_are_consistent() {
        for p in PRESETS {
            assert!(p.docs.starts_with("https://"), "{}", p.name);
            if p.auth == AuthScheme::None {
                assert!(!p.key_required, "{}", p.name);
            }
            if p.key_required {
                assert_ne!(p.auth, AuthScheme::None, "{}", p.name);
            }
        }
    }

    #[test]
    fn preset_find_returns_the_named_entry() {
        for p in PRESETS {
            assert_eq!(find(p.name), Some(p));
        }
        let groq = find("groq").unwrap();
        assert_eq!(groq.host, "api.groq.com");
        assert_eq!(groq.base_path, "/openai/v1");
        assert!(groq.reject.contains(&"logprobs"));
        let ollama = find("ollama").unwrap();
        assert!(!ollama.tls && !ollama.key_required);
        assert_eq!(ollama.auth, AuthScheme::None);
        assert_eq!(find("openai"), None);
        assert_eq!(find("GROQ"), None);
        assert_eq!(find(""), None);
    }

    #[test]
    fn preset_list_covers_the_documented_services() {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        for n in [
            "mistral",
            "groq",
            "deepseek",
            "together",
            "xai",
            "openrouter",
            "fireworks",
            "cerebras",
            "deepinfra",
            "ollama",
            "vllm",
            "lmstudio",
            "gemini-openai",
            "dashscope",
            "moonshot",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
        assert_eq!(names.len(), 15);
        for (retired, _) in RETIRED {
            assert!(!names.contains(retired), "{retired} is retired");
        }
    }
}

//! AWS Bedrock Runtime (`type: "bedrock"`): the Converse API behind the
//! OpenAI chat interface.
//!
//! Paths: `POST /model/{model id}/converse`, or `/converse-stream` for
//! `stream: true`; there is no base path. The model id (a foundation model
//! such as `anthropic.claude-3-5-sonnet-20240620-v1:0`, an inference profile
//! such as `us.anthropic...`, or a full ARN) is one path segment, so every
//! byte outside the unreserved set is percent-encoded once (`:` → `%3A`,
//! `/` → `%2F`); the SigV4 signer encodes the path again, as AWS expects.
//! The host is `bedrock-runtime.{region}.amazonaws.com`.
//!
//! # Credentials (`auth`, tagged by `type`)
//! * `sigv4` (the default without `auth` and without `api_key_env`): the
//!   filter signs each request itself with the keys read from
//!   `access_key_id_env` (default `AWS_ACCESS_KEY_ID`),
//!   `secret_access_key_env` (`AWS_SECRET_ACCESS_KEY`) and, when set and
//!   non-empty, `session_token_env` (`AWS_SESSION_TOKEN`).
//! * `envoy`: the filter sends the request unsigned and Envoy's
//!   `aws_request_signing` filter on the cluster signs it (instance roles,
//!   IRSA and credential files are Envoy's business then).
//! * `api_key`: Bedrock API keys, sent as `Authorization: Bearer` from
//!   `api_key_env` (also the default when `api_key_env` is given alone).
//!
//! Request mapping: see `request.rs` and `messages.rs`; responses and
//! errors: `response.rs`; streams: `stream.rs`.

mod format;
mod messages;
mod request;
mod response;
mod stream;
mod translate;
mod wire;

use serde::Deserialize;

use crate::config::{err, ConfigError, Secret};
use crate::events::Meta;
use crate::providers::auth::{sigv4, Auth, AuthScheme};
use crate::providers::{
    join_path, AuthInput, ChatInput, Defaults, EnvoySigning, Kind, Outbound, Started, TargetCtx,
};

/// The SigV4 signing name of Bedrock Runtime.
pub const SERVICE: &str = "bedrock";

/// `type: "bedrock"`.
#[derive(Debug)]
pub struct Bedrock;

/// The config fields of `type: "bedrock"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// AWS region such as `us-east-1`.
    pub region: String,
    /// How requests are authenticated (see the module docs).
    #[serde(default)]
    pub auth: Option<AuthOption>,
}

/// `auth` of a Bedrock provider.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthOption {
    Sigv4 {
        #[serde(default = "default_key_env")]
        access_key_id_env: String,
        #[serde(default = "default_secret_env")]
        secret_access_key_env: String,
        #[serde(default = "default_token_env")]
        session_token_env: String,
    },
    Envoy,
    ApiKey,
}

fn default_key_env() -> String {
    "AWS_ACCESS_KEY_ID".to_string()
}

fn default_secret_env() -> String {
    "AWS_SECRET_ACCESS_KEY".to_string()
}

fn default_token_env() -> String {
    "AWS_SESSION_TOKEN".to_string()
}

fn region_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Reads `<path>.auth.<field>`'s variable, required and non-empty.
fn required_env(input: &AuthInput<'_>, field: &str, var: &str) -> Result<Secret, ConfigError> {
    match (input.env)(var).filter(|v| !v.is_empty()) {
        Some(v) => Ok(Secret::new(v)),
        None => Err(err(
            format!("{}.auth.{field}", input.path),
            format!("environment variable `{var}` is not set (AWS credentials for SigV4)"),
        )),
    }
}

fn sigv4_auth(
    opts: &Options,
    input: &AuthInput<'_>,
    (key_env, secret_env, token_env): (&str, &str, &str),
) -> Result<Auth, ConfigError> {
    let access_key_id = required_env(input, "access_key_id_env", key_env)?;
    let secret_access_key = required_env(input, "secret_access_key_env", secret_env)?;
    let session_token = (input.env)(token_env)
        .filter(|v| !v.is_empty())
        .map(Secret::new);
    Ok(Auth::SigV4(Box::new(sigv4::SigV4 {
        access_key_id,
        secret_access_key,
        session_token,
        region: opts.region.clone(),
        service: SERVICE,
    })))
}

fn no_key(input: &AuthInput<'_>, kind: &str) -> Result<(), ConfigError> {
    match input.key {
        Some(_) => Err(err(
            format!("{}.api_key_env", input.path),
            format!("not used with `auth.type: {kind}` (only with `api_key`)"),
        )),
        None => Ok(()),
    }
}

/// Percent-encodes `model` as one path segment (unreserved bytes stay).
pub fn encode_model(model: &str) -> String {
    let mut out = String::with_capacity(model.len());
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Kind for Bedrock {
    type Options = Options;
    fn reply_headers(_: &Options) -> &'static [&'static str] {
        &["x-amzn-requestid"]
    }

    fn validate(opts: &Options, path: &str) -> Result<(), ConfigError> {
        if !region_ok(&opts.region) {
            return Err(err(
                format!("{path}.region"),
                "must be an AWS region such as `us-east-1`",
            ));
        }
        Ok(())
    }

    fn defaults(_: &Options) -> Defaults {
        Defaults {
            host: None,
            base_path: "",
            auth: AuthScheme::Bearer,
            key_required: false,
        }
    }

    fn default_host(opts: &Options) -> Option<String> {
        Some(format!("bedrock-runtime.{}.amazonaws.com", opts.region))
    }

    fn envoy_signing(opts: &Options) -> Option<EnvoySigning> {
        matches!(opts.auth, Some(AuthOption::Envoy)).then(|| EnvoySigning {
            service: SERVICE,
            region: opts.region.clone(),
        })
    }

    fn auth(opts: &Options, input: AuthInput<'_>) -> Result<Auth, ConfigError> {
        match &opts.auth {
            None if input.key.is_some() => Ok(Auth::new(AuthScheme::Bearer, input.key)),
            None => sigv4_auth(
                opts,
                &input,
                (
                    &default_key_env(),
                    &default_secret_env(),
                    &default_token_env(),
                ),
            ),
            Some(AuthOption::Sigv4 {
                access_key_id_env,
                secret_access_key_env,
                session_token_env,
            }) => {
                no_key(&input, "sigv4")?;
                let vars = (
                    access_key_id_env.as_str(),
                    secret_access_key_env.as_str(),
                    session_token_env.as_str(),
                );
                sigv4_auth(opts, &input, vars)
            }
            Some(AuthOption::Envoy) => {
                no_key(&input, "envoy")?;
                Ok(Auth::None)
            }
            Some(AuthOption::ApiKey) => match input.key {
                Some(k) => Ok(Auth::Bearer(k)),
                None => Err(err(
                    format!("{}.api_key_env", input.path),
                    "required with `auth.type: api_key`",
                )),
            },
        }
    }

    fn chat(_: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
        let req = input.request()?;
        let body = request::converse_body(&req, target.model)?;
        let stream = req.is_stream();
        let meta = Meta {
            model: target.public_model.to_string(),
            created: target.now_unix_secs,
            include_usage: req.include_usage(),
            encrypted_reasoning: req.ext.encrypted_reasoning,
        };
        let method = if stream {
            "converse-stream"
        } else {
            "converse"
        };
        let out = Outbound {
            path: join_path(
                &target.provider.base_path,
                &format!("/model/{}/{method}", encode_model(target.model)),
            ),
            headers: vec![("content-type", "application/json".to_string())],
            body: Some(body),
        };
        let chat = translate::BedrockChat::new(input.dialect.encoder(meta), stream);
        Ok((Box::new(chat), out))
    }

    fn count_tokens(_: &Options, input: &ChatInput<'_>, target: TargetCtx<'_>) -> Option<Started> {
        Some(count_tokens(input, target))
    }
}

/// Bedrock's CountTokens with the Converse members that shape the prompt
/// (`{"input":{"converse":{…}}}`); `inputTokens` comes back.
fn count_tokens(input: &ChatInput<'_>, target: TargetCtx<'_>) -> Started {
    const PROMPT: [&str; 4] = [
        "messages",
        "system",
        "toolConfig",
        "additionalModelRequestFields",
    ];
    let req = crate::dialect::anthropic::decode_count(input.body)?;
    let turn = request::converse_body(&req, target.model)?;
    let bad = |_| crate::error::ApiError::internal("cannot encode the count request");
    let mut converse: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&turn).map_err(bad)?;
    converse.retain(|k, _| PROMPT.contains(&k.as_str()));
    let body = serde_json::json!({"input": {"converse": converse}});
    let out = Outbound {
        path: join_path(
            &target.provider.base_path,
            &format!("/model/{}/count-tokens", encode_model(target.model)),
        ),
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body.to_string().into_bytes()),
    };
    let counter = crate::providers::count::Translated::new(input_tokens, |status, body| {
        response::translate_error(status, None, body)
    });
    Ok((Box::new(counter), out))
}

fn input_tokens(body: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        input_tokens: u64,
    }
    serde_json::from_slice::<Answer>(body)
        .ok()
        .map(|a| a.input_tokens)
}

#[cfg(test)]
mod tests;

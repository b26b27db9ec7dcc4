//! `POST /v1/messages/count_tokens`, routed like a turn of its model but
//! answered by one target, with no failover: a count is advice to the
//! client, and the first target's count is the one its turn would most
//! likely meet (see `providers::count` for how each provider counts).

use super::{provider_of, reject, target_ctx, Request, RouteError, Routed};
use crate::config::Config;
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::providers::auth::AuthEnv;
use crate::providers::count::{answer, Count};
use crate::providers::ChatInput;

/// A count: sent to the provider's counter, or answered here.
#[derive(Debug)]
pub enum Counted<'c> {
    Send(Routed<'c>),
    /// The gateway's estimate, as the client's JSON body.
    Answer(Vec<u8>),
}

pub fn count<'c>(
    cfg: &'c Config,
    req: &Request<'_>,
    model_idx: usize,
    target_idx: usize,
    env: AuthEnv<'_>,
) -> Result<Counted<'c>, RouteError> {
    let Request::Count { body, probe } = req else {
        let e = ApiError::internal("not a token count");
        return Err(reject(e, Some(model_idx), None));
    };
    let ctx = target_ctx(cfg, model_idx, target_idx, env)?;
    let provider = provider_of(cfg, model_idx, target_idx)?;
    let input = ChatInput {
        body,
        probe,
        dialect: Dialect::AnthropicMessages,
        betas: None,
    };
    let counted = crate::providers::count_tokens(&input, ctx)
        .map_err(|e| reject(e, Some(model_idx), Some(target_idx)))?;
    Ok(match counted {
        Count::Estimate(n) => Counted::Answer(answer(n)),
        Count::Upstream(exchange, outbound) => Counted::Send(Routed {
            model_idx,
            target_idx,
            provider: &provider.name,
            cluster: &provider.cluster,
            authority: &provider.host,
            outbound,
            exchange,
        }),
    })
}

//! Starting a failover request: checked against every target up front,
//! then sent to the rotation whose head can take it: its circuit closed
//! and, for a provider whose OAuth token the VM fetches, a token at hand
//! (an attempt without one fails locally and cannot be retried elsewhere).

use super::{find, Downstream, FailoverState, State, MAX_RETRIES};
use crate::config::Model;
use crate::error::ApiError;
use crate::gateway::headers::{sanitized, Never};
use crate::gateway::{translate, Request, RouteError};
use crate::providers::auth::{AuthEnv, ValidateOnly};
use crate::session::health;
use crate::session::worker::{RequestRecord, Worker};
use crate::session::{Host, Level, FAILOVER_HEADER, FAILOVER_JSON, FAILOVER_STREAM, REQUEST_ID};
use crate::stats::Counter;

impl Downstream {
    /// Routes a failover model: every target must be able to take the
    /// request (an attempt that cannot be translated could not be retried
    /// elsewhere), then the rotation starting at a target whose circuit is
    /// closed is chosen.
    pub(super) fn start_failover(
        &mut self,
        w: &Worker,
        host: &mut dyn Host,
        client: Vec<(String, String)>,
        req: &Request<'_>,
        (model_idx, model): (usize, &Model),
    ) -> Result<(), RouteError> {
        let body = req.body();
        let limit = w.cfg.failover.retry_buffer_bytes;
        if u64::try_from(body.len()).unwrap_or(u64::MAX) > limit {
            host.log(
                Level::Warn,
                &format!("modelmux: {} byte body over the retry buffer ({limit} bytes) of failover model `{}`: refused, it could not be replayed", body.len(), model.name),
            );
            let e = ApiError::new(413, "invalid_request_error", format!("The request body is larger than the gateway's failover buffer ({limit} bytes)."));
            return Err(RouteError {
                model_idx: Some(model_idx),
                target_idx: Some(0),
                error: e,
            });
        }
        for t in 0..model.targets.len() {
            translate(
                &w.cfg,
                req,
                model_idx,
                t,
                AuthEnv {
                    now_unix_secs: 0,
                    tokens: &ValidateOnly,
                },
            )?;
        }
        let head = choose_head(w, model_idx, model);
        let rotations = model
            .failover
            .as_ref()
            .map(|f| f.rotations.as_slice())
            .unwrap_or(&[]);
        let cluster = rotations.get(head).map_or("", String::as_str);
        // The record's key: issued here, sent as the request id (see
        // `REQUEST_ID`); the client's own id is replaced.
        let id = w.issue_id();
        let client_request_id = find(&client, REQUEST_ID).map(str::to_string);
        let mut headers = sanitized(client, Never::of(&w.cfg));
        headers.retain(|(n, _)| n != MAX_RETRIES && n != REQUEST_ID);
        headers.push((REQUEST_ID.to_string(), id.clone()));
        let mut routed = headers.clone();
        routed.push((w.cfg.cluster_header.clone(), cluster.to_string()));
        let kind = if req.is_stream() {
            FAILOVER_STREAM
        } else {
            FAILOVER_JSON
        };
        routed.push((FAILOVER_HEADER.to_string(), kind.to_string()));
        // The route's retry count covers the model with the most targets;
        // each model tries each of its targets once.
        let retries = model.targets.len().saturating_sub(1);
        routed.push((MAX_RETRIES.to_string(), retries.to_string()));
        host.set_request_headers(&routed);
        w.insert(
            id.clone(),
            RequestRecord {
                consumer: self.timing.consumer,
                ..RequestRecord::new(model_idx, req.operation(), headers)
            },
        );
        self.state = State::Failover(Box::new(FailoverState {
            model: model_idx,
            head,
            id,
            status: None,
            envoy_reply: false,
            client_request_id,
        }));
        Ok(())
    }
}

/// The rotation to start with: the model's weighted split (see
/// [`crate::split`]). A planned head whose circuit is open or whose
/// credential is not ready hands its turn to the usable weighted targets,
/// shared by weight; failing those, to the next usable target in list
/// order (wrapping), which is how unweighted fallbacks take over. If no
/// target qualifies, the plan stands: trying beats failing without a try.
fn choose_head(w: &Worker, model_idx: usize, model: &Model) -> usize {
    let planned = w.picks.plan(model_idx, model).unwrap_or(0);
    let now = w.now_ms();
    let open = |k: usize| {
        let provider = w.cfg.target_provider(model_idx, k);
        health::is_open(w.store(), provider.map_or("", |p| p.name.as_str()), now)
    };
    let usable = |k: usize| {
        !open(k)
            && w.cfg
                .target_provider(model_idx, k)
                .is_none_or(|p| w.credential_ready(p))
    };
    if usable(planned) {
        return planned;
    }
    if open(planned) {
        w.stats.add(model_idx, planned, Counter::CircuitSkips, 1);
    }
    if let Some(k) = w
        .picks
        .among(model_idx, model, &|k| k != planned && usable(k))
    {
        return k;
    }
    let n = model.targets.len();
    (1..n)
        .map(|step| (planned + step) % n)
        .find(|&k| usable(k))
        .unwrap_or(planned)
}

//! A small model of Envoy's router for whole-request tests: the downstream
//! role, then one upstream context per attempt over rotation priorities,
//! with header edits persisting between attempts and bodies buffered while
//! a filter pauses, as on Envoy 1.40 (see failover-facts.md).

use crate::session::{Downstream, Flow, Upstream, Worker, FAILOVER_HEADER};

use super::fake::FakeHost;

/// How a scripted provider answers one attempt.
#[derive(Debug, Clone)]
pub enum Answer {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        chunks: Vec<Vec<u8>>,
    },
    /// Connection refused or reset before any response.
    Refuse,
}

pub fn respond(status: u16, headers: &[(&str, &str)], chunks: &[&[u8]]) -> Answer {
    Answer::Respond {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        chunks: chunks.iter().map(|c| c.to_vec()).collect(),
    }
}

/// What one provider received.
#[derive(Debug, Clone)]
pub struct Sent {
    pub provider: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Debug)]
pub struct Outcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub sent: Vec<Sent>,
    pub filter_state: std::collections::HashMap<String, String>,
    /// The downstream request header map at the end (what access logs read).
    pub request_headers: Vec<(String, String)>,
    /// Host calls made by the downstream role.
    pub down_calls: u32,
    /// Host calls made by each upstream attempt.
    pub up_calls: Vec<u32>,
}

impl Outcome {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Feeds a response to a filter the way Envoy does: while it pauses, the
/// body accumulates; on `Continue` the (edited) buffer goes out.
fn pump(
    host: &mut FakeHost,
    chunks: &[Vec<u8>],
    headers_flow: Flow,
    mut body: impl FnMut(&mut FakeHost, usize, bool) -> Flow,
) -> (bool, Vec<u8>) {
    let mut released = headers_flow == Flow::Continue;
    let mut out = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        host.resp_body.extend_from_slice(c);
        let end = i + 1 == chunks.len();
        if body(host, host.resp_body.len(), end) == Flow::Continue {
            released = true;
            out.append(&mut host.resp_body);
        }
    }
    (released, out)
}

fn status_of(h: &FakeHost) -> u16 {
    h.resp(":status").and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Splits a body into the chunks a test wants delivered.
pub fn chunks_of(body: &[u8], size: usize) -> Vec<Vec<u8>> {
    body.chunks(size.max(1)).map(<[u8]>::to_vec).collect()
}

/// Runs one client request through both roles.
pub fn run(
    w: &Worker,
    client: &[(&str, &str)],
    body: &[u8],
    answer: impl FnMut(&str, usize) -> Answer,
) -> Outcome {
    run_with(w, client, body, false, answer)
}

/// Either role's request-body side.
trait BodySink {
    fn body(&mut self, w: &Worker, h: &mut FakeHost, size: usize, end: bool) -> Flow;
    fn trailers(&mut self, w: &Worker, h: &mut FakeHost) -> Flow;
}

impl BodySink for Downstream {
    fn body(&mut self, w: &Worker, h: &mut FakeHost, size: usize, end: bool) -> Flow {
        self.on_request_body(w, h, size, end)
    }
    fn trailers(&mut self, w: &Worker, h: &mut FakeHost) -> Flow {
        self.on_request_trailers(w, h)
    }
}

impl BodySink for Upstream {
    fn body(&mut self, w: &Worker, h: &mut FakeHost, size: usize, end: bool) -> Flow {
        self.on_request_body(w, h, size, end)
    }
    fn trailers(&mut self, w: &Worker, h: &mut FakeHost) -> Flow {
        self.on_request_trailers(w, h)
    }
}

/// Delivers the body, ending it with END_STREAM or with trailers (the
/// last DATA frame then has no END_STREAM).
fn deliver(sink: &mut dyn BodySink, w: &Worker, h: &mut FakeHost, trailers: bool) {
    let len = h.req_body.len();
    if trailers {
        h.req_trailers = vec![("x-checksum".into(), "abc".into())];
        assert_eq!(sink.body(w, h, len, false), Flow::Pause);
        sink.trailers(w, h);
        assert!(h.req_trailers.is_empty(), "client trailers left in place");
    } else {
        sink.body(w, h, len, true);
    }
}

/// [`run`], with the body ended by trailers when `trailers` is set.
pub fn run_with(
    w: &Worker,
    client: &[(&str, &str)],
    body: &[u8],
    trailers: bool,
    mut answer: impl FnMut(&str, usize) -> Answer,
) -> Outcome {
    let mut d = Downstream::default();
    let mut dh = FakeHost::with_request(client, body);
    dh.now.set(w.now_ms());
    assert_eq!(d.on_request_headers(w, &mut dh, false), Flow::Pause);
    deliver(&mut d, w, &mut dh, trailers);
    if let Some((status, body)) = dh.reply.take() {
        d.on_done(w, &dh);
        return Outcome {
            status,
            headers: vec![],
            body,
            sent: vec![],
            down_calls: dh.calls.get(),
            up_calls: vec![],
            filter_state: dh.filter_state,
            request_headers: dh.req_headers,
        };
    }
    let cluster = dh
        .req(&w.cfg.cluster_header)
        .unwrap_or_default()
        .to_string();
    let failover = dh.req(FAILOVER_HEADER).is_some();
    let mut map: Vec<(String, String)> = dh
        .req_headers
        .iter()
        .filter(|(n, _)| *n != w.cfg.cluster_header && n != FAILOVER_HEADER)
        .cloned()
        .collect();
    let mut sent = Vec::new();
    let mut up_calls = Vec::new();
    let final_resp: (Vec<(String, String)>, Vec<u8>);
    if !failover {
        let provider = w
            .cfg
            .providers
            .iter()
            .find(|p| p.cluster == cluster)
            .unwrap();
        sent.push(Sent {
            provider: provider.name.clone(),
            headers: map.clone(),
            body: dh.req_body.clone(),
        });
        final_resp = match answer(&provider.name, 0) {
            Answer::Respond { status, headers, chunks } => {
                let mut h = vec![(":status".to_string(), status.to_string())];
                h.extend(headers);
                (h, chunks.concat())
            }
            Answer::Refuse => envoy_reply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure"),
        };
    } else {
        let (model_idx, model) = w
            .cfg
            .models
            .iter()
            .enumerate()
            .find(|(_, m)| {
                m.failover
                    .as_ref()
                    .is_some_and(|f| f.rotations.contains(&cluster))
            })
            .unwrap();
        let head = model
            .failover
            .as_ref()
            .unwrap()
            .rotations
            .iter()
            .position(|c| *c == cluster)
            .unwrap();
        let n = model.targets.len();
        let mut last = None;
        for attempt in 0..n {
            let target = (head + attempt) % n;
            let provider = w
                .cfg
                .target_provider(model_idx, target)
                .unwrap()
                .name
                .clone();
            let mut uh = FakeHost {
                req_headers: map.clone(),
                req_body: dh.req_body.clone(),
                ..Default::default()
            };
            uh.now.set(w.now_ms());
            uh.properties.insert(
                "xds.upstream_host_metadata.filter_metadata.modelmux.provider".into(),
                provider.clone(),
            );
            let mut up = Upstream::default();
            up.on_request_headers(w, &mut uh);
            if let Some((status, body)) = uh.reply.take() {
                last = Some((vec![(":status".to_string(), status.to_string())], body));
                break;
            }
            deliver(&mut up, w, &mut uh, trailers);
            map = uh.req_headers.clone();
            sent.push(Sent {
                provider: provider.clone(),
                headers: uh.req_headers.clone(),
                body: uh.req_body.clone(),
            });
            match answer(&provider, attempt) {
                Answer::Refuse => {
                    up.on_done(w, &uh);
                    last = None;
                }
                Answer::Respond {
                    status,
                    headers,
                    chunks,
                } => {
                    uh.resp_headers = vec![(":status".to_string(), status.to_string())];
                    uh.resp_headers.extend(headers);
                    let hf = up.on_response_headers(w, &mut uh, chunks.is_empty());
                    let (_, out) = pump(&mut uh, &chunks, hf, |h, s, e| {
                        up.on_response_body(w, h, s, e)
                    });
                    let released = status_of(&uh);
                    let retriable = released == 429 || (500..600).contains(&released);
                    up.on_done(w, &uh);
                    up_calls.push(uh.calls.get());
                    last = Some((uh.resp_headers.clone(), out));
                    if !(retriable && attempt + 1 < n) {
                        break;
                    }
                }
            }
        }
        final_resp = last.unwrap_or_else(|| envoy_reply(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure"));
    }
    dh.resp_headers = final_resp.0;
    let chunks = if final_resp.1.is_empty() {
        vec![]
    } else {
        chunks_of(&final_resp.1, 7)
    };
    let hf = d.on_response_headers(w, &mut dh, chunks.is_empty());
    let (_, out) = pump(&mut dh, &chunks, hf, |h, s, e| {
        d.on_response_body(w, h, s, e)
    });
    d.on_done(w, &dh);
    Outcome {
        status: status_of(&dh),
        headers: dh.resp_headers.clone(),
        body: out,
        sent,
        down_calls: dh.calls.get(),
        up_calls,
        filter_state: dh.filter_state,
        request_headers: dh.req_headers.clone(),
    }
}

fn envoy_reply(status: u16, text: &str) -> (Vec<(String, String)>, Vec<u8>) {
    (
        vec![
            (":status".to_string(), status.to_string()),
            ("content-type".to_string(), "text/plain".to_string()),
        ],
        text.as_bytes().to_vec(),
    )
}

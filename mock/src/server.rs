//! Listeners, keep-alive connection loop, routing and introspection.

use std::collections::VecDeque;
use std::io::{self, BufReader, BufWriter};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use serde_json::{json, Map, Value};

use crate::faults::{write_response, Faults, Response};
use crate::http::{read_request, ReadError, Request};
use crate::{anthropic, openai};

const LOG_CAPACITY: usize = 200;
const IO_BUFFER: usize = 16 * 1024;

/// Which API a listener mocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }

    fn error(self, status: u16, message: &str) -> Response {
        match self {
            Provider::OpenAi => openai::error_for_status(status, message),
            Provider::Anthropic => anthropic::error_for_status(status, message),
        }
    }
}

/// Shared state of one listener.
pub struct Listener {
    pub provider: Provider,
    pub key: String,
    log: Mutex<VecDeque<Request>>,
    counter: AtomicU64,
}

impl Listener {
    pub fn new(provider: Provider, key: &str) -> Listener {
        Listener {
            provider,
            key: key.to_string(),
            log: Mutex::new(VecDeque::with_capacity(LOG_CAPACITY)),
            counter: AtomicU64::new(0),
        }
    }

    /// Next value of the per-listener id counter (starts at 1).
    pub fn next_id(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn log(&self) -> MutexGuard<'_, VecDeque<Request>> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record(&self, req: Request) {
        let mut log = self.log();
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(req);
    }
}

/// Binds `addr` and serves `provider` on a background thread.
pub fn spawn(
    provider: Provider,
    addr: &str,
    key: &str,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)?;
    let local = listener.local_addr()?;
    let state = Arc::new(Listener::new(provider, key));
    let handle = thread::Builder::new()
        .name(format!("{}-accept", provider.name()))
        .spawn(move || accept_loop(listener, state))?;
    Ok((local, handle))
}

fn accept_loop(listener: TcpListener, state: Arc<Listener>) {
    for conn in listener.incoming() {
        let Ok(stream) = conn else {
            // Typically EMFILE: back off a little instead of spinning.
            thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        let state = Arc::clone(&state);
        let spawned = thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || serve_connection(stream, &state));
        if spawned.is_err() {
            thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

fn serve_connection(stream: TcpStream, state: &Listener) {
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(IO_BUFFER, read_half);
    let mut writer = BufWriter::with_capacity(IO_BUFFER, stream);
    loop {
        let req = match read_request(&mut reader, &mut writer) {
            Ok(Some(req)) => req,
            Ok(None) | Err(ReadError::Io) => break,
            Err(ReadError::Malformed(msg)) => {
                let resp = state
                    .provider
                    .error(400, &format!("Malformed HTTP request: {msg}"));
                let _ = write_response(&mut writer, &resp, &Faults::default(), true);
                break;
            }
        };
        let close = !req.keep_alive;
        let (resp, faults) = dispatch(state, req);
        match write_response(&mut writer, &resp, &faults, close) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
    if let Ok(stream) = writer.into_inner() {
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Routes one request. Non-introspection requests are recorded (even when
/// rejected) before the response is written.
pub fn dispatch(state: &Listener, req: Request) -> (Response, Faults) {
    if req.path().starts_with("/_mock/") {
        return (introspect(state, &req), Faults::default());
    }
    let faults = Faults::from_request(&req);
    let resp = match state.provider {
        Provider::OpenAi => openai::handle(state, &req, &faults),
        Provider::Anthropic => anthropic::handle(state, &req, &faults),
    };
    state.record(req);
    (resp, faults)
}

fn introspect(state: &Listener, req: &Request) -> Response {
    match (req.method.as_str(), req.path()) {
        ("GET", "/_mock/health") => Response::json(200, &json!({"ok": true})),
        ("GET", "/_mock/requests") => {
            let log = state.log();
            let items: Vec<Value> = log.iter().map(render_request).collect();
            Response::json(200, &Value::Array(items))
        }
        ("DELETE", "/_mock/requests") => {
            state.log().clear();
            Response::json(200, &json!({"ok": true}))
        }
        (_, "/_mock/health" | "/_mock/requests") => state.provider.error(405, "Method not allowed"),
        _ => state.provider.error(404, "Not found"),
    }
}

fn render_request(req: &Request) -> Value {
    let mut headers = Map::new();
    for (name, value) in &req.headers {
        match headers.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
        }
    }
    let body = serde_json::from_slice(&req.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&req.body).into_owned()));
    json!({
        "method": req.method,
        "path": req.target,
        "headers": headers,
        "body": body,
    })
}

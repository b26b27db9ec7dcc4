//! Listeners, keep-alive connection loop and routing.
//!
//! Every listener has a label (`openai`, `anthropic` or one given with
//! `--listen`, whose kind may also be `gemini`, `azure` or `bedrock`) so that scoped
//! header faults and stored faults can target one
//! provider of a failover pair while its twin answers normally.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use rustls::ServerConfig;

use crate::bedrock::{self, Aws};
use crate::faults::{write_response, Body, Faults, Response};
use crate::http::{read_request, ReadError, Request};
use crate::introspect::introspect;
use crate::persist;
use crate::{anthropic, azure, cohere, gemini, openai, tls, vertex};

const LOG_CAPACITY: usize = 200;
const IO_BUFFER: usize = 16 * 1024;

/// Which API a listener mocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
    Gemini,
    Azure,
    Cohere,
    Vertex,
    Bedrock,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Gemini => "gemini",
            Provider::Azure => "azure",
            Provider::Cohere => "cohere",
            Provider::Vertex => "vertex",
            Provider::Bedrock => "bedrock",
        }
    }

    pub fn error(self, status: u16, message: &str) -> Response {
        match self {
            Provider::OpenAi => openai::error_for_status(status, message),
            Provider::Anthropic => anthropic::error_for_status(status, message),
            Provider::Gemini => gemini::error_for_status(status, message),
            Provider::Azure => azure::error_for_status(status, message),
            Provider::Cohere => cohere::error_for_status(status, message),
            Provider::Vertex => vertex::error_for_status(status, message),
            Provider::Bedrock => bedrock::error_for_status(status, message),
        }
    }

    /// Path, method and key checks that come before any injected fault.
    fn gate(self, state: &Listener, req: &Request) -> Result<(), Response> {
        match self {
            Provider::OpenAi => openai::gate(state, req),
            Provider::Anthropic => anthropic::gate(state, req),
            Provider::Gemini => gemini::gate(state, req).map(|_| ()),
            Provider::Azure => azure::gate(state, req).map(|_| ()),
            Provider::Cohere => cohere::gate(state, req).map(|_| ()),
            Provider::Vertex => vertex::gate(state, req).map(|_| ()),
            Provider::Bedrock => bedrock::gate(state, req).map(|_| ()),
        }
    }
}

/// Where the faults applied to a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultSource {
    Header,
    Stored,
}

/// One entry of the request log.
pub struct Recorded {
    pub req: Request,
    /// SNI the client sent (TLS listeners only).
    pub sni: Option<String>,
    pub fault: Option<FaultSource>,
}

/// Shared state of one listener.
pub struct Listener {
    pub label: String,
    pub provider: Provider,
    pub key: String,
    /// OpenAI kind: the path prefix it serves (`/v1`, or a compatible
    /// service's own such as Groq's `/openai/v1`).
    pub base: String,
    /// Bedrock kind: the credentials SigV4 signatures are checked with.
    pub aws: Aws,
    log: Mutex<VecDeque<Recorded>>,
    stored: Mutex<persist::State>,
    counter: AtomicU64,
    /// Vertex kind: project, token verification and issued tokens.
    pub vertex: vertex::State,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Listener {
    /// A listener labelled with the provider's name.
    #[cfg(test)]
    pub fn new(provider: Provider, key: &str) -> Listener {
        Listener::labelled(provider.name(), provider, key)
    }

    pub fn labelled(label: &str, provider: Provider, key: &str) -> Listener {
        Listener {
            label: label.to_string(),
            provider,
            key: key.to_string(),
            base: "/v1".to_string(),
            aws: Aws::default(),
            log: Mutex::new(VecDeque::with_capacity(LOG_CAPACITY)),
            stored: Mutex::new(persist::State::new(label)),
            counter: AtomicU64::new(0),
            vertex: vertex::State::default(),
        }
    }

    /// Next value of the per-listener id counter (starts at 1).
    pub fn next_id(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn log(&self) -> MutexGuard<'_, VecDeque<Recorded>> {
        locked(&self.log)
    }

    /// The stored fault (`/_mock/faults`).
    pub fn stored(&self) -> MutexGuard<'_, persist::State> {
        locked(&self.stored)
    }

    fn record(&self, entry: Recorded) {
        let mut log = self.log();
        if log.len() >= LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }
}

/// How to start one listener.
pub struct Options<'a> {
    pub label: &'a str,
    pub provider: Provider,
    pub addr: &'a str,
    pub key: &'a str,
    /// Serve HTTPS with this config.
    pub tls: Option<Arc<ServerConfig>>,
    /// OpenAI kind: path prefix other than `/v1`.
    pub base: Option<&'a str>,
}

/// Binds `addr` and serves `provider` over plain HTTP on a background thread.
#[cfg(test)]
pub fn spawn(
    provider: Provider,
    addr: &str,
    key: &str,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    spawn_with(Options {
        label: provider.name(),
        provider,
        addr,
        key,
        tls: None,
        base: None,
    })
}

/// Binds and serves one listener on a background thread.
#[cfg(test)]
pub fn spawn_with(opts: Options<'_>) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    spawn_full(opts, Aws::default(), vertex::State::default())
}

/// Binds and serves one listener, with the AWS credentials a Bedrock
/// listener verifies and a Vertex listener's token state.
pub fn spawn_full(
    opts: Options<'_>,
    aws: Aws,
    vertex: vertex::State,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(opts.addr)?;
    let local = listener.local_addr()?;
    let mut listener_state = Listener::labelled(opts.label, opts.provider, opts.key);
    listener_state.vertex = vertex;
    if let Some(base) = opts.base {
        listener_state.base = base.to_string();
    }
    listener_state.aws = aws;
    let state = Arc::new(listener_state);
    let tls = opts.tls;
    let handle = thread::Builder::new()
        .name(format!("{}-accept", opts.label))
        .spawn(move || accept_loop(listener, state, tls))?;
    Ok((local, handle))
}

fn accept_loop(listener: TcpListener, state: Arc<Listener>, tls: Option<Arc<ServerConfig>>) {
    for conn in listener.incoming() {
        let Ok(stream) = conn else {
            // Typically EMFILE: back off a little instead of spinning.
            thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        let state = Arc::clone(&state);
        let tls = tls.clone();
        let spawned = thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || match tls {
                Some(config) => serve_tls(config, stream, &state),
                None => serve_plain(stream, &state),
            });
        if spawned.is_err() {
            thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// How a connection ended.
#[derive(PartialEq)]
enum End {
    /// Normally (EOF, `connection: close`, a cut body, an error).
    Closed,
    /// By an injected reset: close without another byte.
    Reset,
}

fn serve_plain(stream: TcpStream, state: &Listener) {
    let _ = stream.set_nodelay(true);
    serve(&stream, &stream, state, None);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn serve_tls(config: Arc<ServerConfig>, stream: TcpStream, state: &Listener) {
    let _ = stream.set_nodelay(true);
    let Ok((stream, sni)) = tls::accept(config, stream) else {
        return;
    };
    let stream = RefCell::new(stream);
    let end = serve(tls::Half(&stream), tls::Half(&stream), state, sni);
    if end == End::Closed {
        tls::close(&stream);
    }
}

fn serve<R: Read, W: Write>(read: R, write: W, state: &Listener, sni: Option<String>) -> End {
    let mut reader = BufReader::with_capacity(IO_BUFFER, read);
    let mut writer = BufWriter::with_capacity(IO_BUFFER, write);
    loop {
        let req = match read_request(&mut reader, &mut writer) {
            Ok(Some(req)) => req,
            Ok(None) | Err(ReadError::Io) => return End::Closed,
            Err(ReadError::Malformed(msg)) => {
                let resp = state
                    .provider
                    .error(400, &format!("Malformed HTTP request: {msg}"));
                let _ = write_response(&mut writer, &resp, &Faults::default(), true);
                return End::Closed;
            }
        };
        let close = !req.keep_alive;
        let (resp, faults) = dispatch(state, req, sni.clone());
        let reset = matches!(resp.body, Body::Reset);
        let written = if bedrock::is_eventstream(&resp) {
            bedrock::eventstream::write_response(&mut writer, &resp, &faults, close)
        } else {
            write_response(&mut writer, &resp, &faults, close)
        };
        match written {
            Ok(true) => {}
            Ok(false) | Err(_) if reset => return End::Reset,
            Ok(false) | Err(_) => return End::Closed,
        }
    }
}

/// The faults for one request: its own `x-mock-*` headers when they apply
/// on this listener, else the stored fault (drawn only for requests that
/// pass path, method and key checks, so probes and 401s don't use it up).
fn faults_for(state: &Listener, req: &Request) -> (Faults, Option<FaultSource>) {
    if let Some(faults) = Faults::for_listener(req, &state.label) {
        return (faults, Some(FaultSource::Header));
    }
    if state.provider.gate(state, req).is_ok() {
        if let Some(faults) = state.stored().draw() {
            return (faults, Some(FaultSource::Stored));
        }
    }
    (Faults::default(), None)
}

/// Routes one request. Non-introspection requests are recorded (even when
/// rejected or faulted) before the response is written.
pub fn dispatch(state: &Listener, req: Request, sni: Option<String>) -> (Response, Faults) {
    if state.provider == Provider::Vertex && req.path() == "/_mock/tokens" {
        return (vertex::oauth::introspect(&state.vertex), Faults::default());
    }
    if req.path().starts_with("/_mock/") {
        return (introspect(state, &req), Faults::default());
    }
    let (faults, fault) = faults_for(state, &req);
    let resp = match state.provider {
        Provider::OpenAi => openai::handle(state, &req, &faults),
        Provider::Anthropic => anthropic::handle(state, &req, &faults),
        Provider::Gemini => gemini::handle(state, &req, &faults),
        Provider::Azure => azure::handle(state, &req, &faults),
        Provider::Cohere => cohere::handle(state, &req, &faults),
        Provider::Vertex => vertex::handle(state, &req, &faults),
        Provider::Bedrock => bedrock::handle(state, &req, &faults),
    };
    let resp = crate::tamper::Tamper::from_request(&req, &state.label).apply(resp);
    state.record(Recorded { req, sni, fault });
    (resp, faults)
}

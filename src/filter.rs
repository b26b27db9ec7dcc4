//! The two HTTP contexts. Each callback hands the host to the core's state
//! machine and returns its verdict; nothing is decided here.

use std::rc::Rc;

use modelmux_core::session::{Downstream, Flow, Upstream, Worker};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::host::Calls;

fn action(f: Flow) -> Action {
    match f {
        Flow::Continue => Action::Continue,
        Flow::Pause => Action::Pause,
    }
}

/// In the connection manager's chain: one per client request.
pub struct DownFilter {
    pub worker: Rc<Worker>,
    pub session: Downstream,
}

impl Context for DownFilter {}

impl HttpContext for DownFilter {
    fn on_http_request_headers(&mut self, _n: usize, end: bool) -> Action {
        action(
            self.session
                .on_request_headers(&self.worker, &mut Calls, end),
        )
    }
    fn on_http_request_body(&mut self, size: usize, end: bool) -> Action {
        action(
            self.session
                .on_request_body(&self.worker, &mut Calls, size, end),
        )
    }
    fn on_http_request_trailers(&mut self, _n: usize) -> Action {
        action(self.session.on_request_trailers(&self.worker, &mut Calls))
    }
    fn on_http_response_headers(&mut self, _n: usize, end: bool) -> Action {
        action(
            self.session
                .on_response_headers(&self.worker, &mut Calls, end),
        )
    }
    fn on_http_response_body(&mut self, size: usize, end: bool) -> Action {
        action(
            self.session
                .on_response_body(&self.worker, &mut Calls, size, end),
        )
    }
    fn on_log(&mut self) {
        self.session.on_done(&self.worker, &Calls);
    }
}

/// In a rotation cluster's upstream chain: one per retry attempt.
pub struct UpFilter {
    pub worker: Rc<Worker>,
    pub attempt: Upstream,
}

impl Context for UpFilter {
    fn on_done(&mut self) -> bool {
        self.attempt.on_done(&self.worker, &Calls);
        true
    }
}

impl HttpContext for UpFilter {
    fn on_http_request_headers(&mut self, _n: usize, _end: bool) -> Action {
        action(self.attempt.on_request_headers(&self.worker, &mut Calls))
    }
    fn on_http_request_body(&mut self, size: usize, end: bool) -> Action {
        action(
            self.attempt
                .on_request_body(&self.worker, &mut Calls, size, end),
        )
    }
    fn on_http_request_trailers(&mut self, _n: usize) -> Action {
        action(self.attempt.on_request_trailers(&self.worker, &mut Calls))
    }
    fn on_http_response_headers(&mut self, _n: usize, end: bool) -> Action {
        action(
            self.attempt
                .on_response_headers(&self.worker, &mut Calls, end),
        )
    }
    fn on_http_response_body(&mut self, size: usize, end: bool) -> Action {
        action(
            self.attempt
                .on_response_body(&self.worker, &mut Calls, size, end),
        )
    }
}

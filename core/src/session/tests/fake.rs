//! A recording stand-in for Envoy's side of the proxy-wasm ABI.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::session::{Host, Level, SharedStore};

#[derive(Debug, Default)]
pub struct FakeHost {
    pub req_headers: Vec<(String, String)>,
    pub req_body: Vec<u8>,
    pub req_trailers: Vec<(String, String)>,
    pub resp_headers: Vec<(String, String)>,
    /// The response body as Envoy currently buffers it.
    pub resp_body: Vec<u8>,
    pub reply: Option<(u16, Vec<u8>)>,
    pub properties: HashMap<String, String>,
    pub filter_state: HashMap<String, String>,
    pub logs: RefCell<Vec<(Level, String)>>,
    pub now: Cell<u64>,
    /// Host calls made so far (each one crosses the VM boundary in Envoy).
    pub calls: Cell<u32>,
}

fn get<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn set(h: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    h.retain(|(n, _)| n != name);
    if let Some(v) = value {
        h.push((name.to_string(), v.to_string()));
    }
}

impl FakeHost {
    pub fn with_request(headers: &[(&str, &str)], body: &[u8]) -> Self {
        FakeHost {
            req_headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            req_body: body.to_vec(),
            ..Default::default()
        }
    }

    pub fn req(&self, name: &str) -> Option<&str> {
        get(&self.req_headers, name)
    }

    pub fn resp(&self, name: &str) -> Option<&str> {
        get(&self.resp_headers, name)
    }

    fn count(&self) {
        self.calls.set(self.calls.get() + 1);
    }
}

impl Host for FakeHost {
    fn request_headers(&self) -> Vec<(String, String)> {
        self.count();
        self.req_headers.clone()
    }
    fn request_header(&self, name: &str) -> Option<String> {
        self.count();
        self.req(name).map(str::to_string)
    }
    fn set_request_headers(&mut self, headers: &[(String, String)]) {
        self.count();
        self.req_headers = headers.to_vec();
    }
    fn set_request_header(&mut self, name: &str, value: Option<&str>) {
        self.count();
        set(&mut self.req_headers, name, value);
    }
    fn request_body(&self, len: usize) -> Vec<u8> {
        self.count();
        self.req_body.iter().take(len).copied().collect()
    }
    fn set_request_body(&mut self, len: usize, body: &[u8]) {
        self.count();
        let rest = self.req_body.split_off(len.min(self.req_body.len()));
        self.req_body = [body, &rest].concat();
    }
    fn clear_request_trailers(&mut self) {
        self.req_trailers.clear();
    }
    fn response_header(&self, name: &str) -> Option<String> {
        self.count();
        self.resp(name).map(str::to_string)
    }
    fn set_response_header(&mut self, name: &str, value: Option<&str>) {
        self.count();
        set(&mut self.resp_headers, name, value);
    }
    fn response_headers(&self) -> Vec<(String, String)> {
        self.count();
        self.resp_headers.clone()
    }
    fn set_response_headers(&mut self, headers: &[(String, String)]) {
        self.count();
        self.resp_headers = headers.to_vec();
    }
    fn response_body(&self, start: usize, len: usize) -> Vec<u8> {
        self.count();
        self.resp_body
            .iter()
            .skip(start)
            .take(len)
            .copied()
            .collect()
    }
    fn set_response_body(&mut self, len: usize, body: &[u8]) {
        self.count();
        let rest = self.resp_body.split_off(len.min(self.resp_body.len()));
        self.resp_body = [body, &rest].concat();
    }
    fn reply(&mut self, status: u16, body: &[u8]) {
        self.count();
        self.reply = Some((status, body.to_vec()));
    }
    fn property(&self, path: &[&str]) -> Option<String> {
        self.count();
        self.properties.get(&path.join(".")).cloned()
    }
    fn set_filter_state(&mut self, name: &str, value: &str) {
        self.count();
        self.filter_state
            .insert(name.to_string(), value.to_string());
    }
    fn log(&self, level: Level, message: &str) {
        self.count();
        self.logs.borrow_mut().push((level, message.to_string()));
    }
    fn now_ms(&self) -> u64 {
        self.count();
        self.now.get()
    }
}

/// Shared data with CAS, as every worker's VM sees it.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    fail_sets: Cell<u32>,
}

impl MemoryStore {
    /// The next `n` sets fail as if another worker wrote first.
    pub fn fail_next_sets(&self, n: u32) {
        self.fail_sets.set(n);
    }
}

impl SharedStore for MemoryStore {
    fn get(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        match self.data.borrow().get(key) {
            Some((v, cas)) => (Some(v.clone()), Some(*cas)),
            None => (None, None),
        }
    }
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> bool {
        if self.fail_sets.get() > 0 {
            self.fail_sets.set(self.fail_sets.get() - 1);
            let mut d = self.data.borrow_mut();
            let e = d.entry(key.to_string()).or_insert((Vec::new(), 0));
            e.1 += 1;
            return false;
        }
        let mut d = self.data.borrow_mut();
        let current = d.get(key).map(|(_, c)| *c);
        if cas.is_some() && cas != current {
            return false;
        }
        let next = current.unwrap_or(0) + 1;
        d.insert(key.to_string(), (value.to_vec(), next));
        true
    }
}

/// A store handle several workers can share.
impl SharedStore for std::rc::Rc<MemoryStore> {
    fn get(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        self.as_ref().get(key)
    }
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> bool {
        self.as_ref().set(key, value, cas)
    }
}

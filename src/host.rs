//! The core's [`Host`] and [`SharedStore`], as proxy-wasm host calls.
//!
//! Host errors come back as values and become "absent": SDK 0.2.5's
//! `Context::get_property` unwraps them and would panic the VM.

use std::time::UNIX_EPOCH;

use modelmux_core::session::{Host, Level, SharedStore};
use proxy_wasm::hostcalls as hc;
use proxy_wasm::types::{BufferType, LogLevel, MapType, Status};

pub struct Calls;

fn pairs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

pub fn now_ms() -> u64 {
    hc::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Host for Calls {
    fn request_headers(&self) -> Vec<(String, String)> {
        hc::get_map(MapType::HttpRequestHeaders).unwrap_or_default()
    }
    fn request_header(&self, name: &str) -> Option<String> {
        hc::get_map_value(MapType::HttpRequestHeaders, name)
            .ok()
            .flatten()
    }
    fn set_request_headers(&mut self, headers: &[(String, String)]) {
        let _ = hc::set_map(MapType::HttpRequestHeaders, pairs(headers));
    }
    fn set_request_header(&mut self, name: &str, value: Option<&str>) {
        let _ = hc::set_map_value(MapType::HttpRequestHeaders, name, value);
    }
    fn request_body(&self, len: usize) -> Vec<u8> {
        hc::get_buffer(BufferType::HttpRequestBody, 0, len)
            .ok()
            .flatten()
            .unwrap_or_default()
    }
    fn set_request_body(&mut self, len: usize, body: &[u8]) {
        let _ = hc::set_buffer(BufferType::HttpRequestBody, 0, len, body);
    }
    fn clear_request_trailers(&mut self) {
        let _ = hc::set_map(MapType::HttpRequestTrailers, vec![]);
    }
    fn response_header(&self, name: &str) -> Option<String> {
        hc::get_map_value(MapType::HttpResponseHeaders, name)
            .ok()
            .flatten()
    }
    fn set_response_header(&mut self, name: &str, value: Option<&str>) {
        let _ = hc::set_map_value(MapType::HttpResponseHeaders, name, value);
    }
    fn response_headers(&self) -> Vec<(String, String)> {
        hc::get_map(MapType::HttpResponseHeaders).unwrap_or_default()
    }
    fn set_response_headers(&mut self, headers: &[(String, String)]) {
        let _ = hc::set_map(MapType::HttpResponseHeaders, pairs(headers));
    }
    fn response_body(&self, start: usize, len: usize) -> Vec<u8> {
        hc::get_buffer(BufferType::HttpResponseBody, start, len)
            .ok()
            .flatten()
            .unwrap_or_default()
    }
    fn set_response_body(&mut self, len: usize, body: &[u8]) {
        let _ = hc::set_buffer(BufferType::HttpResponseBody, 0, len, body);
    }
    fn reply(&mut self, status: u16, body: &[u8]) {
        let _ = hc::send_http_response(
            u32::from(status),
            vec![("content-type", "application/json")],
            Some(body),
        );
    }
    fn property(&self, path: &[&str]) -> Option<String> {
        let bytes = hc::get_property(path.to_vec()).ok().flatten()?;
        String::from_utf8(bytes).ok()
    }
    fn set_filter_state(&mut self, name: &str, value: &str) {
        let _ = hc::set_property(vec![name], Some(value.as_bytes()));
    }
    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Warn => LogLevel::Warn,
        };
        let _ = hc::log(level, message);
    }
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn now_us(&self) -> u64 {
        hc::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }
}

/// Proxy-wasm shared data: one store for every worker's VM.
pub struct Shared;

impl SharedStore for Shared {
    fn get(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>) {
        hc::get_shared_data(key).unwrap_or((None, None))
    }
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> bool {
        !matches!(
            hc::set_shared_data(key, Some(value), cas),
            Err(Status::CasMismatch)
        )
    }
}

//! The proxy-wasm shell of modelmux.
//!
//! Host callbacks are turned into calls to `modelmux_core` and the edits it
//! returns are applied to Envoy's headers and bodies. No routing or
//! translation logic lives here, so the core can be tested natively.

#![deny(clippy::indexing_slicing)]

mod filter;
mod host;
mod metrics;
mod root;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
        Box::new(root::Root::default())
    });
}}

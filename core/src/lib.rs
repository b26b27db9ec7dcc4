//! modelmux core: everything the gateway decides, with no proxy-wasm host.
//!
//! The Envoy-facing shell (the `modelmux` cdylib) turns host callbacks into
//! calls here and applies the edits returned. Keeping this crate host-free
//! lets it be tested natively and keeps the shell thin.

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod config;
pub mod dialect;
pub mod error;
pub mod events;
pub mod eventstream;
pub mod gateway;
pub mod json_out;
pub mod openai;
pub mod providers;
pub mod rejection;
pub mod series;
pub mod session;
pub mod split;
pub mod sse;
pub mod stats;
pub mod usage;

//! Whole request flows through both roles, natively.

mod access_log;
mod answers;
mod calls;
mod dialects;
mod egress;
mod embeddings;
mod failover_kind;
pub mod fake;
mod flows;
mod metrics;
pub mod router;
mod splits;
mod telemetry;
mod trailers;
mod usage;

//! Whole request flows through both roles, natively.

mod calls;
mod egress;
mod embeddings;
pub mod fake;
mod flows;
pub mod router;
mod telemetry;

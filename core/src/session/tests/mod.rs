//! Whole request flows through both roles, natively.

pub mod fake;
mod flows;
pub mod router;

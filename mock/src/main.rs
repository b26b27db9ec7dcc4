//! `modelmux-mock`: strict local mock of the OpenAI, Anthropic, Gemini,
//! Azure OpenAI, Cohere, Vertex AI and AWS Bedrock (Converse) HTTP APIs.
//!
//! Usage: see `cli::USAGE`. Each listener prints
//! `modelmux-mock: LABEL listening on ADDR` once bound, which is how tests
//! learn the ports when they pass port 0.

mod anthropic;
mod azure;
mod bedrock;
mod cli;
mod cohere;
mod embedding;
mod faults;
mod gemini;
mod http;
mod introspect;
mod magic;
mod openai;
mod persist;
mod reply;
mod server;
mod tamper;
mod tls;
mod vertex;

#[cfg(test)]
mod count_tests;
#[cfg(test)]
mod directive_tests;
#[cfg(test)]
mod e2e_fault_tests;
#[cfg(test)]
mod e2e_provider_tests;
#[cfg(test)]
mod e2e_tests;
#[cfg(test)]
mod e2e_tls_tests;
#[cfg(test)]
mod test_support;

use std::io::Write;
use std::process::ExitCode;

use cli::{parse_args, Config, USAGE};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("modelmux-mock: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match start(&cfg) {
        Ok(handles) => {
            for handle in handles {
                let _ = handle.join();
            }
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("modelmux-mock: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Binds every listener, printing one line per listener once it is bound.
fn start(cfg: &Config) -> Result<Vec<std::thread::JoinHandle<()>>, String> {
    let listeners = cfg.listeners();
    let tls = match (&cfg.tls_cert, &cfg.tls_key) {
        (Some(cert), Some(key)) if listeners.iter().any(|l| l.tls) => {
            Some(tls::server_config(cert, key)?)
        }
        _ => None,
    };
    let mut handles = Vec::new();
    for spec in &listeners {
        let opts = server::Options {
            label: &spec.label,
            provider: spec.provider,
            addr: &spec.addr,
            key: cfg.key(spec.provider),
            tls: tls.clone().filter(|_| spec.tls),
            base: spec.base.as_deref(),
        };
        let vertex = match spec.provider {
            server::Provider::Vertex => vertex_state(cfg)?,
            _ => vertex::State::default(),
        };
        let (local, handle) = server::spawn_full(opts, cfg.aws.clone(), vertex)
            .map_err(|e| format!("cannot bind {} on {}: {e}", spec.label, spec.addr))?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "modelmux-mock: {} listening on {local}", spec.label);
        let _ = out.flush();
        handles.push(handle);
    }
    Ok(handles)
}

/// The Vertex listener's state from the `--vertex-*` flags.
fn vertex_state(cfg: &Config) -> Result<vertex::State, String> {
    let pem = match &cfg.vertex_sa_public_key {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("--vertex-sa-public-key {path}: {e}"))?,
        ),
        None => None,
    };
    vertex::State::new(
        &cfg.vertex_project,
        pem.as_deref(),
        cfg.vertex_token_ttl,
        cfg.vertex_static_token.as_deref(),
    )
}

//! `modelmux-mock`: strict local mock of the OpenAI and Anthropic HTTP APIs.
//!
//! Usage: `modelmux-mock [--openai-addr ADDR] [--anthropic-addr ADDR]
//! [--openai-key KEY] [--anthropic-key KEY]`

mod anthropic;
mod faults;
mod http;
mod openai;
mod reply;
mod server;

#[cfg(test)]
mod e2e_tests;

use std::io::Write;
use std::process::ExitCode;

use server::Provider;

const USAGE: &str = "usage: modelmux-mock [--openai-addr 127.0.0.1:18081] [--anthropic-addr 127.0.0.1:18082] [--openai-key mock-openai-key] [--anthropic-key mock-anthropic-key]";

#[derive(Debug, PartialEq)]
struct Config {
    openai_addr: String,
    anthropic_addr: String,
    openai_key: String,
    anthropic_key: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            openai_addr: "127.0.0.1:18081".into(),
            anthropic_addr: "127.0.0.1:18082".into(),
            openai_key: "mock-openai-key".into(),
            anthropic_key: "mock-anthropic-key".into(),
        }
    }
}

/// Parses `--flag value` and `--flag=value` arguments. `Ok(None)` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Config>, String> {
    let mut cfg = Config::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let slot = match flag {
            "--openai-addr" => &mut cfg.openai_addr,
            "--anthropic-addr" => &mut cfg.anthropic_addr,
            "--openai-key" => &mut cfg.openai_key,
            "--anthropic-key" => &mut cfg.anthropic_key,
            _ => return Err(format!("unknown argument: {arg}")),
        };
        *slot = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("missing value for {flag}"))?,
        };
    }
    Ok(Some(cfg))
}

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
    let listeners = [
        (Provider::OpenAi, &cfg.openai_addr, &cfg.openai_key),
        (Provider::Anthropic, &cfg.anthropic_addr, &cfg.anthropic_key),
    ];
    let mut handles = Vec::new();
    for (provider, addr, key) in listeners {
        match server::spawn(provider, addr, key) {
            Ok((local, handle)) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "modelmux-mock: {} listening on {local}",
                    provider.name()
                );
                let _ = out.flush();
                handles.push(handle);
            }
            Err(e) => {
                eprintln!(
                    "modelmux-mock: cannot bind {} on {addr}: {e}",
                    provider.name()
                );
                return ExitCode::FAILURE;
            }
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cli_defaults_and_overrides() {
        assert_eq!(parse_args(&[]).unwrap(), Some(Config::default()));
        let cfg = parse_args(&args(&[
            "--openai-addr",
            "127.0.0.1:0",
            "--anthropic-key=k",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(cfg.openai_addr, "127.0.0.1:0");
        assert_eq!(cfg.anthropic_key, "k");
        assert_eq!(cfg.openai_key, "mock-openai-key");
        assert!(parse_args(&args(&["--bogus"])).is_err());
        assert!(parse_args(&args(&["--openai-key"])).is_err());
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
    }
}

//! Loading a filter config the way the CLI needs it: compiled with
//! placeholder keys, plus what `Config` does not keep (the key variables).

use modelmux_core::config::Config;
use serde_json::Value;

/// What every API key variable resolves to while rendering or checking, so
/// no real key has to be set.
const PLACEHOLDER_KEY: &str = "modelmux-placeholder";

/// The header the downstream filter sets on requests for failover models.
pub use modelmux_core::session::{FAILOVER_HEADER, FAILOVER_JSON, FAILOVER_STREAM};

/// A filter config, compiled.
#[derive(Debug)]
pub struct Loaded {
    /// The JSON text to embed: the file as written, unless rewritten.
    pub text: String,
    pub json: Value,
    pub config: Config,
    /// Every distinct `api_key_env`, in provider order.
    pub key_envs: Vec<String>,
}

/// A throwaway RSA key (generated for this purpose, trusted by nothing):
/// what service-account key variables resolve to while rendering, since
/// the filter parses the key at load.
const PLACEHOLDER_SA_PEM: &str = include_str!("assets/placeholder_sa_key.pem");

fn placeholder_service_account() -> String {
    serde_json::json!({
        "type": "service_account",
        "client_email": "placeholder@modelmux.invalid",
        "private_key": PLACEHOLDER_SA_PEM,
        "token_uri": "https://oauth2.googleapis.com/token",
    })
    .to_string()
}

/// Every `providers[].auth.key_env` (service-account key variables).
fn service_account_envs(json: &Value) -> Vec<String> {
    let providers = json.get("providers").and_then(Value::as_array);
    providers
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("auth")?.get("key_env")?.as_str())
        .map(str::to_string)
        .collect()
}

/// Parses and compiles a filter config (path-named errors).
pub fn load(text: &str) -> Result<Loaded, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let sa_envs = service_account_envs(&json);
    // Every variable the filter reads at load (keys, AWS credentials,
    // service-account keys) goes into the VM's environment.
    let asked: std::cell::RefCell<Vec<String>> = Default::default();
    let env = |name: &str| {
        let mut asked = asked.borrow_mut();
        if !asked.iter().any(|k| k == name) {
            asked.push(name.to_string());
        }
        Some(if sa_envs.iter().any(|k| k == name) {
            placeholder_service_account()
        } else {
            PLACEHOLDER_KEY.to_string()
        })
    };
    let config = Config::from_json(text.as_bytes(), &env).map_err(|e| e.to_string())?;
    let key_envs = asked.into_inner();
    Ok(Loaded {
        text: text.to_string(),
        json,
        config,
        key_envs,
    })
}

/// Loads a config with some providers' endpoint ports replaced
/// (`--port PROVIDER=PORT`). The override is written into the config's
/// `providers[i].endpoint.address`, so the embedded JSON and the rendered
/// clusters keep agreeing; the text is then re-serialized.
pub fn load_with_ports(text: &str, ports: &[(String, u16)]) -> Result<Loaded, String> {
    let loaded = load(text)?;
    if ports.is_empty() {
        return Ok(loaded);
    }
    let mut json = loaded.json;
    for (name, port) in ports {
        let idx = loaded
            .config
            .providers
            .iter()
            .position(|p| &p.name == name)
            .ok_or_else(|| format!("--port {name}={port}: no provider named `{name}`"))?;
        let address = format!("{}:{port}", loaded.config.providers[idx].endpoint.address);
        let provider = json
            .get_mut("providers")
            .and_then(|p| p.get_mut(idx))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("--port {name}: providers[{idx}] is not an object"))?;
        let endpoint = provider
            .entry("endpoint")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(endpoint) = endpoint {
            endpoint.insert("address".to_string(), Value::String(address));
        }
    }
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    load(&text)
}

/// Splits `NAME=VALUE`.
pub fn split_pair<'a>(flag: &str, arg: &'a str) -> Result<(&'a str, &'a str), String> {
    match arg.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k, v)),
        _ => Err(format!("{flag} expects NAME=VALUE, got `{arg}`")),
    }
}

/// `ADDR:PORT` (IPv6 in brackets); port 0 lets the OS pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl HostPort {
    pub fn parse(flag: &str, arg: &str) -> Result<Self, String> {
        let bad = || format!("{flag} expects ADDR:PORT, got `{arg}`");
        let (host, port) = arg.rsplit_once(':').ok_or_else(bad)?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() || (host.contains(':') && !arg.starts_with('[')) {
            return Err(bad());
        }
        let port = port.parse::<u16>().map_err(|_| bad())?;
        Ok(HostPort {
            host: host.to_string(),
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses() {
        let hp = HostPort::parse("--listen", "127.0.0.1:0").unwrap();
        assert_eq!((hp.host.as_str(), hp.port), ("127.0.0.1", 0));
        let hp = HostPort::parse("--listen", "[::1]:10000").unwrap();
        assert_eq!((hp.host.as_str(), hp.port), ("::1", 10000));
        for bad in ["127.0.0.1", ":80", "::1:80", "host:99999", "host:x"] {
            assert!(HostPort::parse("--listen", bad).is_err(), "{bad}");
        }
        assert_eq!(split_pair("--key", "A=b=c").unwrap(), ("A", "b=c"));
        assert!(split_pair("--key", "=x").is_err());
    }

    #[test]
    fn port_override_rewrites_the_endpoint() {
        let text = r#"{"providers": [{"name": "p", "type": "openai", "cluster": "c",
            "host": "127.0.0.1:18081", "api_key_env": "K"}],
            "models": [{"name": "m", "targets": [{"provider": "p", "model": "x"}]}]}"#;
        let l = load_with_ports(text, &[("p".to_string(), 4000)]).unwrap();
        let ep = &l.config.providers[0].endpoint;
        assert_eq!(
            (ep.address.as_str(), ep.port, ep.tls),
            ("127.0.0.1", 4000, false)
        );
        assert_eq!(l.config.providers[0].host, "127.0.0.1:18081");
        assert_eq!(l.key_envs, vec!["K"]);
        assert!(load_with_ports(text, &[("q".to_string(), 1)]).is_err());
    }
}

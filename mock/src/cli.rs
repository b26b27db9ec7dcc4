//! Command line: the two default listeners plus labelled `--listen` ones.
//!
//! A failover test needs two (or more) listeners it can tell apart, some of
//! them over TLS, so every listener has a unique label that the startup line
//! reports and that `x-mock-only` uses to scope header faults.

use crate::bedrock::Aws;
use crate::server::Provider;

pub const USAGE: &str = "usage: modelmux-mock [--openai-addr 127.0.0.1:18081] [--anthropic-addr 127.0.0.1:18082] [--openai-key mock-openai-key] [--anthropic-key mock-anthropic-key] [--gemini-key mock-gemini-key] [--azure-key mock-azure-key] [--cohere-key mock-cohere-key] [--bedrock-key mock-bedrock-key] [--aws-access-key-id AKIDMOCKBEDROCK] [--aws-secret-access-key mock-bedrock-secret] [--aws-region us-east-1] [--aws-session-token TOKEN] [--listen LABEL=openai[:/base]|anthropic|gemini|azure|cohere|vertex|bedrock@ADDR[+tls]]... [--vertex-project mock-project] [--vertex-sa-public-key PEM] [--vertex-token-ttl 3599] [--vertex-static-token TOKEN] [--no-defaults] [--tls-cert PEM --tls-key PEM]";

/// One listener to start.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenSpec {
    pub label: String,
    pub provider: Provider,
    pub addr: String,
    pub tls: bool,
    /// `openai:/base`: the path prefix an OpenAI-compatible listener serves.
    pub base: Option<String>,
}

#[derive(Debug, PartialEq)]
pub struct Config {
    pub openai_addr: String,
    pub anthropic_addr: String,
    pub openai_key: String,
    pub anthropic_key: String,
    pub gemini_key: String,
    pub cohere_key: String,
    pub azure_key: String,
    /// Bedrock API key (`Authorization: Bearer`).
    pub bedrock_key: String,
    /// The AWS credentials and region Bedrock listeners verify SigV4 with.
    pub aws: Aws,
    /// `--listen` listeners, in the order given.
    pub listen: Vec<ListenSpec>,
    /// `--no-defaults`: don't start the `openai` and `anthropic` listeners.
    pub no_defaults: bool,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    pub vertex_project: String,
    /// PEM file of the service account's public key (JWT verification).
    pub vertex_sa_public_key: Option<String>,
    pub vertex_token_ttl: u64,
    pub vertex_static_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            openai_addr: "127.0.0.1:18081".into(),
            anthropic_addr: "127.0.0.1:18082".into(),
            openai_key: "mock-openai-key".into(),
            anthropic_key: "mock-anthropic-key".into(),
            gemini_key: "mock-gemini-key".into(),
            cohere_key: "mock-cohere-key".into(),
            azure_key: "mock-azure-key".into(),
            bedrock_key: "mock-bedrock-key".into(),
            aws: Aws::default(),
            listen: Vec::new(),
            no_defaults: false,
            tls_cert: None,
            tls_key: None,
            vertex_project: "mock-project".into(),
            vertex_sa_public_key: None,
            vertex_token_ttl: 3599,
            vertex_static_token: None,
        }
    }
}

impl Config {
    /// Every listener to start: the defaults (unless `--no-defaults`), then
    /// the `--listen` ones.
    pub fn listeners(&self) -> Vec<ListenSpec> {
        let mut all = Vec::new();
        if !self.no_defaults {
            for (provider, addr) in [
                (Provider::OpenAi, &self.openai_addr),
                (Provider::Anthropic, &self.anthropic_addr),
            ] {
                all.push(ListenSpec {
                    label: provider.name().into(),
                    provider,
                    addr: addr.clone(),
                    tls: false,
                    base: None,
                });
            }
        }
        all.extend(self.listen.iter().cloned());
        all
    }

    /// The key a listener of this kind checks.
    pub fn key(&self, provider: Provider) -> &str {
        match provider {
            Provider::OpenAi => &self.openai_key,
            Provider::Anthropic => &self.anthropic_key,
            Provider::Gemini => &self.gemini_key,
            Provider::Cohere => &self.cohere_key,
            Provider::Azure => &self.azure_key,
            Provider::Vertex => "",
            Provider::Bedrock => &self.bedrock_key,
        }
    }
}

/// Parses `LABEL=KIND[:/base]@ADDR[+tls]`.
fn parse_listen(spec: &str) -> Result<ListenSpec, String> {
    let bad = |why: &str| format!("bad --listen {spec:?}: {why} (expected LABEL=KIND@ADDR[+tls])");
    let (label, rest) = spec.split_once('=').ok_or_else(|| bad("no '='"))?;
    let label_ok = !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !label_ok {
        return Err(bad("label must be letters, digits, '-', '_' or '.'"));
    }
    let (kind, addr) = rest.split_once('@').ok_or_else(|| bad("no '@'"))?;
    let (kind, base) = match kind.split_once(':') {
        Some((k, b))
            if k == "openai" && (b.is_empty() || (b.starts_with('/') && !b.ends_with('/'))) =>
        {
            (k, Some(b.to_string()))
        }
        Some(_) => return Err(bad("only openai takes a base path, as openai:/prefix")),
        None => (kind, None),
    };
    let provider = match kind {
        "openai" => Provider::OpenAi,
        "anthropic" => Provider::Anthropic,
        "gemini" => Provider::Gemini,
        "azure" => Provider::Azure,
        "cohere" => Provider::Cohere,
        "vertex" => Provider::Vertex,
        "bedrock" => Provider::Bedrock,
        _ => {
            return Err(bad(
                "KIND must be openai, anthropic, gemini, azure, cohere, vertex or bedrock",
            ))
        }
    };
    let (addr, tls) = match addr.strip_suffix("+tls") {
        Some(a) => (a, true),
        None => (addr, false),
    };
    if addr.is_empty() {
        return Err(bad("empty address"));
    }
    Ok(ListenSpec {
        label: label.into(),
        provider,
        addr: addr.into(),
        tls,
        base,
    })
}

/// Parses `--flag value` and `--flag=value` arguments. `Ok(None)` for `--help`.
pub fn parse_args(args: &[String]) -> Result<Option<Config>, String> {
    let mut cfg = Config::default();
    let mut addr_given = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--no-defaults" => {
                cfg.no_defaults = true;
                continue;
            }
            _ => {}
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        if !flag.starts_with("--") || flag == "--no-defaults" {
            return Err(format!("unknown argument: {arg}"));
        }
        let mut value = || match inline.clone() {
            Some(v) => Ok(v),
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("missing value for {flag}")),
        };
        match flag {
            "--openai-addr" => (cfg.openai_addr, addr_given) = (value()?, true),
            "--anthropic-addr" => (cfg.anthropic_addr, addr_given) = (value()?, true),
            "--openai-key" => cfg.openai_key = value()?,
            "--anthropic-key" => cfg.anthropic_key = value()?,
            "--gemini-key" => cfg.gemini_key = value()?,
            "--cohere-key" => cfg.cohere_key = value()?,
            "--azure-key" => cfg.azure_key = value()?,
            "--bedrock-key" => cfg.bedrock_key = value()?,
            "--aws-access-key-id" => cfg.aws.access_key_id = value()?,
            "--aws-secret-access-key" => cfg.aws.secret_access_key = value()?,
            "--aws-region" => cfg.aws.region = value()?,
            "--aws-session-token" => cfg.aws.session_token = Some(value()?),
            "--listen" => cfg.listen.push(parse_listen(&value()?)?),
            "--tls-cert" => cfg.tls_cert = Some(value()?),
            "--tls-key" => cfg.tls_key = Some(value()?),
            "--vertex-project" => cfg.vertex_project = value()?,
            "--vertex-sa-public-key" => cfg.vertex_sa_public_key = Some(value()?),
            "--vertex-token-ttl" => {
                let v = value()?;
                cfg.vertex_token_ttl = v
                    .parse()
                    .map_err(|_| format!("--vertex-token-ttl: not a number of seconds: {v}"))?;
            }
            "--vertex-static-token" => cfg.vertex_static_token = Some(value()?),
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }
    if cfg.no_defaults && addr_given {
        return Err("--no-defaults leaves no listener for --openai-addr/--anthropic-addr".into());
    }
    check(&cfg)?;
    Ok(Some(cfg))
}

/// Checks across flags: listeners exist, labels are unique, TLS has a cert.
fn check(cfg: &Config) -> Result<(), String> {
    let all = cfg.listeners();
    if all.is_empty() {
        return Err("--no-defaults without any --listen: nothing to serve".into());
    }
    for (i, l) in all.iter().enumerate() {
        if all[..i].iter().any(|o| o.label == l.label) {
            return Err(format!("duplicate listener label: {}", l.label));
        }
    }
    let tls = all.iter().any(|l| l.tls);
    if tls && (cfg.tls_cert.is_none() || cfg.tls_key.is_none()) {
        return Err("a +tls listener needs --tls-cert and --tls-key".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn parse(list: &[&str]) -> Result<Config, String> {
        parse_args(&args(list)).map(|c| c.unwrap())
    }

    fn labels(cfg: &Config) -> Vec<String> {
        cfg.listeners().into_iter().map(|l| l.label).collect()
    }

    #[test]
    fn cli_defaults_and_overrides() {
        assert_eq!(parse_args(&[]).unwrap(), Some(Config::default()));
        let cfg = parse(&["--openai-addr", "127.0.0.1:0", "--anthropic-key=k"]).unwrap();
        assert_eq!(cfg.openai_addr, "127.0.0.1:0");
        assert_eq!(cfg.anthropic_key, "k");
        assert_eq!(cfg.openai_key, "mock-openai-key");
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--openai-key"]).is_err());
        assert!(parse(&["stray"]).is_err());
        assert_eq!(parse_args(&args(&["--help"])).unwrap(), None);
    }

    #[test]
    fn listen_flags_add_to_defaults() {
        let cfg = parse(&[
            "--listen",
            "oa2=openai@127.0.0.1:0",
            "--listen=an-tls=anthropic@127.0.0.1:0+tls",
            "--tls-cert",
            "c.pem",
            "--tls-key=k.pem",
        ])
        .unwrap();
        assert_eq!(labels(&cfg), ["openai", "anthropic", "oa2", "an-tls"]);
        let all = cfg.listeners();
        assert_eq!(all[0].addr, "127.0.0.1:18081");
        assert_eq!(
            all[3],
            ListenSpec {
                label: "an-tls".into(),
                provider: Provider::Anthropic,
                addr: "127.0.0.1:0".into(),
                tls: true,
                base: None,
            }
        );
        assert!(!all[2].tls);
        assert_eq!(all[2].provider, Provider::OpenAi);
        assert_eq!(cfg.key(all[3].provider), "mock-anthropic-key");
        assert_eq!(cfg.tls_key.as_deref(), Some("k.pem"));
    }

    #[test]
    fn gemini_and_azure_kinds() {
        let cfg = parse(&[
            "--no-defaults",
            "--listen",
            "g=gemini@127.0.0.1:0",
            "--listen=az=azure@127.0.0.1:0",
            "--gemini-key",
            "gk",
        ])
        .unwrap();
        let all = cfg.listeners();
        assert_eq!(labels(&cfg), ["g", "az"]);
        assert_eq!(all[0].provider, Provider::Gemini);
        assert_eq!(all[1].provider, Provider::Azure);
        assert_eq!(cfg.key(Provider::Gemini), "gk");
        assert_eq!(cfg.key(Provider::Azure), "mock-azure-key");
    }

    #[test]
    fn bedrock_kind_and_aws_flags() {
        let cfg = parse(&["--no-defaults", "--listen", "br=bedrock@127.0.0.1:0"]).unwrap();
        assert_eq!(cfg.listeners()[0].provider, Provider::Bedrock);
        assert_eq!(cfg.key(Provider::Bedrock), "mock-bedrock-key");
        assert_eq!(cfg.aws, Aws::default());
        assert_eq!(cfg.aws.access_key_id, "AKIDMOCKBEDROCK");
        assert_eq!(cfg.aws.secret_access_key, "mock-bedrock-secret");
        assert_eq!(cfg.aws.region, "us-east-1");
        assert_eq!(cfg.aws.session_token, None);
        let cfg = parse(&[
            "--aws-access-key-id=AK",
            "--aws-secret-access-key",
            "s",
            "--aws-region=eu-west-3",
            "--aws-session-token",
            "tok",
            "--bedrock-key=bk",
        ])
        .unwrap();
        let want = Aws {
            access_key_id: "AK".into(),
            secret_access_key: "s".into(),
            region: "eu-west-3".into(),
            session_token: Some("tok".into()),
        };
        assert_eq!(cfg.aws, want);
        assert_eq!(cfg.key(Provider::Bedrock), "bk");
    }

    #[test]
    fn no_defaults_keeps_only_listen() {
        let cfg = parse(&["--no-defaults", "--listen", "openai=anthropic@[::1]:0"]).unwrap();
        assert_eq!(labels(&cfg), ["openai"]);
        assert_eq!(cfg.listeners()[0].provider, Provider::Anthropic);
        assert!(parse(&["--no-defaults"]).is_err());
        let conflict = parse(&[
            "--no-defaults",
            "--openai-addr",
            "x:1",
            "--listen",
            "a=openai@x:2",
        ]);
        assert!(conflict.is_err());
    }

    #[test]
    fn listen_errors() {
        let dup = parse(&["--listen", "openai=openai@127.0.0.1:0"]).unwrap_err();
        assert!(dup.contains("duplicate listener label: openai"), "{dup}");
        let dup = parse(&["--listen", "a=openai@h:1", "--listen", "a=anthropic@h:2"]);
        assert!(dup.unwrap_err().contains("duplicate"));
        for bad in [
            "noequals",
            "=openai@h:1",
            "a,b=openai@h:1",
            "a=openai",
            "a=bogus@h:1",
            "a=openai@",
            "a=openai@+tls",
        ] {
            assert!(parse(&["--listen", bad]).is_err(), "{bad}");
        }
        let no_cert = parse(&["--listen", "s=openai@h:1+tls", "--tls-cert", "c"]).unwrap_err();
        assert!(no_cert.contains("--tls-key"), "{no_cert}");
    }
}

//! `modelmux`: renders the Envoy bootstrap for a modelmux filter config, and
//! checks a bootstrap against one.

mod check;
mod input;
mod render;
mod yaml;

use std::process::ExitCode;

use input::HostPort;

const USAGE: &str = "\
modelmux: render and check the Envoy bootstrap for a modelmux filter config

USAGE:
  modelmux render --config FILE [--listen ADDR:PORT] [--admin ADDR:PORT]
                  [--wasm PATH] [--key NAME=VALUE]... [--port PROVIDER=PORT]...
                  [--request-headers-timeout-ms MS] [--request-timeout-ms MS]
                  [--max-connections N] [--max-heap-bytes N] [--max-body-bytes N]
  modelmux render --istio --config FILE --wasm-url URL
                  [--wasm-sha256 HEX | --wasm PATH] [render options above]
  modelmux check --envoy FILE [--config FILE]
  modelmux --help | --version

render   Prints a complete Envoy bootstrap (YAML) to stdout: the listener with
         the modelmux filter, a cluster per provider, and for every model with
         two or more targets its rotation clusters (targets as priorities, the
         upstream modelmux filter, outlier detection) and the failover route.
  --config FILE        the filter's JSON config
  --listen ADDR:PORT   gateway listener (default 127.0.0.1:10000; port 0 = any)
  --admin ADDR:PORT    admin interface (default 127.0.0.1:9901; port 0 = any).
                       Keep it on loopback: it serves /config_dump (the whole
                       config, keys included), /quitquitquit and /runtime_modify
  --wasm PATH          the filter (default target/wasm32-wasip1/release/modelmux.wasm)
  --key NAME=VALUE     give the VM this value for api_key_env NAME (key_values)
                       instead of copying it from Envoy's environment
                       (host_env_keys); repeatable. WARNING: the key is written
                       into the YAML and shows on the admin /config_dump; for
                       local testing with mock keys only
  --port PROVIDER=PORT connect to PROVIDER on this port (written into its
                       endpoint.address in the embedded config); repeatable
  Protections for an exposed listener (README, Hardening):
  --request-headers-timeout-ms MS   whole request head within (default 10000)
  --request-timeout-ms MS           whole request, body included, within;
                                    never cuts a response (default 60000)
  --max-connections N               global downstream connections (default 10000)
  --max-heap-bytes N                overload manager heap limit (default 1 GiB)
  --max-body-bytes N                connection buffer limits: the largest
                                    body buffered (default 10485760)

render --istio  Prints the Istio resources for an ingress gateway (labels
         istio: llm-gateway, namespace llm-gateway), multi-document YAML: the
         Gateway, VirtualService, the stats-tags bootstrap ConfigMap, and
         EnvoyFilters adding the filter, every cluster the plain render has
         (rotation clusters included) and the failover routes.
  --wasm-url URL       https:// URL Envoy fetches the module from
  --wasm-sha256 HEX    its sha256 (default: computed from --wasm PATH)

check    Checks a bootstrap against a filter config (default: the config
         embedded in its modelmux filter). Prints each problem on its own line
         with its location and exits 1, or prints `ok` and exits 0.
  --envoy FILE         the Envoy bootstrap (YAML or JSON), or Istio manifests
                       (multi-document YAML, e.g. from render --istio)
  --config FILE        the filter's JSON config
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("modelmux: {msg}");
            eprintln!("Try `modelmux --help`.");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    match args.first().map(String::as_str) {
        // No command is a mistake (a script that lost its arguments must
        // not look successful): usage on stderr, exit 2.
        None => {
            eprint!("{USAGE}");
            Ok(ExitCode::from(2))
        }
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some("--version" | "-V" | "version") => {
            println!("modelmux {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Some("render") => render_cmd(&args[1..]),
        Some("check") => check_cmd(&args[1..]),
        Some(other) => Err(format!("unknown command `{other}`")),
    }
}

/// `--flag VALUE` pairs; `--help` anywhere prints the usage.
fn flags(args: &[String], known: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        if !known.contains(&name) {
            return Err(format!("unknown argument `{flag}`"));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))?,
        };
        out.push((name.to_string(), value));
    }
    Ok(out)
}

fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn render_cmd(args: &[String]) -> Result<ExitCode, String> {
    if wants_help(args) {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    let known = [
        "--config",
        "--listen",
        "--admin",
        "--wasm",
        "--key",
        "--port",
        "--request-headers-timeout-ms",
        "--request-timeout-ms",
        "--max-connections",
        "--max-heap-bytes",
        "--max-body-bytes",
        "--wasm-url",
        "--wasm-sha256",
    ];
    // `--istio` is the one flag without a value.
    let istio = args.iter().any(|a| a == "--istio");
    let args: Vec<String> = args.iter().filter(|a| *a != "--istio").cloned().collect();
    let args = args.as_slice();
    let (mut url, mut sha) = (None, None);
    let mut opts = render::Options::default();
    let mut config = None;
    let mut ports = Vec::new();
    for (flag, value) in flags(args, &known)? {
        match flag.as_str() {
            "--config" => config = Some(value),
            "--listen" => opts.listen = HostPort::parse(&flag, &value)?,
            "--admin" => opts.admin = HostPort::parse(&flag, &value)?,
            "--wasm" => opts.wasm = value,
            "--wasm-url" => url = Some(value),
            "--wasm-sha256" => sha = Some(value),
            "--request-headers-timeout-ms" => {
                opts.limits.request_headers_timeout_ms = positive(&flag, &value)?;
            }
            "--request-timeout-ms" => opts.limits.request_timeout_ms = positive(&flag, &value)?,
            "--max-connections" => opts.limits.max_connections = positive(&flag, &value)?,
            "--max-heap-bytes" => opts.limits.max_heap_bytes = positive(&flag, &value)?,
            "--max-body-bytes" => opts.limits.max_body_bytes = positive(&flag, &value)?,
            "--key" => {
                let (k, v) = input::split_pair(&flag, &value)?;
                opts.keys.retain(|(name, _)| name != k);
                opts.keys.push((k.to_string(), v.to_string()));
            }
            _ => {
                let (p, port) = input::split_pair(&flag, &value)?;
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("--port {value}: not a port number"))?;
                ports.push((p.to_string(), port));
            }
        }
    }
    let config = config.ok_or("render needs --config FILE")?;
    let loaded =
        input::load_with_ports(&read(&config)?, &ports).map_err(|e| format!("{config}: {e}"))?;
    if !render::is_loopback(&opts.admin.host) {
        eprintln!("modelmux: warning: --admin {}: the admin interface serves /config_dump, /quitquitquit and /runtime_modify without authentication; keep it on loopback", opts.admin.host);
    }
    if !opts.keys.is_empty() {
        eprintln!("modelmux: warning: --key writes provider keys into the rendered YAML, where the admin /config_dump shows them; use it for local testing only");
    }
    let prefix = if istio { "--istio " } else { "" };
    opts.command = format!("modelmux render {prefix}{}", shell_words(args));
    if !istio {
        if url.is_some() || sha.is_some() {
            return Err("--wasm-url and --wasm-sha256 go with --istio".to_string());
        }
        print!("{}", render::render(&loaded, &opts)?);
        return Ok(ExitCode::SUCCESS);
    }
    let url = url.ok_or(
        "render --istio needs --wasm-url https://HOST/PATH (where Envoy fetches the module)",
    )?;
    let sha = match sha {
        Some(sha) => sha,
        None => render::istio::file_sha256(&opts.wasm)?,
    };
    opts.remote = Some(render::istio::Remote::new(&url, &sha)?);
    print!("{}", render::istio::render(&loaded, &opts)?);
    Ok(ExitCode::SUCCESS)
}

fn positive(flag: &str, value: &str) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{flag} {value}: not a positive integer"))
}

fn check_cmd(args: &[String]) -> Result<ExitCode, String> {
    if wants_help(args) {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut envoy = None;
    let mut config = None;
    for (flag, value) in flags(args, &["--envoy", "--config"])? {
        if flag == "--envoy" {
            envoy = Some(value);
        } else {
            config = Some(value);
        }
    }
    let envoy = envoy.ok_or("check needs --envoy FILE")?;
    let given = match &config {
        Some(path) => Some(read(path)?),
        None => None,
    };
    let problems = check::check(&read(&envoy)?, given.as_deref());
    if problems.is_empty() {
        println!("ok");
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        println!("{p}");
    }
    Ok(ExitCode::from(1))
}

/// The arguments as a shell would need them (for the header comment).
fn shell_words(args: &[String]) -> String {
    let quote = |a: &String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c))
        {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    args.iter().map(quote).collect::<Vec<_>>().join(" ")
}

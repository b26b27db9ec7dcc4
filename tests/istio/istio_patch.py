"""A small applier for the EnvoyFilter patch semantics modelmux's manifests
use, so their Envoy config can be run through `envoy --mode validate`
without a Kubernetes cluster.

Covered (as istiod applies them, see Istio's EnvoyFilter reference):
  * LISTENER MERGE (optionally by listener.portNumber);
  * HTTP_FILTER INSERT_BEFORE / INSERT_AFTER / ADD, matched by the HTTP
    connection manager and a subFilter name;
  * CLUSTER ADD;
  * ROUTE_CONFIGURATION / VIRTUAL_HOST MERGE, HTTP_ROUTE MERGE /
    INSERT_BEFORE / INSERT_AFTER, matched by route configuration name,
    vhost name and route name.
MERGE is protobuf merge: messages merge field by field, repeated fields
append, scalars replace, and setting one member of a oneof clears the
others (the oneofs listed in ONEOFS). Anything else raises, so a manifest
using an operation this applier does not model fails the test instead of
being skipped.
"""

from __future__ import annotations

import copy
from typing import Any

HCM = "envoy.filters.network.http_connection_manager"

# Oneof groups of the messages the patches merge into (field names).
ONEOFS = [
    {"cluster", "cluster_header", "weighted_clusters", "cluster_specifier_plugin"},
    {"route", "redirect", "direct_response", "filter_action", "non_forwarding_action"},
    {"prefix", "path", "safe_regex", "path_separated_prefix", "path_match_policy"},
]


def merge(dst: dict, src: dict) -> None:
    """Protobuf MergeFrom on JSON-shaped messages."""
    for key, value in src.items():
        for group in ONEOFS:
            if key in group:
                for other in group - {key}:
                    dst.pop(other, None)
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            merge(dst[key], value)
        elif isinstance(value, list) and isinstance(dst.get(key), list):
            dst[key].extend(copy.deepcopy(value))
        else:
            dst[key] = copy.deepcopy(value)


def _context_ok(match: dict, context: str) -> bool:
    return match.get("context", "ANY") in ("ANY", context)


def _port(listener: dict) -> int | None:
    return listener.get("address", {}).get("socket_address", {}).get("port_value")


def _hcms(listener: dict, lmatch: dict):
    if "portNumber" in lmatch and lmatch["portNumber"] != _port(listener):
        return
    if "name" in lmatch and lmatch["name"] != listener.get("name"):
        return
    fmatch = lmatch.get("filterChain", {}).get("filter", {})
    for chain in listener.get("filter_chains", []):
        for f in chain.get("filters", []):
            if f.get("name") != HCM or fmatch.get("name", HCM) != HCM:
                continue
            yield f["typed_config"], fmatch.get("subFilter", {}).get("name")


def _apply_http_filter(listeners, contexts, match, op, value):
    for listener in listeners:
        if not _context_ok(match, contexts[listener["name"]]):
            continue
        for hcm, sub in _hcms(listener, match.get("listener", {})):
            filters = hcm["http_filters"]
            names = [f.get("name") for f in filters]
            if op == "ADD":
                filters.append(copy.deepcopy(value))
            elif sub in names and op in ("INSERT_BEFORE", "INSERT_AFTER"):
                i = names.index(sub) + (op == "INSERT_AFTER")
                filters.insert(i, copy.deepcopy(value))
            elif op not in ("INSERT_BEFORE", "INSERT_AFTER"):
                raise ValueError(f"HTTP_FILTER {op} is not modelled")


def _route_configs(listeners, contexts, match):
    rmatch = match.get("routeConfiguration", {})
    for listener in listeners:
        if not _context_ok(match, contexts[listener["name"]]):
            continue
        for hcm, _ in _hcms(listener, {}):
            rc = hcm.get("route_config")
            if rc is None:
                continue
            if "name" in rmatch and rmatch["name"] != rc.get("name"):
                continue
            yield rc, rmatch


def _apply_route(listeners, contexts, match, apply_to, op, value):
    for rc, rmatch in _route_configs(listeners, contexts, match):
        if apply_to == "ROUTE_CONFIGURATION" and op == "MERGE":
            merge(rc, value)
            continue
        vmatch = rmatch.get("vhost", {})
        for vh in rc.get("virtual_hosts", []):
            if "name" in vmatch and vmatch["name"] != vh.get("name"):
                continue
            if apply_to == "VIRTUAL_HOST" and op == "MERGE":
                merge(vh, value)
                continue
            if apply_to != "HTTP_ROUTE":
                raise ValueError(f"{apply_to} {op} is not modelled")
            name = vmatch.get("route", {}).get("name")
            routes = vh["routes"]
            hits = [i for i, r in enumerate(routes) if name is None or r.get("name") == name]
            for i in reversed(hits):
                if op == "MERGE":
                    merge(routes[i], value)
                elif op == "INSERT_BEFORE":
                    routes.insert(i, copy.deepcopy(value))
                elif op == "INSERT_AFTER":
                    routes.insert(i + 1, copy.deepcopy(value))
                else:
                    raise ValueError(f"HTTP_ROUTE {op} is not modelled")


def apply(bootstrap: dict[str, Any], contexts: dict[str, str], envoy_filters: list[dict]) -> dict:
    """`bootstrap` with every patch of `envoy_filters` applied in order.
    `contexts` gives each listener's patch context (GATEWAY,
    SIDECAR_INBOUND, SIDECAR_OUTBOUND)."""
    out = copy.deepcopy(bootstrap)
    listeners = out["static_resources"]["listeners"]
    for ef in envoy_filters:
        for p in ef["spec"]["configPatches"]:
            apply_to, match = p["applyTo"], p.get("match", {})
            op, value = p["patch"]["operation"], p["patch"].get("value", {})
            if apply_to == "CLUSTER" and op == "ADD":
                out["static_resources"]["clusters"].append(copy.deepcopy(value))
            elif apply_to == "LISTENER" and op == "MERGE":
                for listener in listeners:
                    port = match.get("listener", {}).get("portNumber")
                    if _context_ok(match, contexts[listener["name"]]) and port in (None, _port(listener)):
                        merge(listener, value)
            elif apply_to == "HTTP_FILTER":
                _apply_http_filter(listeners, contexts, match, op, value)
            elif apply_to in ("ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE"):
                _apply_route(listeners, contexts, match, apply_to, op, value)
            else:
                raise ValueError(f"{apply_to} {op} is not modelled")
    return out


# ---- an Istio-like bootstrap to apply the patches to ----------------------


def gateway_route(vs: dict) -> dict:
    """The route istiod builds from the VirtualService's http route (the
    fields the patches touch)."""
    (http,) = vs["spec"]["http"]
    dest = http["route"][0]["destination"]
    return {
        "name": http["name"],
        "match": {"prefix": http["match"][0]["uri"]["prefix"]},
        "route": {
            "cluster": f"outbound|{dest['port']['number']}||{dest['host']}",
            "timeout": http["timeout"],
        },
        "request_headers_to_remove": http["headers"]["request"]["remove"],
    }


def hcm(stat_prefix: str, route_config: dict) -> dict:
    return {
        "name": HCM,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": stat_prefix,
            "route_config": route_config,
            "http_filters": [
                {"name": "istio.metadata_exchange_stand_in", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"}},
                {"name": "envoy.filters.http.router", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
            ],
        },
    }


def static_cluster(name: str, port: int) -> dict:
    return {
        "name": name, "type": "STATIC", "connect_timeout": "1s",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [{"endpoint": {
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}]}]},
    }


def istio_like_bootstrap(vs: dict) -> tuple[dict, dict]:
    dest = gateway_route(vs)["route"]["cluster"]
    gateway_rc = {"name": "http.8080", "virtual_hosts": [
        {"name": "*:80", "domains": ["*"], "routes": [gateway_route(vs)]}]}
    inbound_rc = {"name": "inbound|8080||", "virtual_hosts": [
        {"name": "inbound|http|8080", "domains": ["*"], "routes": [
            {"name": "default", "match": {"prefix": "/"}, "route": {"cluster": "inbound|8080||"}}]}]}
    listener = lambda name, port, h: {  # noqa: E731
        "name": name,
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": port}},
        "filter_chains": [{"filters": [h]}],
    }
    boot = {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {
            "listeners": [
                listener("0.0.0.0_8080", 8080, hcm("outbound_0.0.0.0_8080", gateway_rc)),
                listener("virtualInbound", 15006, hcm("inbound_0.0.0.0_15006", inbound_rc)),
            ],
            "clusters": [static_cluster(dest, 80), static_cluster("inbound|8080||", 8080),
                         static_cluster("BlackHoleCluster", 9)],
        },
    }
    return boot, {"0.0.0.0_8080": "GATEWAY", "virtualInbound": "SIDECAR_INBOUND"}


def local_module(v, wasm: str):
    """Every `remote` module source replaced by the built file."""
    if isinstance(v, dict):
        if "remote" in v and "sha256" in v["remote"]:
            return {"local": {"filename": wasm}}
        return {k: local_module(x, wasm) for k, x in v.items()}
    if isinstance(v, list):
        return [local_module(x, wasm) for x in v]
    return v

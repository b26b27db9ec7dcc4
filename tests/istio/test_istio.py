"""The shipped Istio manifests (envoy/istio/), without a Kubernetes cluster:

* every resource validates against Istio's CRD models (cloudcoil-models-istio,
  pydantic, generated from Istio 1.24's CRDs) and has no field those models
  do not know (Kubernetes' strict field validation would reject it);
* `kubectl apply -f envoy/istio/` applies exactly one modelmux filter;
* every EnvoyFilter patch, applied (istio_patch.py) to a bootstrap shaped
  like an Istio ingress gateway's (listener 0.0.0.0_8080, route config
  http.8080, vhost `*:80`, `outbound|80||host` clusters) next to a sidecar
  inbound listener (virtualInbound) the patches must leave alone, passes
  real Envoy's `--mode validate`: once as shipped (the module fetched over
  HTTPS) and once with the built module as a local file, so Envoy also
  loads the filter and its JSON config.

Run with `make validate-istio` (part of `make validate` / `make test`).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from cloudcoil.models.istio.extensions import v1alpha1 as extensions
from cloudcoil.models.istio.networking import v1 as networking
from cloudcoil.models.istio.networking import v1alpha3 as networking_alpha
from cloudcoil.models.istio.telemetry import v1 as telemetry

from istio_patch import apply, istio_like_bootstrap, local_module

ROOT = Path(__file__).resolve().parents[2]
ISTIO = ROOT / "envoy" / "istio"
ENVOY = os.environ.get("MODELMUX_ENVOY", str(ROOT / ".venv" / "bin" / "envoy"))
WASM = os.environ.get("MODELMUX_WASM", str(ROOT / "target/wasm32-wasip1/release/modelmux.wasm"))

MODELS = {
    ("networking.istio.io/v1alpha3", "EnvoyFilter"): networking_alpha.EnvoyFilter,
    ("networking.istio.io/v1", "Gateway"): networking.Gateway,
    ("networking.istio.io/v1", "VirtualService"): networking.VirtualService,
    ("networking.istio.io/v1", "ServiceEntry"): networking.ServiceEntry,
    ("networking.istio.io/v1", "DestinationRule"): networking.DestinationRule,
    ("extensions.istio.io/v1alpha1", "WasmPlugin"): extensions.WasmPlugin,
    ("telemetry.istio.io/v1", "Telemetry"): telemetry.Telemetry,
}


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def manifests() -> list[Path]:
    """Every resource file; patch/ holds a `kubectl patch` document."""
    return sorted(p for p in ISTIO.rglob("*.yaml") if "patch" not in p.parts)


def dropped(given, dumped, path="$") -> list[str]:
    """Paths present in `given` but lost by the model (unknown fields)."""
    if isinstance(given, dict):
        if not isinstance(dumped, dict):
            return [path]
        out = []
        for k, v in given.items():
            out += dropped(v, dumped[k], f"{path}.{k}") if k in dumped else [f"{path}.{k}"]
        return out
    if isinstance(given, list):
        if not isinstance(dumped, list) or len(dumped) != len(given):
            return [path]
        return [p for i, (a, b) in enumerate(zip(given, dumped)) for p in dropped(a, b, f"{path}[{i}]")]
    return []


def schema_problems(doc: dict) -> list[str]:
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key == ("v1", "ConfigMap"):
        extra = set(doc) - {"apiVersion", "kind", "metadata", "data"}
        bad = [k for k, v in doc.get("data", {}).items() if not isinstance(v, str)]
        return [f"ConfigMap: unknown {sorted(extra)}"] * bool(extra) + [f"data.{k} not a string" for k in bad]
    model = MODELS.get(key)
    if model is None:
        return [f"{key}: no schema for this kind"]
    try:
        parsed = model.model_validate(doc)
    except Exception as e:  # pydantic's ValidationError, with every field
        return [str(e)]
    dumped = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [f"unknown field {p}" for p in dropped(doc, dumped)]


@pytest.mark.parametrize("path", manifests(), ids=lambda p: str(p.relative_to(ISTIO)))
def test_manifests_match_istio_crd_schemas(path):
    problems = [f"{d['kind']}/{d['metadata']['name']}: {p}" for d in docs(path) for p in schema_problems(d)]
    assert problems == []


def test_schema_check_rejects_a_misspelt_field():
    doc = copy.deepcopy(next(d for d in docs(ISTIO / "modelmux.yaml") if d["kind"] == "VirtualService"))
    doc["spec"]["http"][0]["retrys"] = doc["spec"]["http"][0].pop("retries")
    assert schema_problems(doc) == ["unknown field $.spec.http[0].retrys"]
    doc = copy.deepcopy(next(d for d in docs(ISTIO / "modelmux.yaml") if d["kind"] == "EnvoyFilter"))
    doc["spec"]["configPatches"][0]["patch"]["operation"] = "INSERT_BEFOR"
    assert "operation" in schema_problems(doc)[0]


def modelmux_filters(all_docs: list[dict]) -> list[str]:
    """Where a modelmux filter is added: WasmPlugins and HTTP_FILTER patches."""
    out = []
    for d in all_docs:
        if d["kind"] == "WasmPlugin":
            out.append(f"WasmPlugin/{d['metadata']['name']}")
        for p in d.get("spec", {}).get("configPatches", []) if d["kind"] == "EnvoyFilter" else []:
            if p["applyTo"] == "HTTP_FILTER" and "wasm" in json.dumps(p["patch"].get("value", {})):
                out.append(f"EnvoyFilter/{d['metadata']['name']}")
    return out


def test_applying_the_directory_adds_exactly_one_filter():
    top = [d for p in sorted(ISTIO.glob("*.yaml")) for d in docs(p)]
    assert modelmux_filters(top) == ["EnvoyFilter/modelmux"]
    # What `kubectl apply -f envoy/istio/` also reads: nothing else.
    assert sorted(p.name for p in ISTIO.iterdir() if p.is_file()) == ["modelmux.yaml"]


def test_wasmplugin_variant_carries_the_shipped_config():
    (plugin,) = docs(ISTIO / "wasmplugin-variant" / "wasmplugin.yaml")
    assert plugin["spec"]["pluginConfig"] == json.loads((ROOT / "envoy" / "istio.json").read_text())
    assert plugin["spec"]["pluginName"] == "modelmux"


def applied(all_docs: list[dict]) -> dict:
    (vs,) = [d for d in all_docs if d["kind"] == "VirtualService"]
    boot, contexts = istio_like_bootstrap(vs)
    return apply(boot, contexts, [d for d in all_docs if d["kind"] == "EnvoyFilter"])


def envoy_validate(config: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "istio-like.json"
    path.write_text(json.dumps(config))
    env = dict(os.environ)
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.setdefault(key, "validate-placeholder")
    return subprocess.run(
        [ENVOY, "--mode", "validate", "--use-dynamic-base-id", "--log-level", "warn", "-c", str(path)],
        capture_output=True, text=True, env=env, timeout=120,
    )


def test_patches_land_where_intended():
    cfg = applied(docs(ISTIO / "modelmux.yaml"))
    gw, inbound = cfg["static_resources"]["listeners"]
    names = [f["name"] for f in gw["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]]
    assert names == ["istio.metadata_exchange_stand_in", "modelmux", "envoy.filters.http.router"]
    assert "modelmux" not in json.dumps(inbound)
    routes = gw["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
    failover = [r["match"]["headers"][0]["string_match"]["exact"] for r in routes[:2]]
    assert failover == ["stream", "json"]
    assert all(r["route"]["retry_policy"]["num_retries"] == 1 for r in routes[:2])
    main = routes[2]
    assert main["name"] == "modelmux" and "cluster" not in main["route"]
    assert main["route"]["cluster_header"] == "x-modelmux-cluster"
    assert [r["match"] for r in routes[3:]] == [{"path": "/healthz"}, {"prefix": "/"}]
    clusters = {c["name"] for c in cfg["static_resources"]["clusters"]}
    assert {"openai", "anthropic", "modelmux_smart_0", "modelmux_smart_1", "modelmux_wasm_fetch"} <= clusters


def test_shipped_patches_pass_envoy_validate(tmp_path):
    result = envoy_validate(applied(docs(ISTIO / "modelmux.yaml")), tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.mark.skipif(not Path(WASM).exists(), reason="build the module first (make wasm)")
def test_shipped_patches_load_the_filter_under_envoy_validate(tmp_path):
    result = envoy_validate(local_module(applied(docs(ISTIO / "modelmux.yaml")), WASM), tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_envoy_validate_catches_a_broken_patch(tmp_path):
    all_docs = docs(ISTIO / "modelmux.yaml")
    clusters = next(d for d in all_docs if d["metadata"]["name"] == "modelmux-clusters")
    smart = next(p["patch"]["value"] for p in clusters["spec"]["configPatches"]
                 if p["patch"]["value"]["name"] == "modelmux_smart_0")
    smart["outlier_detection"]["consecutive_5xxx"] = smart["outlier_detection"].pop("consecutive_5xx")
    result = envoy_validate(applied(all_docs), tmp_path)
    assert result.returncode != 0
    assert "consecutive_5xxx" in result.stdout + result.stderr


def test_deployment_patch_names_the_shipped_pieces():
    """The gateway patch points at the ConfigMap the render ships, keeps the
    filter's stats, and gives istio-proxy the keys the filter reads."""
    (patch,) = docs(ISTIO / "patch" / "gateway-deployment.yaml")
    (cm,) = [d for d in docs(ISTIO / "modelmux.yaml") if d["kind"] == "ConfigMap"]
    template = patch["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["sidecar.istio.io/bootstrapOverride"] == cm["metadata"]["name"]
    matcher = yaml.safe_load(annotations["proxy.istio.io/config"])["proxyStatsMatcher"]
    regexes = [re.compile(r) for r in matcher["inclusionRegexps"]]
    for stat in ("wasmcustom.modelmux.m.smart.p.openai.requests",
                 "cluster.modelmux_smart_0.outlier_detection.ejections_active",
                 "cluster.modelmux_smart_0.retry_or_shadow_abandoned"):
        assert any(r.fullmatch(stat) for r in regexes), stat
    (proxy,) = template["spec"]["containers"]
    assert proxy["name"] == "istio-proxy"
    assert proxy["envFrom"] == [{"secretRef": {"name": "modelmux-keys"}}]

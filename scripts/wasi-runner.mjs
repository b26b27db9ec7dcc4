// Cargo test runner for wasm32-wasip1: runs a test binary under Node's WASI,
// so the core's unit tests also execute compiled to the filter's target.
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import { argv, env, exit } from "node:process";

const [, , wasmPath, ...args] = argv;
const wasi = new WASI({ version: "preview1", args: [wasmPath, ...args], env, preopens: { "/": "/" }, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance));

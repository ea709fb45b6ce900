#!/usr/bin/env node
// Compiles every contract in src/ with fixed settings into build/<Name>.json.
// `node build.js --check` compiles in memory and exits 1 if a committed artifact is stale.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const SRC = path.join(__dirname, "src");
const OUT = path.join(__dirname, "build");
// py-evm's newest fork is Prague; recent solc defaults to osaka, which it cannot run.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "prague",
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"] },
  },
};

function findImports(importPath) {
  const candidates = [path.join(SRC, importPath), path.join(__dirname, "node_modules", importPath)];
  for (const file of candidates) {
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, "utf8") };
  }
  return { error: `import not found: ${importPath}` };
}

function compile() {
  const sources = {};
  for (const name of fs.readdirSync(SRC).sort()) {
    if (name.endsWith(".sol")) sources[name] = { content: fs.readFileSync(path.join(SRC, name), "utf8") };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) process.stderr.write(e.formattedMessage + "\n");
  if (errors.length) process.exit(2);
  const artifacts = {};
  for (const file of Object.keys(sources)) {
    for (const [name, c] of Object.entries(output.contracts[file])) {
      if (!c.evm.bytecode.object) continue; // interfaces and abstract contracts
      artifacts[name] = {
        contractName: name,
        sourceName: file,
        compiler: { name: "solc", version: solc.version() },
        settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
        storageLayout: c.storageLayout,
      };
    }
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes("--check");
  const artifacts = compile();
  const stale = [];
  if (!check) fs.mkdirSync(OUT, { recursive: true });
  for (const [name, artifact] of Object.entries(artifacts)) {
    const file = path.join(OUT, `${name}.json`);
    const text = JSON.stringify(artifact, null, 2) + "\n";
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
    if (current === text) continue;
    if (check) stale.push(name);
    else fs.writeFileSync(file, text);
  }
  const known = new Set(Object.keys(artifacts).map((n) => `${n}.json`));
  const orphans = fs.existsSync(OUT) ? fs.readdirSync(OUT).filter((f) => f.endsWith(".json") && !known.has(f)) : [];
  if (check) {
    if (stale.length || orphans.length) {
      console.error(`stale artifacts: ${[...stale, ...orphans].join(", ")} (run: npm --prefix contracts run build)`);
      process.exit(1);
    }
    console.log(`artifacts up to date (${Object.keys(artifacts).length} contracts, solc ${solc.version()})`);
  } else {
    for (const f of orphans) fs.unlinkSync(path.join(OUT, f));
    console.log(`built ${Object.keys(artifacts).join(", ")} with solc ${solc.version()}`);
  }
}

main();

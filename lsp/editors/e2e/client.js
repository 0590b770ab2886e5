// End-to-end test of the KNHK language server with the client library VS
// Code's own client is built on. Usage: node client.js SERVER WORKSPACE
// WORKSPACE/main.knhk must hold the scenario file written by
// lsp/e2e_test.go. Exits 0 when every step passed.
'use strict';

const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const url = require('url');
const rpc = require('vscode-jsonrpc/node');
const P = require('vscode-languageserver-protocol');

const [server, ws] = process.argv.slice(2);
const file = path.join(ws, 'main.knhk');
const uri = url.pathToFileURL(file).href;
let text = fs.readFileSync(file, 'utf8');

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
  console.log('ok   ' + msg);
}
function eqRange(r, l1, c1, l2, c2) {
  return r && r.start.line === l1 && r.start.character === c1 && r.end.line === l2 && r.end.character === c2;
}

// offsetAt converts an LSP position (UTF-16, like JS strings) to an index.
function offsetAt(s, pos) {
  const lines = s.split('\n');
  let off = 0;
  for (let i = 0; i < pos.line; i++) off += lines[i].length + 1;
  return off + pos.character;
}
function applyEdits(s, edits) {
  const sorted = [...edits].sort((a, b) => offsetAt(s, b.range.start) - offsetAt(s, a.range.start));
  for (const e of sorted) {
    s = s.slice(0, offsetAt(s, e.range.start)) + e.newText + s.slice(offsetAt(s, e.range.end));
  }
  return s;
}

setTimeout(() => fail('timed out'), 60000).unref();

async function main() {
  const proc = cp.spawn(server, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
  const diags = new Map(); // version -> diagnostics
  const waiters = [];
  conn.onNotification(P.PublishDiagnosticsNotification.type, (p) => {
    if (p.uri !== uri) return;
    diags.set(p.version, p.diagnostics);
    waiters.splice(0).forEach((w) => w());
  });
  conn.listen();
  const waitDiags = async (version) => {
    while (!diags.has(version)) await new Promise((r) => waiters.push(r));
    return diags.get(version);
  };

  const init = await conn.sendRequest(P.InitializeRequest.type, {
    processId: process.pid,
    rootUri: url.pathToFileURL(ws).href,
    capabilities: { general: { positionEncodings: ['utf-16'] }, textDocument: { hover: { contentFormat: ['markdown'] } } },
  });
  check(init.capabilities.positionEncoding === 'utf-16', 'initialize negotiates utf-16');
  check(init.capabilities.textDocumentSync.change === P.TextDocumentSyncKind.Incremental, 'incremental sync');
  await conn.sendNotification(P.InitializedNotification.type, {});

  // open -> diagnostics: the bad token # after "café 😀".
  await conn.sendNotification(P.DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'knhk', version: 1, text } });
  let ds = await waitDiags(1);
  check(ds.length === 1 && eqRange(ds[0].range, 6, 23, 6, 24) && ds[0].severity === 1, 'diagnostic on the bad token at 6:23 (after é and 😀)');

  // edit -> diagnostics cleared.
  const change = { range: { start: { line: 6, character: 22 }, end: { line: 6, character: 24 } }, text: '' };
  text = applyEdits(text, [{ range: change.range, newText: '' }]);
  await conn.sendNotification(P.DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [change] });
  ds = await waitDiags(2);
  check(ds.length === 0, 'diagnostics cleared after the edit');

  const at = (line, character) => ({ textDocument: { uri }, position: { line, character } });
  const hover = await conn.sendRequest(P.HoverRequest.type, at(7, 12));
  check(hover && /task reserve\(items: \[string\]\) -> string/.test(hover.contents.value) && /reserve books the items/.test(hover.contents.value), 'hover shows the task and its doc comment');
  check(eqRange(hover.range, 7, 10, 7, 17), 'hover range');

  let def = await conn.sendRequest(P.DefinitionRequest.type, at(8, 11));
  def = Array.isArray(def) ? def[0] : def;
  check(def && def.uri === uri && eqRange(def.range, 7, 6, 7, 7), 'definition of r');

  const comp = await conn.sendRequest(P.CompletionRequest.type, at(7, 12));
  const labels = (Array.isArray(comp) ? comp : comp.items).map((i) => i.label);
  check(labels.includes('reserve') && labels.includes('return') && labels.every((l) => l.startsWith('re')), 'completion after "re"');

  const edits = await conn.sendRequest(P.DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  check(Array.isArray(edits) && edits.length > 0, 'formatting returns edits');
  const formatted = applyEdits(text, edits);
  check(formatted.includes('\n  return r + note\n') && !formatted.includes('return   r'), 'formatting normalises spacing');

  await conn.sendRequest(P.ShutdownRequest.type);
  await conn.sendNotification(P.ExitNotification.type);
  const code = await new Promise((r) => proc.on('exit', r));
  check(code === 0, 'server exits 0 after shutdown and exit');
  conn.dispose();
}

main().catch((e) => fail(e.stack || String(e)));

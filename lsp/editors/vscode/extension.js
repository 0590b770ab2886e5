// The KNHK extension: starts `knhk lsp` over stdio and connects it to the
// editor through vscode-languageclient. Highlighting comes from the
// TextMate grammar; everything else comes from the server.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration('knhk');
  const command = config.get('server.path', 'knhk');
  const args = config.get('server.args', ['lsp']);
  return { command, args, transport: TransportKind.stdio };
}

async function start(context) {
  const clientOptions = {
    documentSelector: [{ language: 'knhk' }],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.knhk'),
    },
  };
  client = new LanguageClient('knhk', 'KNHK Language Server', serverOptions(), clientOptions);
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `KNHK: cannot start "${serverOptions().command} lsp" (${err.message}). ` +
        'Install knhk or set knhk.server.path.'
    );
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('knhk.restartServer', async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    })
  );
  await start(context);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };

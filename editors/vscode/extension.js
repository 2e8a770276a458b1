// The llmpipe extension: the grammar colours .llmp files (package.json), and
// this starts `llmpipe lsp` for everything else the checker knows.
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('llmpipe').get('path') || 'llmpipe';
  client = new LanguageClient(
    'llmpipe',
    'llmpipe',
    { command, args: ['lsp'], transport: TransportKind.stdio },
    { documentSelector: [{ scheme: 'file', language: 'llmpipe' }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

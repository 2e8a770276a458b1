// Tokenizes .llmp text with the real TextMate engine (vscode-textmate on
// Oniguruma, as VS Code does) against syntaxes/llmp.tmLanguage.json.
// UPDATE=1 rewrites the snapshot.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.join(__dirname, '..');
const grammarPath = path.join(root, 'syntaxes', 'llmp.tmLanguage.json');

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p) => new oniguruma.OnigScanner(p),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === 'source.llmp' ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  return registry.loadGrammar('source.llmp');
}

// tokenize returns, per line, [text, innermost scope] pairs (whitespace dropped)
// and the rule stack at the end of the text.
function tokenize(grammar, text) {
  let stack = vsctm.INITIAL;
  const lines = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, stack);
    const toks = [];
    for (const t of r.tokens) {
      const s = line.slice(t.startIndex, t.endIndex);
      if (s.trim() === '') continue;
      toks.push([s, t.scopes[t.scopes.length - 1]]);
    }
    lines.push(toks);
    stack = r.ruleStack;
  }
  return { lines, endStack: stack };
}

function scopeOf(lines, text) {
  for (const l of lines) for (const [s, scope] of l) if (s === text) return scope;
  return undefined;
}

test('fixture snapshot', async () => {
  const grammar = await loadGrammar();
  const text = fs.readFileSync(path.join(__dirname, 'fixtures', 'sample.llmp'), 'utf8');
  const { lines } = tokenize(grammar, text);
  const got = lines.map((l) => l.map(([s, scope]) => `${JSON.stringify(s)} ${scope}`).join('\n')).join('\n--\n') + '\n';
  const snap = path.join(__dirname, 'fixtures', 'sample.llmp.snap');
  if (process.env.UPDATE) fs.writeFileSync(snap, got);
  assert.strictEqual(got, fs.readFileSync(snap, 'utf8'));
});

test('constructs get their scopes', async () => {
  const grammar = await loadGrammar();
  const text = fs.readFileSync(path.join(__dirname, 'fixtures', 'sample.llmp'), 'utf8');
  const { lines } = tokenize(grammar, text);
  const want = {
    'source': 'keyword.declaration.llmp',
    'people': 'entity.name.type.llmp',
    'jsonl': 'variable.other.property.llmp',
    '# paths are relative': 'comment.line.number-sign.llmp',
    '{{': 'punctuation.section.embedded.begin.llmp',
    'if': 'keyword.control.template.llmp',
    'check': 'keyword.control.check.llmp',
    '30s': 'constant.numeric.duration.llmp',
    '$2.50': 'constant.numeric.money.llmp',
    'nil': 'constant.language.llmp',
    'len': 'entity.name.function.llmp',
    '#': 'variable.language.closure-argument.llmp',
  };
  for (const [t, scope] of Object.entries(want)) {
    assert.strictEqual(scopeOf(lines, t), scope, `scope of ${t}`);
  }
});

// Every example pipeline tokenizes to its end with no string or hole left
// open, and its block keywords are recognised.
test('example pipelines', async () => {
  const grammar = await loadGrammar();
  const dir = path.join(root, '..', '..', 'pipelines');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.llmp'));
  assert.ok(files.length > 0, 'no pipelines found');
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const { lines, endStack } = tokenize(grammar, text);
    assert.ok(endStack.equals(vsctm.INITIAL) || endStack.depth === 1, `${f}: a region is still open at the end`);
    const src = text.split('\n');
    src.forEach((line, i) => {
      const m = line.match(/^(source|schema|ladder|step|sink|config|model|cache|test)\b/);
      if (m) {
        assert.strictEqual(lines[i][0][1], 'keyword.declaration.llmp', `${f}:${i + 1}: ${m[1]} not a keyword`);
      }
    });
  }
});

// The official JavaScript SDK (@google/genai), unchanged, against the
// simulator: batches (inline and file input), list, cancel, delete, and
// the Files API (resumable upload, get, download, delete). SIM_URL is the
// simulator's base URL; the Go test TestJSGenAI starts one and runs this.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';

const model = 'gemini-2.5-flash';
const ai = new GoogleGenAI({ apiKey: 'test', httpOptions: { baseUrl: process.env.SIM_URL } });
const schema = { type: 'OBJECT', properties: { name: { type: 'STRING' }, age: { type: 'INTEGER' } }, required: ['name'] };

async function wait(name) {
  for (let i = 0; i < 500; i++) {
    const job = await ai.batches.get({ name });
    if (job.state !== 'JOB_STATE_PENDING' && job.state !== 'JOB_STATE_RUNNING') return job;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${name} never ended`);
}

// Inline input, inline output, metadata echoed.
let job = await ai.batches.create({
  model,
  src: [
    { contents: [{ role: 'user', parts: [{ text: 'Extract: Ann Lee is 34.' }] }], metadata: { key: 'a1' },
      config: { responseMimeType: 'application/json', responseSchema: schema } },
    { contents: [{ role: 'user', parts: [{ text: 'Extract: Bo Chen is 51.' }] }], metadata: { key: 'b2' } },
  ],
  config: { displayName: 'js-inline' },
});
assert.match(job.name, /^batches\/[a-z0-9]+$/);
assert.equal(job.state, 'JOB_STATE_PENDING');
assert.equal(job.displayName, 'js-inline');
job = await wait(job.name);
assert.equal(job.state, 'JOB_STATE_SUCCEEDED');
const inl = job.dest.inlinedResponses;
assert.deepEqual(inl.map((r) => r.metadata.key), ['a1', 'b2']);
assert.equal(typeof JSON.parse(inl[0].response.candidates[0].content.parts[0].text).name, 'string');
assert.ok(inl[0].response.usageMetadata.promptTokenCount > 0);

// File input through a resumable upload, file output downloaded.
const lines = ['c3', 'd4'].map((key) => JSON.stringify({ key, request: {
  contents: [{ role: 'user', parts: [{ text: `Extract: person ${key}.` }] }],
  generation_config: { response_mime_type: 'application/json', response_schema: schema },
} })).join('\n') + '\n';
const file = await ai.files.upload({
  file: new Blob([lines], { type: 'application/jsonl' }),
  config: { mimeType: 'application/jsonl', displayName: 'js-input' },
});
assert.match(file.name, /^files\//);
assert.equal(file.sizeBytes, String(Buffer.byteLength(lines)));
assert.equal((await ai.files.get({ name: file.name })).displayName, 'js-input');
job = await ai.batches.create({ model, src: file.name, config: { displayName: 'js-file' } });
job = await wait(job.name);
assert.equal(job.state, 'JOB_STATE_SUCCEEDED');
assert.equal(job.dest.fileName, 'files/batch-' + job.name.slice('batches/'.length));
const path = join(mkdtempSync(join(tmpdir(), 'genai-js-')), 'results.jsonl');
await ai.files.download({ file: job.dest.fileName, downloadPath: path });
const results = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
assert.deepEqual(results.map((r) => r.key), ['c3', 'd4']);
assert.ok(results.every((r) => r.response.candidates[0].content.parts[0].text.length > 0));

// List pages through every job, newest first.
const names = [];
const pager = await ai.batches.list({ config: { pageSize: 1 } });
for await (const j of pager) names.push(j.displayName);
assert.deepEqual(names, ['js-file', 'js-inline']);

// Cancel a live job, delete jobs and files.
const live = await ai.batches.create({ model, src: file.name, config: { displayName: 'js-cancel' } });
await ai.batches.cancel({ name: live.name });
assert.equal((await ai.batches.get({ name: live.name })).state, 'JOB_STATE_CANCELLED');
await ai.batches.delete({ name: live.name });
await assert.rejects(ai.batches.get({ name: live.name }), /404|not found/i);
await ai.files.delete({ name: file.name });
await ai.files.delete({ name: job.dest.fileName });
await assert.rejects(ai.files.get({ name: file.name }), /404|not found/i);
console.log('ok');

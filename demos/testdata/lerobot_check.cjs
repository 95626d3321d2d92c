// Reads a LeRobot v3.0 dataset written by tandem with DuckDB (its own
// parquet reader, not ours) and checks it against meta/info.json. Prints
// one JSON object: {"ok": true, ...} or {"ok": false, "errors": [...]}.
// Run by demos/lerobot_reader_test.go: node lerobot_check.cjs DATASET_DIR
// (with @duckdb/node-api on NODE_PATH).
const fs = require('fs');
const path = require('path');
const { DuckDBInstance } = require('@duckdb/node-api');

const dir = process.argv[2];
const info = JSON.parse(fs.readFileSync(path.join(dir, 'meta', 'info.json'), 'utf8'));
const errors = [];
const check = (cond, msg) => { if (!cond) errors.push(msg); };
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
const data = path.join(dir, 'data', 'chunk-000', 'file-000.parquet');
const epsFile = path.join(dir, 'meta', 'episodes', 'chunk-000', 'file-000.parquet');
const tasksFile = path.join(dir, 'meta', 'tasks.parquet');

// DuckDB's type for each LeRobot dtype of shape [1], and of vectors.
const scalarType = { float32: 'FLOAT', int64: 'BIGINT', bool: 'BOOLEAN', string: 'VARCHAR' };

(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const all = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();

  // Columns and types against info.json's features.
  const cols = await all(`DESCRIBE SELECT * FROM read_parquet(${q(data)})`);
  const types = Object.fromEntries(cols.map((r) => [r.column_name, r.column_type]));
  const features = info.features;
  check(JSON.stringify(Object.keys(types).sort()) === JSON.stringify(Object.keys(features).sort()),
    `columns ${Object.keys(types)} != features ${Object.keys(features)}`);
  for (const [name, f] of Object.entries(features)) {
    const want = f.shape[0] === 1 && !['observation.state', 'action'].includes(name)
      ? scalarType[f.dtype] : scalarType[f.dtype] + '[]';
    check(types[name] === want, `column ${name}: type ${types[name]}, want ${want} (dtype ${f.dtype}, shape ${f.shape})`);
    if (f.names) check(f.names.length === f.shape[0], `feature ${name}: ${f.names.length} names for shape ${f.shape}`);
  }
  // Every vector row has exactly the feature's length.
  for (const name of ['observation.state', 'action']) {
    const [r] = await all(`SELECT min(len("${name}")) AS lo, max(len("${name}")) AS hi FROM read_parquet(${q(data)})`);
    check(Number(r.lo) === features[name].shape[0] && Number(r.hi) === features[name].shape[0],
      `${name}: lengths ${r.lo}..${r.hi}, want ${features[name].shape[0]}`);
  }
  // Counts and indexes.
  const [d] = await all(`SELECT count(*) AS n, count(DISTINCT episode_index) AS eps, min("index") AS lo, max("index") AS hi,
    max(abs(timestamp - frame_index / ${info.fps}::DOUBLE)) AS dt, count(DISTINCT task_index) AS tasks
    FROM read_parquet(${q(data)})`);
  check(Number(d.n) === info.total_frames, `frames ${d.n}, info says ${info.total_frames}`);
  check(Number(d.eps) === info.total_episodes, `episodes in data ${d.eps}, info says ${info.total_episodes}`);
  check(Number(d.lo) === 0 && Number(d.hi) === info.total_frames - 1, `index ${d.lo}..${d.hi}, want 0..${info.total_frames - 1}`);
  check(Number(d.dt) < 1e-4, `timestamp differs from frame_index/fps by ${d.dt}`);
  check(Number(d.tasks) === info.total_tasks, `task indexes ${d.tasks}, info says ${info.total_tasks}`);
  // Per episode: frames 0..length-1, contiguous global indexes.
  const bad = await all(`SELECT episode_index FROM read_parquet(${q(data)}) GROUP BY episode_index
    HAVING min(frame_index) != 0 OR max(frame_index) != count(*) - 1 OR max("index") - min("index") != count(*) - 1`);
  check(bad.length === 0, `episodes with gaps: ${JSON.stringify(bad)}`);
  // meta/episodes agrees with the data.
  const [e] = await all(`SELECT count(*) AS n, sum(length) AS frames FROM read_parquet(${q(epsFile)})`);
  check(Number(e.n) === info.total_episodes && Number(e.frames) === info.total_frames,
    `meta/episodes: ${e.n} rows, ${e.frames} frames; info says ${info.total_episodes}, ${info.total_frames}`);
  const mism = await all(`SELECT m.episode_index FROM read_parquet(${q(epsFile)}) m
    JOIN (SELECT episode_index, count(*) AS n, min("index") AS lo FROM read_parquet(${q(data)}) GROUP BY 1) x USING (episode_index)
    WHERE m.length != x.n OR m.dataset_from_index != x.lo OR m.dataset_to_index != x.lo + x.n`);
  check(mism.length === 0, `meta/episodes rows disagreeing with the data: ${JSON.stringify(mism)}`);
  const [t] = await all(`SELECT count(*) AS n FROM read_parquet(${q(tasksFile)})`);
  check(Number(t.n) === info.total_tasks, `tasks.parquet: ${t.n} rows, info says ${info.total_tasks}`);
  // The huggingface key-value metadata that fixes the list lengths.
  const kv = await all(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${q(data)})`);
  const hf = kv.find((r) => r.k === 'huggingface');
  check(hf !== undefined, 'no huggingface key-value metadata');
  if (hf) {
    const hff = JSON.parse(hf.v).info.features;
    for (const name of ['observation.state', 'action']) {
      check(hff[name] && hff[name].length === features[name].shape[0], `huggingface ${name}: ${JSON.stringify(hff[name])}`);
    }
  }
  console.log(JSON.stringify({ ok: errors.length === 0, errors, frames: Number(d.n), episodes: Number(d.eps) }));
})().catch((err) => {
  console.log(JSON.stringify({ ok: false, errors: [String(err)] }));
});

// npm run bench:derive — `memloss build` over every shipped rule in a cold process (goal:
// under 4 s wall, verification included), the per-rule derivation time, and, where python3 with SymPy is present,
// the same derivation done by hand in SymPy as the peer (goal: memloss ≥ 20× faster).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const wall = (cmd, args) => {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return { ms: performance.now() - t0, stdout: r.stdout };
};

const out = mkdtempSync(join(tmpdir(), 'memloss-bench-'));
try {
  // 1. the whole build, cold process each round
  const builds = [];
  let perRule = '';
  for (let i = 0; i < ROUNDS; i++) {
    const r = wall(process.execPath, ['bin/memloss.js', 'build', '--out', out]);
    builds.push(r.ms);
    perRule = r.stdout;
  }
  console.log(`memloss build, all shipped rules, cold process: median ${median(builds).toFixed(0)} ms over ${ROUNDS} rounds (goal < 4000 ms, verification included)`);
  console.log('per-rule time, derivation with its verification against the oracle (last round):');
  for (const line of perRule.trim().split('\n')) console.log(`  ${line}`);

  // 2. one rule, cold process, against SymPy doing the same derivation
  let sympy = false;
  try {
    execFileSync('python3', ['-c', 'import sympy'], { stdio: 'ignore' });
    sympy = true;
  } catch {
    console.log('\npython3 with sympy not found: no peer ratio printed');
  }
  if (sympy) {
    console.log('\nthe same derivation against SymPy (median of rounds; each round a fresh process):');
    console.log('  rule        derivation only: memloss / SymPy = ratio      whole process: memloss / SymPy = ratio');
    for (const rule of ['heavy-ball', 'adam']) {
      const once = Array.from({ length: ROUNDS }, () => JSON.parse(wall(process.execPath, ['bench/derive-once.mjs', `rules/${rule}.rule`]).stdout));
      const oursDerive = median(once.map((r) => r.derive));
      const oursProcess = median(Array.from({ length: ROUNDS }, () => wall(process.execPath, ['bin/memloss.js', 'derive', `rules/${rule}.rule`, '--format', 'json']).ms));
      const runs = Array.from({ length: 3 }, () => JSON.parse(wall('python3', ['bench/sympy_derivation.py', rule]).stdout));
      const theirsProcess = median(runs.map((r) => r.seconds * 1000));
      const theirsDerive = median(runs.map((r) => (r.seconds - r.import_seconds) * 1000));
      const f = (x) => x.toFixed(0).padStart(5);
      console.log(`  ${rule.padEnd(10)}  ${f(oursDerive)} ms / ${f(theirsDerive)} ms = ${(theirsDerive / oursDerive).toFixed(1).padStart(5)}×        ${f(oursProcess)} ms / ${f(theirsProcess)} ms = ${(theirsProcess / oursProcess).toFixed(1).padStart(4)}×`);
    }
    console.log('  goal: ≥ 20× on the derivation. The whole-process column is dominated by start-up:');
    console.log('  Node plus memloss\'s modules against Python plus SymPy\'s import.');
    console.log('  (memloss also emits LaTeX/HTML, checks every rewrite at random points, and finds the potential and verdict;');
    console.log('   the SymPy peer only computes the weight of M.)');
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

// `ddpm bench --peers`: loads the peer engines into the page (dynamic imports, so the harness
// page carries them only when asked) and times each workload in each of them right after ours.

import type { Workload } from '../workload.ts';
import { measurePeer, PEER_NAMES, type PeerEngine, type PeerEntry, type PeerName } from './common.ts';

export { PEER_NAMES, type PeerName } from './common.ts';

export const PEER_TIMING =
  'peers: the same rep loop as ours (bench/WORKLOADS.md): the same warm-up and timed rep counts, each rep ' +
  "waits for the peer's queue to be idle, issues the work, reads back Σ sum(output_i) (the loss for the train " +
  "step) — tfjs: await t.data(); jax-js: await a.data() — then awaits the peer device's onSubmittedWorkDone(); " +
  'ms = median of the timed reps, first_call_ms = the first warm-up rep; ratio = peer ms / our ms (above 1: ours is faster)';

/** A peer that started, or the reason it did not. */
export interface LoadedPeer {
  name: PeerName;
  engine: PeerEngine | null;
  info: Record<string, unknown>;
}

async function create(name: PeerName): Promise<PeerEngine> {
  if (name === 'tfjs') return (await import('./tfjs.ts')).createTfjsPeer();
  return (await import('./jax.ts')).createJaxPeer();
}

export function parsePeers(list: string): PeerName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = names.filter((n) => !(PEER_NAMES as readonly string[]).includes(n));
  if (bad.length > 0) throw new Error(`unknown peer(s) ${bad.join(', ')}: use ${PEER_NAMES.join(', ')}`);
  return [...new Set(names)] as PeerName[];
}

export async function loadPeers(names: readonly PeerName[]): Promise<LoadedPeer[]> {
  const out: LoadedPeer[] = [];
  for (const name of names) {
    try {
      const engine = await create(name);
      out.push({ name, engine, info: engine.describe() });
    } catch (e) {
      const reason = `${name} did not start: ${e instanceof Error ? e.message : String(e)}`;
      console.warn(`bench: ${reason}`);
      out.push({ name, engine: null, info: { error: reason } });
    }
  }
  return out;
}

/** Each peer's timing of `w` (ours took `oursMs`), or its reason for having none. */
export async function measurePeers(peers: readonly LoadedPeer[], w: Workload, oursMs: number): Promise<Partial<Record<PeerName, PeerEntry>>> {
  const out: Partial<Record<PeerName, PeerEntry>> = {};
  for (const p of peers) {
    if (!p.engine) {
      out[p.name] = { reason: String(p.info.error) };
      continue;
    }
    const pw = p.engine.workload(w.name);
    if (typeof pw === 'string') {
      out[p.name] = { reason: pw };
      continue;
    }
    try {
      const m = await measurePeer(p.engine, pw, w, oursMs, w.flops);
      out[p.name] = m;
      console.info(`bench ${w.name} [${p.name}]: ${m.ms} ms wall (×${m.ratio.toFixed(2)} ours), first call ${m.first_call_ms} ms`);
    } catch (e) {
      const reason = `${p.name} failed: ${e instanceof Error ? e.message : String(e)}`;
      console.warn(`bench ${w.name}: ${reason}`);
      out[p.name] = { reason };
    }
  }
  return out;
}

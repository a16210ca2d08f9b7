// Engine start-up for a session: a fresh device (or the page's running one), and what becomes of
// it: ready, unavailable (no WebGPU), or lost.

import { currentRuntime, initEngine, type DeviceLostDetail, type DeviceReport } from '../engine/index.ts';
import { errorMessage } from './images.ts';

export type { DeviceReport };

export type EngineStatus =
  | { kind: 'starting' }
  | { kind: 'ready'; report: DeviceReport }
  | { kind: 'unavailable'; message: string }
  | { kind: 'lost'; report: DeviceReport | null; reason: string; message: string };

export type LostEngine = Extract<EngineStatus, { kind: 'lost' }>;

export interface EngineHandlers {
  /** The device is gone, and everything on it (trainers, models). */
  onLost(status: LostEngine): void;
  /** An uncaptured GPU validation or out-of-memory error. */
  onGpuError(message: string): void;
}

/**
 * Starts the engine on a new device, or with `reuse` attaches to the page's running engine
 * (the harness page starts it before anything else), and reports its later loss or errors.
 */
export async function startEngine(handlers: EngineHandlers, reuse = false): Promise<EngineStatus> {
  try {
    const running = reuse ? currentRuntime() : null;
    const rt = running && !running.lost ? running : await initEngine();
    rt.addEventListener('devicelost', (e) => {
      const detail = (e as CustomEvent<DeviceLostDetail>).detail;
      handlers.onLost({ kind: 'lost', report: rt.report, reason: detail.reason, message: detail.message });
    });
    rt.addEventListener('gpuerror', (e) => handlers.onGpuError((e as CustomEvent<{ message: string }>).detail.message));
    return { kind: 'ready', report: rt.report };
  } catch (e) {
    return { kind: 'unavailable', message: errorMessage(e) };
  }
}

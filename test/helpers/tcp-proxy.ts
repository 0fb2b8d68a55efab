/**
 * A TCP proxy that cuts connections: every connection is dropped (both sides destroyed) once `cutEvery` bytes went
 * from the upstream to the client on it. Before the next connection is forwarded after a cut, `onCut` (if any) is
 * awaited — a test uses it to change the object between a cut and the resumed read.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CuttingProxy {
  port: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Bytes forwarded downstream, all connections. */
  readonly bytes: number;
  /** Change the cut size (0 = never cut). */
  cutEvery: number;
  onCut: (() => Promise<void>) | null;
  stop(): Promise<void>;
}

export async function startCuttingProxy(
  upstreamPort: number,
  cutEvery: number,
  upstreamHost = '127.0.0.1',
): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  let pendingCut: Promise<void> | null = null;
  const state: CuttingProxy = {
    port: 0,
    cuts: 0,
    bytes: 0,
    cutEvery,
    onCut: null,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.pause();
    const start = async () => {
      if (pendingCut) await pendingCut;
      const up = connect(upstreamPort, upstreamHost);
      sockets.add(up);
      let sent = 0;
      const close = () => {
        client.destroy();
        up.destroy();
        sockets.delete(client);
        sockets.delete(up);
      };
      client.on('data', (d) => up.write(d));
      up.on('data', (d: Buffer) => {
        const limit = state.cutEvery;
        if (limit > 0 && sent + d.length >= limit) {
          const part = d.subarray(0, limit - sent);
          client.write(part);
          (state as { bytes: number }).bytes += part.length;
          (state as { cuts: number }).cuts++;
          if (state.onCut) pendingCut = state.onCut().finally(() => (pendingCut = null));
          close();
          return;
        }
        sent += d.length;
        (state as { bytes: number }).bytes += d.length;
        client.write(d);
      });
      client.on('error', close);
      up.on('error', close);
      client.on('close', close);
      up.on('close', close);
      client.resume();
    };
    void start();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  state.port = typeof addr === 'object' && addr ? addr.port : 0;
  return state;
}

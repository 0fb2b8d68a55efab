/**
 * Samples the target for the stats API: keys in every db (INFO keyspace, summed over masters on a cluster) over
 * ioredis control connections, separate from the write path.
 */
import type { Cluster, Redis } from 'ioredis';
import { keyspaceTotal } from '../target/index.ts';

export class TargetSampler {
  private constructor(
    private readonly client: Redis | Cluster,
    private readonly cluster: boolean,
  ) {
    this.client.on('error', () => {
      /* a failed sample keeps the last value; the writer reports real failures */
    });
  }

  /** ioredis is loaded here, not at start-up: the file import path (CLI) never samples and need not carry it. */
  static async open(addrs: string, password: string | undefined, cluster: boolean): Promise<TargetSampler> {
    const { Cluster, Redis } = await import('ioredis');
    const nodes = addrs
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean)
      .map((a) => {
        const i = a.lastIndexOf(':');
        return { host: i > 0 ? a.slice(0, i) : a, port: i > 0 ? Number(a.slice(i + 1)) : 6379 };
      });
    const common = { password, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true };
    const client = cluster
      ? new Cluster(nodes, { redisOptions: common, lazyConnect: true })
      : new Redis({ ...nodes[0], ...common, retryStrategy: () => null });
    return new TargetSampler(client, cluster);
  }

  /** Keys on the target now. */
  async keys(): Promise<number> {
    if (this.cluster) {
      const client = this.client as Cluster;
      if (client.status === 'wait') await client.connect();
      const masters = client.nodes('master');
      const infos = await Promise.all(masters.map((m) => m.info('keyspace')));
      return infos.reduce((s, i) => s + keyspaceTotal(i), 0);
    }
    if (this.client.status === 'wait') await this.client.connect();
    return keyspaceTotal(await this.client.info('keyspace'));
  }

  close(): void {
    this.client.disconnect();
  }
}

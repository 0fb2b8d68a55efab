/** Reading `INFO` replies (protocol text, never user data): the one place for their field and keyspace formats. */

/** A `name:value` field of an INFO section. */
export function infoField(info: string, name: string): string | undefined {
  return new RegExp(`(?:^|\\n)${name}:([^\\r\\n]*)`).exec(info)?.[1];
}

/** Keys over every db from `INFO keyspace` (`db<n>:keys=<k>,…` lines). */
export function keyspaceTotal(info: string): number {
  let n = 0;
  for (const m of info.matchAll(/^db\d+:keys=(\d+)/gm)) n += Number(m[1]);
  return n;
}

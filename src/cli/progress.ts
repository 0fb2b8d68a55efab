/**
 * A one-line progress bar on a terminal (stderr), silent otherwise; the summary is always printed.
 */
export interface ProgressLine {
  update(done: number, total: number | null, detail: string): void;
  end(): void;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr): ProgressLine {
  if (!stream.isTTY) return { update() {}, end() {} };
  let drawn = false;
  return {
    update(done, total, detail) {
      const width = 30;
      const frac = total ? Math.min(1, done / total) : 0;
      const bar = total
        ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(1).padStart(5)}% `
        : '';
      stream.write(`\r\x1b[2K${bar}${detail}`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Zip archives written by a real zip writer (Python's zipfile; python3 is on every machine of this project) in the
 * layouts that matter for a streaming reader: to a seekable file (sizes in the local headers) or to a pipe (data
 * descriptors, sizes only after the data — even for stored members), deflated or stored, optionally zip64.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ZipOptions {
  /** Write to a pipe (unseekable): every member gets a data descriptor. */
  pipe?: boolean;
  stored?: boolean;
  zip64?: boolean;
}

const SCRIPT = `
import json, sys, zipfile
spec = json.load(open(sys.argv[1]))
class Pipe:
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): self.f.flush()
out = open(spec['out'], 'wb')
target = Pipe(out) if spec['pipe'] else out
method = zipfile.ZIP_STORED if spec['stored'] else zipfile.ZIP_DEFLATED
with zipfile.ZipFile(target, 'w', method) as z:
    for name, path in spec['files']:
        info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
        info.compress_type = method
        with open(path, 'rb') as src, z.open(info, 'w', force_zip64=spec['zip64']) as dst:
            dst.write(src.read())
out.close()
`;

export function makeZip(files: [string, Buffer][], opts: ZipOptions = {}): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'dcs-zip-'));
  try {
    const paths = files.map(([name, data], i) => {
      const p = join(dir, `f${i}`);
      writeFileSync(p, data);
      return [name, p];
    });
    const out = join(dir, 'out.zip');
    writeFileSync(
      join(dir, 'spec.json'),
      JSON.stringify({ out, files: paths, pipe: !!opts.pipe, stored: !!opts.stored, zip64: !!opts.zip64 }),
    );
    writeFileSync(join(dir, 'make.py'), SCRIPT);
    execFileSync('python3', [join(dir, 'make.py'), join(dir, 'spec.json')]);
    return execFileSync('cat', [out], { maxBuffer: 1 << 30 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

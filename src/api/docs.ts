/**
 * Live API docs, public like /healthz: `GET /openapi.yaml` is the contract itself, `GET /docs` an interactive
 * reference (Swagger UI, served from the swagger-ui-dist package: no CDN, works offline). The spec's server URL is
 * `/`, so "Try it out" calls this same server.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Router } from 'express';

const UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The only files of the package that are served. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>dcs-migrate API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: the default would send the spec to an online validator.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.yaml',
  dom_id: '#swagger-ui',
  deepLinking: true,
  displayOperationId: true,
  validatorUrl: null,
});
`;

export function docsRouter(specPath: string): Router {
  const r = Router();
  const spec = readFileSync(specPath);
  r.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml; charset=utf-8').send(spec);
  });
  r.get('/docs', (_req, res) => {
    res.type('text/html; charset=utf-8').send(PAGE);
  });
  r.get('/docs/init.js', (_req, res) => {
    res.type('text/javascript; charset=utf-8').send(INIT);
  });
  r.get('/docs/:asset', (req, res, next) => {
    const type = ASSETS[req.params.asset];
    if (!type) return next();
    res.type(type).sendFile(join(UI_DIR, req.params.asset), { maxAge: '1h' });
  });
  return r;
}
